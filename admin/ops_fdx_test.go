package admin_test

import (
	"net/http"
	"testing"
)

// TestOpsAccountInterestRate is issue 13 §1: a loan's or line of credit's
// interest rate is account data the bank keeps up to date (FDX requires
// it), so the operator API sets and clears it; the store's rules (a known
// type, a rate from 0 to 100, no rate without a type) answer 422 naming
// the field.
func TestOpsAccountInterestRate(t *testing.T) {
	e := newEnv(t)
	bg, le := e.seedGroup("bg_rates")
	id := e.seedAccount(bg, le, "00012-003-7777001")
	path := "/ops/v1/accounts/" + id
	r := e.must(http.StatusOK, e.operator, http.MethodPatch, path, map[string]any{"interestRate": 7.45, "interestRateType": "VARIABLE"})
	if r.get("interestRate") != 7.45 || r.str("interestRateType") != "VARIABLE" {
		t.Fatalf("after setting: %s", r.Raw)
	}
	a, err := e.st.GetAccount(t.Context(), id)
	if err != nil || a.InterestRate.String() != "7.45" || a.InterestRateType != "VARIABLE" {
		t.Fatalf("stored %s %q (%v)", a.InterestRate, a.InterestRateType, err)
	}
	for _, bad := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"unknown type", map[string]any{"interestRate": 5, "interestRateType": "FLOATING"}, "interestRateType"},
		{"negative", map[string]any{"interestRate": -1, "interestRateType": "FIXED"}, "interestRate"},
		{"over 100", map[string]any{"interestRate": 100.5, "interestRateType": "FIXED"}, "interestRate"},
		{"a rate without its type", map[string]any{"interestRateType": ""}, "interestRateType"},
	} {
		r := e.call(e.operator, http.MethodPatch, path, bad.body)
		if r.Status != http.StatusUnprocessableEntity || r.str("errors.0.field") != bad.field {
			t.Errorf("%s = %d %s, want 422 naming %s", bad.name, r.Status, r.Raw, bad.field)
		}
	}
	r = e.must(http.StatusOK, e.operator, http.MethodPatch, path, map[string]any{"interestRate": 0, "interestRateType": ""})
	if r.get("interestRate") != nil || r.get("interestRateType") != nil {
		t.Fatalf("after clearing: %s", r.Raw)
	}
}

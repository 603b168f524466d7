package ops_test

import (
	"net/http"
	"strings"
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
	if r.Get("interestRate") != 7.45 || r.Str("interestRateType") != "VARIABLE" {
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
		if r.Status != http.StatusUnprocessableEntity || r.Str("errors.0.field") != bad.field {
			t.Errorf("%s = %d %s, want 422 naming %s", bad.name, r.Status, r.Raw, bad.field)
		}
	}
	r = e.must(http.StatusOK, e.operator, http.MethodPatch, path, map[string]any{"interestRate": 0, "interestRateType": ""})
	if r.Get("interestRate") != nil || r.Get("interestRateType") != nil {
		t.Fatalf("after clearing: %s", r.Raw)
	}
}

// TestOpsLegalEntityContact is issue 13 §2: FDX AccountContact answers with
// the holder's address, e-mail and telephone, which the bank's core
// systems keep on the legal entity: create and PATCH take a contact (a
// PATCH replaces it whole), each bad field a 422 naming it; a business
// group has none.
func TestOpsLegalEntityContact(t *testing.T) {
	e := newEnv(t)
	bg, le := e.seedGroup("bg_contact")
	contact := map[string]any{"addressLine1": "100 King St W", "addressLine2": "Suite 5700", "city": "Toronto", "region": "ON",
		"postalCode": "M5X 1C7", "country": "CA", "email": "ap@acme.example", "phone": "+14165550100", "language": "fr"}
	r := e.must(http.StatusOK, e.operator, http.MethodPatch, "/ops/v1/legal-entities/"+le, map[string]any{"contact": contact})
	if r.Str("contact.city") != "Toronto" || r.Str("contact.phone") != "+14165550100" {
		t.Fatalf("after PATCH: %s", r.Raw)
	}
	got, err := e.st.GetLegalEntity(t.Context(), le)
	if err != nil || got.Contact.AddressLine1 != "100 King St W" || got.Contact.Email != "ap@acme.example" || got.Contact.PostalCode != "M5X 1C7" || got.Contact.Language != "fr" {
		t.Fatalf("stored %+v (%v)", got.Contact, err)
	}
	r = e.must(http.StatusCreated, e.operator, http.MethodPost, "/ops/v1/legal-entities", map[string]any{"businessGroupId": bg, "name": "Two",
		"contact": map[string]any{"addressLine1": "1 Rue X", "city": "Montréal", "country": "CA"}})
	if created, err := e.st.GetLegalEntity(t.Context(), r.Str("id")); err != nil || created.Contact.City != "Montréal" {
		t.Fatalf("created %+v (%v)", created.Contact, err)
	}
	for _, bad := range []struct {
		name, key string
		value     any
		field     string
	}{
		{"phone not E.164", "phone", "416-555-0100", "contact.phone"},
		{"e-mail without @", "email", "accounts", "contact.email"},
		{"country not ISO 3166 alpha-2", "country", "Canada", "contact.country"},
		{"postal code too long", "postalCode", "12345678901", "contact.postalCode"},
		{"address line too long", "addressLine1", strings.Repeat("x", 65), "contact.addressLine1"},
		{"language the bank does not write", "language", "de", "contact.language"},
	} {
		c := map[string]any{}
		for k, v := range contact {
			c[k] = v
		}
		c[bad.key] = bad.value
		r := e.call(e.operator, http.MethodPatch, "/ops/v1/legal-entities/"+le, map[string]any{"contact": c})
		if r.Status != http.StatusUnprocessableEntity || r.Str("errors.0.field") != bad.field {
			t.Errorf("%s = %d %s, want 422 naming %s", bad.name, r.Status, r.Raw, bad.field)
		}
	}
	r = e.call(e.operator, http.MethodPatch, "/ops/v1/business-groups/"+bg, map[string]any{"contact": contact})
	if r.Status != http.StatusUnprocessableEntity || r.Str("errors.0.field") != "contact" {
		t.Errorf("business group contact = %d %s, want 422 naming contact", r.Status, r.Raw)
	}
	if got, _ := e.st.GetLegalEntity(t.Context(), le); got.Contact.Phone != "+14165550100" {
		t.Fatalf("a refused PATCH changed the contact: %+v", got.Contact)
	}
}

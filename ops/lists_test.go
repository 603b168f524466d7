package ops_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/bankfeed/bankfeed/internal/apihttp/apitest"
)

// TestOpsListAccountsFilters: GET /ops/v1/accounts filters by business
// group, legal entity and status, refuses a bad status or limit, and pages
// every account once.
func TestOpsListAccountsFilters(t *testing.T) {
	e := newEnv(t)
	op := e.operator
	e.must(http.StatusOK, op, http.MethodPost, "/ops/v1/accounts/"+e.acc2+"/close", map[string]any{"closedOn": "2025-03-01"})
	le2b := e.must(http.StatusCreated, op, http.MethodPost, "/ops/v1/legal-entities", map[string]any{"businessGroupId": e.bg1, "name": "Second"}).Str("id")
	acc4 := e.must(http.StatusCreated, op, http.MethodPost, "/ops/v1/accounts", map[string]any{"legalEntityId": le2b,
		"number": "00012-003-1000004", "type": "savings", "currency": "usd"}).Str("id")
	ids := func(path string) []string {
		t.Helper()
		var out []string
		for _, it := range e.must(http.StatusOK, op, http.MethodGet, path, nil).Items() {
			out = append(out, it["id"].(string))
		}
		slices.Sort(out)
		return out
	}
	sorted := func(v ...string) []string { slices.Sort(v); return v }
	for path, want := range map[string][]string{
		"/ops/v1/accounts?businessGroupId=" + e.bg1:                  sorted(e.acc1, e.acc2, acc4),
		"/ops/v1/accounts?legalEntityId=" + e.le1:                    sorted(e.acc1, e.acc2),
		"/ops/v1/accounts?legalEntityId=" + le2b:                     {acc4},
		"/ops/v1/accounts?businessGroupId=" + e.bg1 + "&status=open": sorted(e.acc1, acc4),
		"/ops/v1/accounts?status=CLOSED":                             {e.acc2},
		"/ops/v1/accounts?businessGroupId=" + e.bg2:                  {e.acc3},
		"/ops/v1/accounts?businessGroupId=bg_nope":                   nil,
	} {
		if got := ids(path); !slices.Equal(got, want) {
			t.Errorf("%s = %v, want %v", path, got, want)
		}
	}
	apitest.ProblemIs(t, e.call(op, http.MethodGet, "/ops/v1/accounts?status=frozen", nil), http.StatusBadRequest, "bad-request", "")
	apitest.ProblemIs(t, e.call(op, http.MethodGet, "/ops/v1/accounts?limit=1001", nil), http.StatusBadRequest, "bad-request", "limit")
	// Keyset paging walks every account once.
	var seen []string
	next := ""
	for range 10 {
		r := e.must(http.StatusOK, op, http.MethodGet, "/ops/v1/accounts?limit=1&after="+next, nil)
		for _, it := range r.Items() {
			seen = append(seen, it["id"].(string))
		}
		if next = r.Str("next"); next == "" {
			break
		}
	}
	if got := sorted(seen...); !slices.Equal(got, sorted(e.acc1, e.acc2, e.acc3, acc4)) {
		t.Errorf("paged accounts = %v", seen)
	}
}

package ops_test

import (
	"net/http"
	"testing"

	"github.com/bankfeed/bankfeed/internal/apihttp/apitest"
)

// TestWrongMethod: a method no route of a known path takes is a 405
// problem naming the path's methods in Allow; an unknown path stays a 404
// (issue 10 §6).
func TestWrongMethod(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		token, method, path, allow string
	}{
		{e.operator, http.MethodDelete, "/ops/v1/business-groups", "GET, POST"},
		{e.operator, http.MethodPut, "/ops/v1/legal-entities/le_x", "GET, PATCH"},
		{e.operator, http.MethodPost, "/ops/v1/accounts/acc_x/balance", "GET, PUT"},
		{e.operator, http.MethodGet, "/ops/v1/accounts/acc_x/close-day", "POST"},
		{e.operator, http.MethodPatch, "/ops/v1/transactions", "GET, POST"},
	} {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			r := e.call(c.token, c.method, c.path, nil)
			apitest.ProblemIs(t, r, http.StatusMethodNotAllowed, "method-not-allowed", "")
			if got := r.Header.Get("Allow"); got != c.allow {
				t.Fatalf("Allow = %q, want %q", got, c.allow)
			}
		})
	}
	for _, c := range []struct{ token, method, path string }{
		{e.operator, http.MethodDelete, "/ops/v1/nothing"},
		{e.operator, http.MethodPost, "/ops/v1"},
	} {
		r := e.call(c.token, c.method, c.path, nil)
		apitest.ProblemIs(t, r, http.StatusNotFound, "not-found", "")
		if r.Header.Get("Allow") != "" {
			t.Errorf("%s %s: Allow = %q on a 404", c.method, c.path, r.Header.Get("Allow"))
		}
	}
}

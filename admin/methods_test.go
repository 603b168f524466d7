package admin_test

import (
	"net/http"
	"testing"

	"github.com/bankfeed/bankfeed/internal/apihttp/apitest"
	"github.com/bankfeed/bankfeed/store"
)

// TestWrongMethod: a method no route of a known path takes is a 405
// problem naming the path's methods in Allow; an unknown path stays a 404
// (issue 10 §6).
func TestWrongMethod(t *testing.T) {
	e := newEnv(t)
	a := e.newUser(e.bg1, "methods", store.AdminGrants())
	cases := []struct {
		token, method, path, allow string
	}{
		{a.Token, http.MethodPut, "/admin/v1/users", "GET, POST"},
		{a.Token, http.MethodDelete, "/admin/v1/users", "GET, POST"},
		{a.Token, http.MethodPost, "/admin/v1/users/usr_x", "GET, PATCH, DELETE"},
		{a.Token, http.MethodGet, "/admin/v1/users/usr_x/lock", "POST"},
		{a.Token, http.MethodPut, "/admin/v1/permissions", "GET"},
		{a.Token, http.MethodPatch, "/admin/v1/approvals", "GET"},
		{a.Token, http.MethodGet, "/admin/v1/connections/cns_x", "DELETE"},
		{a.Token, "LOCK", "/admin/v1/audit", "GET"},
	}
	for _, c := range cases {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			r := e.call(c.token, c.method, c.path, nil)
			apitest.ProblemIs(t, r, http.StatusMethodNotAllowed, "method-not-allowed", "")
			if got := r.Header.Get("Allow"); got != c.allow {
				t.Fatalf("Allow = %q, want %q", got, c.allow)
			}
			if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("Content-Type = %q", ct)
			}
		})
	}
	for _, c := range []struct{ token, method, path string }{
		{a.Token, http.MethodGet, "/admin/v1/nothing"},
		{a.Token, http.MethodPut, "/admin/v1/nothing"},
		{a.Token, http.MethodDelete, "/admin/v1"},
		{a.Token, http.MethodGet, "/admin/v1/users/usr_x/nothing"},
	} {
		r := e.call(c.token, c.method, c.path, nil)
		apitest.ProblemIs(t, r, http.StatusNotFound, "not-found", "")
		if r.Header.Get("Allow") != "" {
			t.Errorf("%s %s: Allow = %q on a 404", c.method, c.path, r.Header.Get("Allow"))
		}
	}
}

package admin_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/bankfeed/bankfeed/internal/apihttp"
	"github.com/bankfeed/bankfeed/internal/apihttp/apitest"
	"github.com/bankfeed/bankfeed/internal/problemtest"
	"github.com/bankfeed/bankfeed/internal/syncbuf"

	"github.com/bankfeed/bankfeed/admin"
	"github.com/bankfeed/bankfeed/store"
)

// unavailableError checks r is the 503 problem of a database outage:
// Retry-After, RFC 9457 fields with the path as instance, and nothing of
// the cause (SQL, driver, Go errors).
func unavailableError(t *testing.T, r resp, path string) {
	t.Helper()
	if r.Status != http.StatusServiceUnavailable || r.Header.Get("Content-Type") != "application/problem+json" ||
		r.Header.Get("Cache-Control") != "no-store" || r.Header.Get("Retry-After") == "" {
		t.Fatalf("%s = %d (%s, %s, Retry-After %q) %s; want a 503 problem with Retry-After", path, r.Status,
			r.Header.Get("Content-Type"), r.Header.Get("Cache-Control"), r.Header.Get("Retry-After"), r.Raw)
	}
	var p map[string]any
	if err := json.Unmarshal(r.Raw, &p); err != nil {
		t.Fatal(err)
	}
	if p["type"] != apihttp.ProblemTypeBase+"unavailable" || p["status"] != float64(503) || p["instance"] != path {
		t.Errorf("%s: problem %v, want type unavailable, status 503, instance the path", path, p)
	}
	for _, leak := range problemtest.Leaked(r.Raw, path, "sql", "database", "closed", "gormstore", "pgx", "dial", "admin:") {
		t.Errorf("%s: the 503 reveals %q: %s", path, leak, r.Raw)
	}
}

// storeVerifier reads each token's record from the store before the test's
// verifier answers, as authz's Verify does: a store that fails makes the
// verification fail with the store's error.
type storeVerifier struct {
	st   store.Store
	next admin.TokenVerifier
}

func (v storeVerifier) VerifyRequest(r *http.Request) (store.Grant, error) {
	if _, _, err := v.st.GetTokenGrant(r.Context(), store.TokenAccess, store.HashToken(apitest.RequestToken(r))); err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.Grant{}, err
	}
	return v.next.VerifyRequest(r)
}

// TestOutageIsNotABadToken: when the token cannot be verified because the
// database is gone, /admin/v1 and /ops/v1 answer 503 with Retry-After and
// log the cause — not 401 "invalid or expired", which told 237 operator
// batches their token was bad (issue 11, finding 3).
func TestOutageIsNotABadToken(t *testing.T) {
	var log syncbuf.Buffer
	e := newEnv(t, withLog(&log), func(c *admin.Config) { c.Verifier = storeVerifier{st: c.Store, next: c.Verifier} })
	a := e.newUser(e.bg1, "admin", store.AdminGrants())
	e.must(http.StatusOK, a.Token, http.MethodGet, "/admin/v1/users", nil)
	e.must(http.StatusOK, e.operator, http.MethodGet, "/ops/v1/business-groups", nil)
	if err := e.st.Close(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		token, method, path string
		body                any
	}{
		{a.Token, http.MethodGet, "/admin/v1/users", nil},
		{a.Token, http.MethodPost, "/admin/v1/job-roles", map[string]any{"name": "x", "grants": grantsRO()}},
		{e.operator, http.MethodGet, "/ops/v1/business-groups", nil},
		{e.operator, http.MethodPost, "/ops/v1/business-groups", map[string]any{"name": "New"}},
	} {
		r := e.send(c.token, c.method, c.path, c.body)
		unavailableError(t, r, c.path)
		if r.Header.Get("WWW-Authenticate") != "" {
			t.Errorf("%s: WWW-Authenticate %q on an outage", c.path, r.Header.Get("WWW-Authenticate"))
		}
	}
	l := log.String()
	if n := strings.Count(l, "level=ERROR msg=\"admin: server error\"") + strings.Count(l, "level=ERROR msg=\"ops: server error\""); n != 4 {
		t.Errorf("%d outages logged at error level, want 4:\n%s", n, l)
	}
	if strings.Contains(l, a.Token) || strings.Contains(l, e.operator) {
		t.Errorf("a token is in the log:\n%s", l)
	}
}

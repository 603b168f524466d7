package authz_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/authz"
	"github.com/bankfeed/bankfeed/store"
)

// introspect asks /oauth2/introspect (as the vendor) whether token is active.
func (e *env) introspect(token string) bool {
	e.t.Helper()
	resp := e.postForm("/oauth2/introspect", url.Values{"token": {token}}, e.vendor.ID, e.secret)
	var m struct {
		Active bool `json:"active"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&m); resp.StatusCode != http.StatusOK || err != nil {
		e.t.Fatalf("introspect: %d %v", resp.StatusCode, err)
	}
	return m.Active
}

// userinfo is /userinfo's status for the access token.
func (e *env) userinfo(token string) int {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.iss+"/userinfo", nil)
	must(e.t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	must(e.t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// wantTokensEnded: the grant's access token verifies nowhere (introspection,
// userinfo, Verify) and its refresh token is neither active nor usable.
func (e *env) wantTokensEnded(t *testing.T, tr tokenResult) {
	t.Helper()
	if e.introspect(tr.AccessToken) {
		t.Error("access token introspects active")
	}
	if code := e.userinfo(tr.AccessToken); code != http.StatusUnauthorized {
		t.Errorf("access token: userinfo %d, want 401", code)
	}
	if _, err := e.srv.Verify(e.ctx, tr.AccessToken); !errors.Is(err, authz.ErrInvalidToken) {
		t.Errorf("access token verifies: %v", err)
	}
	if e.introspect(tr.RefreshToken) {
		t.Error("refresh token introspects active")
	}
	wantOAuthError(t, e.refresh(tr.RefreshToken), "invalid_grant")
}

// TestRevokedConsentEndsTokensAtOnce: a consent revoked (store.RevokeConsent,
// as the connections page and the administration do) ends its access token
// at once, long before it expires: introspection answers inactive and
// /userinfo 401 (issue 10).
func TestRevokedConsentEndsTokensAtOnce(t *testing.T) {
	e := newEnv(t, envOpts{})
	tr := e.exchange(e.vendor.ID, e.secret)
	if !e.introspect(tr.AccessToken) || e.userinfo(tr.AccessToken) != http.StatusOK {
		t.Fatal("a fresh access token does not verify")
	}
	g, err := e.srv.Verify(e.ctx, tr.AccessToken)
	must(t, err)
	must(t, e.st.RevokeConsent(e.ctx, g.RequestID, e.clock.Now()))
	e.wantTokensEnded(t, tr)
}

// TestIntrospectionJudgesTheGrant: introspection and userinfo answer by
// store.JudgeGrant, the rule the token endpoint and the data API follow:
// while an administrator holds the user locked, the user's tokens are
// inactive; unlocked, the same tokens are active again (nothing was
// revoked). A brute-force lockout does not end them (finding 1).
func TestIntrospectionJudgesTheGrant(t *testing.T) {
	e := newEnv(t, envOpts{})
	tr := e.exchange(e.vendor.ID, e.secret)
	setUser := func(fn func(u *store.User)) {
		t.Helper()
		_, err := e.st.UpdateUser(e.ctx, e.user.ID, func(u store.User) (store.User, error) {
			fn(&u)
			return u, nil
		})
		must(t, err)
	}
	active := func(want bool) {
		t.Helper()
		if got := e.introspect(tr.AccessToken); got != want {
			t.Errorf("access token active = %v, want %v", got, want)
		}
		if got := e.introspect(tr.RefreshToken); got != want {
			t.Errorf("refresh token active = %v, want %v", got, want)
		}
		wantStatus := http.StatusOK
		if !want {
			wantStatus = http.StatusUnauthorized
		}
		if code := e.userinfo(tr.AccessToken); code != wantStatus {
			t.Errorf("userinfo %d, want %d", code, wantStatus)
		}
	}
	setUser(func(u *store.User) { u.LockedUntil = e.clock.Now().Add(15 * time.Minute) })
	active(true)
	setUser(func(u *store.User) { u.Status = store.UserLocked })
	active(false)
	setUser(func(u *store.User) { u.Status, u.LockedUntil = store.UserActive, e.clock.Now().Add(-1) })
	active(true)
}

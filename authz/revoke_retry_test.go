package authz_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/bankfeed/bankfeed/authz"
)

// TestRevocationByAnotherClientKeepsRetry: a rotated refresh token sent to
// /oauth2/revoke by a client that does not own it, inside the grace
// period, changes nothing (RFC 7009 §2.1) — it used to spend the token's
// one retry (issue 12 §5), so the owner's retried refresh then revoked the
// whole family. The owner's own revocation of the rotated token still ends
// the grant.
func TestRevocationByAnotherClientKeepsRetry(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.clock.Freeze()
	other, otherSecret, err := authz.CreateClient(e.ctx, e.st, authz.ClientSpec{Name: "Other", RedirectURIs: []string{redirectURI}, Secret: true})
	must(t, err)
	revoke := func(token, client, secret string) {
		t.Helper()
		for _, hint := range []string{"", "refresh_token"} {
			f := url.Values{"token": {token}}
			if hint != "" {
				f.Set("token_type_hint", hint)
			}
			resp := e.postForm("/oauth2/revoke", f, client, secret)
			if resp.StatusCode >= 500 {
				t.Fatalf("revoke: %d %s", resp.StatusCode, readBody(resp))
			}
			resp.Body.Close()
		}
	}

	tr := e.exchange(e.vendor.ID, e.secret)
	g, err := e.srv.Verify(e.ctx, tr.AccessToken)
	must(t, err)
	if r := e.refresh(tr.RefreshToken); r.Status != http.StatusOK {
		t.Fatalf("refresh: %+v", r)
	}
	revoke(tr.RefreshToken, other.ID, otherSecret)
	retry := e.refresh(tr.RefreshToken)
	if retry.Status != http.StatusOK {
		t.Fatalf("the owner's retry after another client's revocation: %+v", retry)
	}
	if c, err := e.st.GetConsent(e.ctx, g.RequestID); err != nil || !c.Active(e.clock.Now()) {
		t.Fatalf("consent after another client's revocation and the retry: %+v, %v", c, err)
	}

	// The owner revokes a rotated token inside the grace period: the grant ends.
	tr = e.exchange(e.vendor.ID, e.secret)
	g, err = e.srv.Verify(e.ctx, tr.AccessToken)
	must(t, err)
	next := e.refresh(tr.RefreshToken)
	if next.Status != http.StatusOK {
		t.Fatalf("refresh: %+v", next)
	}
	revoke(tr.RefreshToken, e.vendor.ID, e.secret)
	if c, err := e.st.GetConsent(e.ctx, g.RequestID); err != nil || c.Active(e.clock.Now()) {
		t.Fatalf("consent after its client revoked the rotated token: %+v, %v", c, err)
	}
	wantOAuthError(t, e.refresh(next.RefreshToken), "invalid_grant")
}

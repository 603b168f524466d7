package authz_test

import (
	"net/http"
	"net/url"
	"testing"
)

// TestRefreshScope: a refresh grant's scope (RFC 6749 §6) narrows the new
// access token only — the new refresh token keeps the scope of the one
// presented — and a scope beyond the grant is invalid_scope and consumes
// nothing.
func TestRefreshScope(t *testing.T) {
	e := newEnv(t, envOpts{})
	tr := e.exchange(e.vendor.ID, e.secret)
	refresh := func(rt, scope string) tokenResult {
		t.Helper()
		return e.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "scope": {scope}}, e.vendor.ID, e.secret)
	}

	wantOAuthError(t, refresh(tr.RefreshToken, "accounts.read admin"), "invalid_scope")
	wantOAuthError(t, refresh(tr.RefreshToken, "accounts.read nonsense"), "invalid_scope")

	narrow := refresh(tr.RefreshToken, "offline_access accounts.read")
	if narrow.Status != http.StatusOK {
		t.Fatalf("narrower refresh after the refused ones: %d %s %s", narrow.Status, narrow.Error, narrow.Description)
	}
	if narrow.Scope != "offline_access accounts.read" {
		t.Fatalf("narrower refresh: scope %q", narrow.Scope)
	}
	g, err := e.srv.Verify(e.ctx, narrow.AccessToken)
	must(t, err)
	if !g.HasScope("accounts.read") || g.HasScope("statements.read") {
		t.Fatalf("narrowed access token grants %v", g.Scopes)
	}

	full := e.refresh(narrow.RefreshToken)
	if full.Status != http.StatusOK || full.Scope != "openid profile offline_access accounts.read statements.read" {
		t.Fatalf("refresh of the new refresh token: %d scope %q, want the whole grant", full.Status, full.Scope)
	}
	if g, err := e.srv.Verify(e.ctx, full.AccessToken); err != nil || !g.HasScope("statements.read") {
		t.Fatalf("refresh of the new refresh token: %v %v", g.Scopes, err)
	}
}

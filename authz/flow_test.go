package authz_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/bankfeed/bankfeed/authz"
	"github.com/bankfeed/bankfeed/store"
)

// TestCodeFlowEndToEnd drives the whole flow with the libraries a vendor
// uses: discovery → code + PKCE → (consent stand-in) → token → ID token
// verified by go-oidc → userinfo → refresh (and replays) → revoke.
func TestCodeFlowEndToEnd(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := context.Background()

	provider, err := oidc.NewProvider(ctx, e.iss)
	must(t, err)
	var meta struct {
		PAR                bool     `json:"require_pushed_authorization_requests"`
		ISS                bool     `json:"authorization_response_iss_parameter_supported"`
		Methods            []string `json:"code_challenge_methods_supported"`
		AuthMethods        []string `json:"token_endpoint_auth_methods_supported"`
		PAREndpoint        string   `json:"pushed_authorization_request_endpoint"`
		IDTokenAlgs        []string `json:"id_token_signing_alg_values_supported"`
		AssertionAlgs      []string `json:"token_endpoint_auth_signing_alg_values_supported"`
		GrantTypes         []string `json:"grant_types_supported"`
		ResponseTypes      []string `json:"response_types_supported"`
		RevocationEndpoint string   `json:"revocation_endpoint"`
	}
	must(t, provider.Claims(&meta))
	if meta.PAR || !meta.ISS || !slices.Equal(meta.Methods, []string{"S256"}) || meta.PAREndpoint != e.iss+"/oauth2/par" ||
		!slices.Equal(meta.AuthMethods, []string{"private_key_jwt", "client_secret_basic"}) || !slices.Equal(meta.IDTokenAlgs, []string{"ES256"}) ||
		!slices.Equal(meta.AssertionAlgs, []string{"PS256", "ES256"}) || !slices.Equal(meta.ResponseTypes, []string{"code"}) {
		t.Fatalf("discovery: %+v", meta)
	}

	endpoint := provider.Endpoint()
	endpoint.AuthStyle = oauth2.AuthStyleInHeader
	conf := oauth2.Config{
		ClientID: e.vendor.ID, ClientSecret: e.secret, Endpoint: endpoint, RedirectURL: redirectURI,
		Scopes: []string{oidc.ScopeOpenID, "profile", oidc.ScopeOfflineAccess, "accounts.read", "statements.read"},
	}
	verifier := oauth2.GenerateVerifier()
	nonce := strings.Repeat("n", 80) // FAPI: nonces of 64+ characters
	authURL := conf.AuthCodeURL("state-abcdefgh", oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce))
	u, err := url.Parse(authURL)
	must(t, err)
	ch := e.startAuthorize(u.Query())
	q := e.resume(ch, e.decideFlowViaStore(ch, e.user.ID, allScopes, false)).Query()
	if q.Get("iss") != e.iss || q.Get("state") != "state-abcdefgh" || q.Get("code") == "" {
		t.Fatalf("authorization response %v: want code, the state back and iss", q)
	}

	tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	must(t, err)
	raw, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&oidc.Config{ClientID: e.vendor.ID}).Verify(ctx, raw)
	must(t, err)
	var claims struct {
		AuthTime int64  `json:"auth_time"`
		Acr      string `json:"acr"`
	}
	must(t, idt.Claims(&claims))
	if idt.Subject != e.user.ID || idt.Nonce != nonce || claims.AuthTime == 0 || claims.Acr == "" {
		t.Fatalf("id token sub=%q nonce=%q claims=%+v", idt.Subject, idt.Nonce, claims)
	}
	if tok.RefreshToken == "" || tok.Extra("scope") != "openid profile offline_access accounts.read statements.read" {
		t.Fatalf("token: refresh=%t scope=%v", tok.RefreshToken != "", tok.Extra("scope"))
	}

	ui, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	must(t, err)
	if ui.Subject != e.user.ID {
		t.Fatalf("userinfo sub %q", ui.Subject)
	}

	g, err := e.srv.Verify(ctx, tok.AccessToken)
	must(t, err)
	if g.UserID != e.user.ID || g.ClientID != e.vendor.ID || g.FirstParty || !g.HasScope("accounts.read") || !g.HasScope("statements.read") || g.RequestID == "" {
		t.Fatalf("grant %+v", g)
	}
	consent, err := e.st.GetConsent(ctx, g.RequestID)
	must(t, err)
	if consent.UserID != e.user.ID || consent.ClientID != e.vendor.ID {
		t.Fatalf("consent %+v", consent)
	}

	// Refresh through x/oauth2 (expired token → refresh grant).
	old := *tok
	old.Expiry = time.Now().Add(-time.Minute)
	fresh, err := conf.TokenSource(ctx, &old).Token()
	must(t, err)
	if fresh.AccessToken == tok.AccessToken || fresh.RefreshToken == tok.RefreshToken {
		t.Fatal("refresh did not rotate")
	}
	if _, err := e.srv.Verify(ctx, tok.AccessToken); !errors.Is(err, authz.ErrInvalidToken) {
		t.Fatalf("the access token paired with a rotated refresh token still verifies: %v", err)
	}
	if raw, _ := fresh.Extra("id_token").(string); raw == "" {
		t.Fatal("no id token on refresh")
	} else if _, err := provider.Verifier(&oidc.Config{ClientID: e.vendor.ID}).Verify(ctx, raw); err != nil {
		t.Fatalf("refreshed id token: %v", err)
	}

	// A network retry of the rotated refresh token inside the grace period
	// gets a fresh pair of the same family.
	retry := e.refresh(tok.RefreshToken)
	if retry.Status != http.StatusOK {
		t.Fatalf("replay inside the grace period: %d %s %s", retry.Status, retry.Error, retry.Description)
	}
	g2, err := e.srv.Verify(ctx, retry.AccessToken)
	must(t, err)
	if g2.RequestID != g.RequestID {
		t.Fatalf("grace replay left the family: %s vs %s", g2.RequestID, g.RequestID)
	}

	// Revocation of the refresh token ends the grant: every token stops.
	resp := e.postForm("/oauth2/revoke", url.Values{"token": {fresh.RefreshToken}, "token_type_hint": {"refresh_token"}}, e.vendor.ID, e.secret)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke: %d %s", resp.StatusCode, readBody(resp))
	}
	for _, at := range []string{fresh.AccessToken, retry.AccessToken} {
		if _, err := e.srv.Verify(ctx, at); !errors.Is(err, authz.ErrInvalidToken) {
			t.Fatalf("access token verifies after revocation: %v", err)
		}
	}
	wantOAuthError(t, e.refresh(retry.RefreshToken), "invalid_grant")
	if c, _ := e.st.GetConsent(ctx, g.RequestID); c.Active(time.Now()) {
		t.Fatal("consent still active after the refresh token was revoked")
	}
}

// TestRefreshReplayOutsideGrace: a rotated refresh token replayed after the
// grace period revokes the whole family.
func TestRefreshReplayOutsideGrace(t *testing.T) {
	e := newEnv(t, envOpts{})
	tr := e.exchange(e.vendor.ID, e.secret)
	r1 := e.refresh(tr.RefreshToken)
	if r1.Status != http.StatusOK {
		t.Fatalf("refresh: %+v", r1)
	}
	e.clock.Advance(3 * time.Second) // grace is 2 s
	wantOAuthError(t, e.refresh(tr.RefreshToken), "invalid_grant")
	wantOAuthError(t, e.refresh(r1.RefreshToken), "invalid_grant")
	if _, err := e.srv.Verify(e.ctx, r1.AccessToken); !errors.Is(err, authz.ErrInvalidToken) {
		t.Fatalf("family not revoked: %v", err)
	}
}

// exchange runs a full code flow with PKCE for e.user and client_secret_basic.
func (e *env) exchange(clientID, secret string) tokenResult {
	e.t.Helper()
	verifier := oauth2.GenerateVerifier()
	q := e.codeFor(e.authorizeParams(clientID, oauth2.S256ChallengeFromVerifier(verifier)), e.user.ID, allScopes)
	tr := e.token(url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}, clientID, secret)
	if tr.Status != http.StatusOK {
		e.t.Fatalf("exchange: %d %s %s", tr.Status, tr.Error, tr.Description)
	}
	return tr
}

// TestPrivateKeyJWTWithPAR: a PAR-required client authenticating with an
// ES256 assertion (aud = issuer, as openid-client sends it), no state.
func TestPrivateKeyJWTWithPAR(t *testing.T) {
	e := newEnv(t, envOpts{})
	kc := e.newKeyClient(authz.ClientSpec{RequirePAR: true})
	verifier := oauth2.GenerateVerifier()
	form := e.authorizeParams(kc.client.ID, oauth2.S256ChallengeFromVerifier(verifier))
	form.Del("state")

	// Without PAR the client is refused, with iss on the error redirect.
	resp := e.get(e.iss + "/oauth2/authorize?" + form.Encode())
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || loc.Query().Get("error") != "invalid_request" || loc.Query().Get("iss") != e.iss {
		t.Fatalf("non-PAR request: %d %s", resp.StatusCode, loc)
	}

	requestURI := e.par(kc, e.iss, form)
	q := e.codeFor(url.Values{"client_id": {kc.client.ID}, "request_uri": {requestURI}}, e.user.ID, allScopes)
	if q.Has("state") || q.Get("iss") != e.iss || q.Get("code") == "" {
		t.Fatalf("authorization response %v: want a code, iss and no state", q)
	}
	tr := e.token(kc.authForm(t, e.iss+"/oauth2/token", url.Values{
		"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {redirectURI}, "code_verifier": {verifier},
	}), "", "")
	if tr.Status != http.StatusOK || tr.IDToken == "" || tr.RefreshToken == "" {
		t.Fatalf("token: %+v", tr)
	}
	// Refresh with an array aud holding the issuer.
	r := e.token(kc.authForm(t, []string{"https://elsewhere.example", e.iss}, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}}), "", "")
	if r.Status != http.StatusOK {
		t.Fatalf("refresh: %+v", r)
	}
}

// par pushes form for kc with an assertion whose aud is aud; returns the request_uri.
func (e *env) par(kc keyClient, aud any, form url.Values) string {
	e.t.Helper()
	f := url.Values{}
	for k, v := range form {
		f[k] = v
	}
	resp := e.postForm("/oauth2/par", kc.authForm(e.t, aud, f), "", "")
	body := readBody(resp)
	if resp.StatusCode != http.StatusCreated {
		e.t.Fatalf("par: %d %s", resp.StatusCode, body)
	}
	var out struct {
		RequestURI string `json:"request_uri"`
		ExpiresIn  int    `json:"expires_in"`
	}
	must(e.t, jsonUnmarshal(body, &out))
	if !strings.HasPrefix(out.RequestURI, "urn:ietf:params:oauth:request_uri:") || out.ExpiresIn <= 0 || out.ExpiresIn >= 600 {
		e.t.Fatalf("par response %+v", out)
	}
	return out.RequestURI
}

// TestTwoServers: authorize on one replica, exchange and refresh on another.
func TestTwoServers(t *testing.T) {
	e := newEnv(t, envOpts{twoServers: true})
	tr := e.exchange(e.vendor.ID, e.secret)
	if _, err := e.srv.Verify(e.ctx, tr.AccessToken); err != nil {
		t.Fatalf("replica A does not verify replica B's token: %v", err)
	}
	r := e.refresh(tr.RefreshToken)
	if r.Status != http.StatusOK {
		t.Fatalf("refresh on B: %+v", r)
	}
	if _, err := e.srv.Verify(e.ctx, r.AccessToken); err != nil {
		t.Fatalf("verify on A: %v", err)
	}
	// A key rotated through replica A is used by, and verifies on, both.
	kid, err := e.srv.RotateKey(e.ctx)
	must(t, err)
	if kid == "" {
		t.Fatal("no kid")
	}
	resp := e.get(e.iss + "/.well-known/jwks.json")
	if body := readBody(resp); !strings.Contains(body, kid) {
		t.Logf("replica B publishes the new key only after its cache expires (ok): %s", body)
	}
}

var _ = store.ScopeOpenID

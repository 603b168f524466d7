package authz_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v3"
	"golang.org/x/oauth2"

	"github.com/bankfeed/bankfeed/authz"
	"github.com/bankfeed/bankfeed/store"
)

// TestCodeFlowEndToEnd drives the whole flow with the libraries a vendor
// uses: discovery → code + PKCE → decision (decideFlowInStore, past the
// pages) → token → ID token verified by go-oidc → userinfo → refresh →
// replay inside, then outside the grace period.
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
	q := e.resume(ch, e.decideFlowInStore(ch, e.user.ID, allScopes, false)).Query()
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
	var profile struct {
		Name              string `json:"name"`
		PreferredUsername string `json:"preferred_username"`
	}
	must(t, ui.Claims(&profile))
	if ui.Subject != e.user.ID || profile.Name != e.user.DisplayName || profile.PreferredUsername != e.user.LoginID || profile.Name == "" {
		t.Fatalf("userinfo sub %q, profile %+v; want %q, %q, %q", ui.Subject, profile, e.user.ID, e.user.DisplayName, e.user.LoginID)
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

	// Refresh through x/oauth2 (expired token → refresh grant). The clock
	// stops first: the grace period below is then measured in the test's
	// time, whatever the machine's speed.
	e.clock.Freeze()
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
	// (2 s, to its last millisecond) gets a fresh pair of the same family.
	e.clock.Advance(2*time.Second - time.Millisecond)
	retry := e.refresh(tok.RefreshToken)
	if retry.Status != http.StatusOK {
		t.Fatalf("replay inside the grace period: %d %s %s", retry.Status, retry.Error, retry.Description)
	}
	g2, err := e.srv.Verify(ctx, retry.AccessToken)
	must(t, err)
	if g2.RequestID != g.RequestID || retry.RefreshToken == fresh.RefreshToken || retry.AccessToken == fresh.AccessToken {
		t.Fatalf("grace replay: family %s (want %s), or the pair it got is not new", g2.RequestID, g.RequestID)
	}

	// The same replay once the grace period has passed is reuse: the whole
	// family is revoked, the pairs handed out inside the grace period too,
	// and the connection (the consent) ends.
	e.clock.Advance(2 * time.Millisecond)
	wantOAuthError(t, e.refresh(tok.RefreshToken), "invalid_grant")
	for _, at := range []string{fresh.AccessToken, retry.AccessToken} {
		if _, err := e.srv.Verify(ctx, at); !errors.Is(err, authz.ErrInvalidToken) {
			t.Fatalf("access token verifies after refresh-token reuse: %v", err)
		}
	}
	for _, rt := range []string{fresh.RefreshToken, retry.RefreshToken} {
		wantOAuthError(t, e.refresh(rt), "invalid_grant")
	}
	if c, err := e.st.GetConsent(ctx, g.RequestID); err != nil || c.Active(e.clock.Now()) {
		t.Fatalf("consent after refresh-token reuse: active=%t, %v", err == nil && c.Active(e.clock.Now()), err)
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
	return e.exchangeFor(e.user.ID, clientID, secret)
}

// exchangeFor is exchange for another user.
func (e *env) exchangeFor(userID, clientID, secret string) tokenResult {
	e.t.Helper()
	verifier := oauth2.GenerateVerifier()
	q := e.codeFor(e.authorizeParams(clientID, oauth2.S256ChallengeFromVerifier(verifier)), userID, allScopes)
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

// TestTwoServers: authorize on one replica, exchange and refresh on another;
// a key rotated through one is published and used by the other within
// keyCacheTTL, and what either signs verifies on both.
func TestTwoServers(t *testing.T) {
	e := newEnv(t, envOpts{twoServers: true, cfg: func(c *authz.Config) { c.TokenFormat = "jwt" }})
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

	// Rotate through A. A publishes the new key at once; B re-reads the key
	// set within the documented bound (README: "running replicas sign with
	// the new key within 10 seconds"), counted on the test's frozen clock.
	e.clock.Freeze()
	kid, err := e.srv.RotateKey(e.ctx)
	must(t, err)
	if kid == "" {
		t.Fatal("no kid")
	}
	if !jwksHas(t, e.jwksOfA(), kid) {
		t.Fatalf("replica A does not publish the key it rotated in (%s)", kid)
	}
	const bound, step = 10 * time.Second, 500 * time.Millisecond
	for waited := time.Duration(0); !jwksHas(t, readBody(e.get(e.iss+"/.well-known/jwks.json")), kid); waited += step {
		if waited >= bound {
			t.Fatalf("replica B does not publish key %s %v after the rotation", kid, bound)
		}
		e.clock.Advance(step)
	}

	// B now signs with the new key (the token endpoint is on B), and both
	// replicas accept what it signed.
	r2 := e.refresh(r.RefreshToken)
	if r2.Status != http.StatusOK {
		t.Fatalf("refresh on B after the rotation: %+v", r2)
	}
	for name, raw := range map[string]string{"access token": r2.AccessToken, "id token": r2.IDToken} {
		if got := jwtHeader(t, raw)["kid"]; got != kid {
			t.Fatalf("replica B signed the %s with %v, want the rotated key %s", name, got, kid)
		}
	}
	for name, srv := range map[string]*authz.Server{"A": e.srv, "B": e.srv2} {
		if _, err := srv.Verify(e.ctx, r2.AccessToken); err != nil {
			t.Fatalf("replica %s refuses the access token signed with the new key: %v", name, err)
		}
	}
	for name, jwks := range map[string]string{"A": e.jwksOfA(), "B": readBody(e.get(e.iss + "/.well-known/jwks.json"))} {
		if err := verifyWithJWKS(jwks, r2.IDToken); err != nil {
			t.Fatalf("id token signed with the new key, replica %s's JWKS: %v", name, err)
		}
	}
}

// jwksOfA is replica A's JWKS document (the shared URL routes to B).
func (e *env) jwksOfA() string {
	e.t.Helper()
	rec := httptest.NewRecorder()
	e.echo.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/.well-known/jwks.json", nil))
	if rec.Code != http.StatusOK {
		e.t.Fatalf("jwks on A: %d %s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}

func jwksHas(t testing.TB, doc, kid string) bool {
	t.Helper()
	var set jose.JSONWebKeySet
	must(t, jsonUnmarshal(doc, &set))
	return len(set.Key(kid)) > 0
}

// verifyWithJWKS checks a compact JWS with the key its kid names in doc.
func verifyWithJWKS(doc, token string) error {
	var set jose.JSONWebKeySet
	if err := jsonUnmarshal(doc, &set); err != nil {
		return fmt.Errorf("jwks: %w", err)
	}
	jws, err := jose.ParseSigned(token)
	if err != nil {
		return fmt.Errorf("parse: %w", err)
	}
	keys := set.Key(jws.Signatures[0].Header.KeyID)
	if len(keys) != 1 {
		return fmt.Errorf("%d keys with kid %q", len(keys), jws.Signatures[0].Header.KeyID)
	}
	if _, err := jws.Verify(keys[0].Key); err != nil {
		return fmt.Errorf("signature: %w", err)
	}
	return nil
}

var _ = store.ScopeOpenID

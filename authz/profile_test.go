package authz_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	josev4 "github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"

	"github.com/bankfeed/bankfeed/authz"
	"github.com/bankfeed/bankfeed/store"
)

// fapiRedirect is a FAPI client's redirect URI: https, never followed (the
// test browser stops at every redirect).
const fapiRedirect = "https://app.booksy.example/callback"

func fapiEnv(t *testing.T, cfg func(*authz.Config)) *env {
	return newEnv(t, envOpts{cfg: func(c *authz.Config) {
		c.Profile = authz.ProfileFAPI2
		if cfg != nil {
			cfg(c)
		}
	}})
}

// fapiClient is a private_key_jwt vendor with an https redirect URI and no
// per-client DPoP flag: what the profile demands, it demands of it.
func (e *env) fapiClient() keyClient {
	return e.newKeyClient(authz.ClientSpec{RedirectURIs: []string{fapiRedirect}})
}

func fapiParams(e *env, kc keyClient, verifier string) url.Values {
	q := e.authorizeParams(kc.client.ID, oauth2.S256ChallengeFromVerifier(verifier))
	q.Set("redirect_uri", fapiRedirect)
	return q
}

// postNonced posts form (built afresh per attempt: assertions are single
// use) with a proof of k; told use_dpop_nonce, it retries once with the
// server's nonce, as a DPoP client does.
func (e *env) postNonced(path string, form func() url.Values, k *dpopKey) *http.Response {
	e.t.Helper()
	target := e.iss + path
	resp := e.postWithProof(path, form(), "", "", k.proof(http.MethodPost, target, nil))
	if n := resp.Header.Get("DPoP-Nonce"); resp.StatusCode == http.StatusBadRequest && n != "" {
		body, _ := io.ReadAll(resp.Body)
		if strings.Contains(string(body), "use_dpop_nonce") {
			resp = e.postWithProof(path, form(), "", "", k.proof(http.MethodPost, target, func(c map[string]any) { c["nonce"] = n }))
		}
	}
	return resp
}

// fapiCode pushes the request with a proof of k, runs the flow and returns
// the authorization response's query.
func (e *env) fapiCode(kc keyClient, k *dpopKey, verifier string) url.Values {
	e.t.Helper()
	resp := e.postNonced("/oauth2/par", func() url.Values { return kc.authForm(e.t, e.iss, fapiParams(e, kc, verifier)) }, k)
	body := readBody(resp)
	if resp.StatusCode != http.StatusCreated {
		e.t.Fatalf("par: %d %s", resp.StatusCode, body)
	}
	var par struct {
		RequestURI string `json:"request_uri"`
	}
	must(e.t, jsonUnmarshal(body, &par))
	ch := e.startAuthorize(url.Values{"client_id": {kc.client.ID}, "request_uri": {par.RequestURI}})
	v := e.decideFlowInStore(ch, e.user.ID, allScopes, false)
	resp = e.get(e.iss + "/oauth2/authorize/resume?" + url.Values{"login_challenge": {ch}, "login_verifier": {v}}.Encode())
	loc, err := url.Parse(resp.Header.Get("Location"))
	must(e.t, err)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc.String(), fapiRedirect) {
		e.t.Fatalf("resume: %d to %s", resp.StatusCode, loc)
	}
	return loc.Query()
}

func fapiCodeForm(code, verifier string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {fapiRedirect}, "code_verifier": {verifier}}
}

func decodeResult(t testing.TB, resp *http.Response) dpopResult {
	t.Helper()
	var r dpopResult
	must(t, json.NewDecoder(resp.Body).Decode(&r))
	r.Status = resp.StatusCode
	return r
}

// TestFAPI2DiscoveryFlags: the fapi2 profile says so in both metadata
// documents: PAR required, private_key_jwt only, ES256/PS256 only (client
// assertions and DPoP proofs), S256, iss in responses.
func TestFAPI2DiscoveryFlags(t *testing.T) {
	e := fapiEnv(t, nil)
	for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		var m struct {
			RequirePAR  bool     `json:"require_pushed_authorization_requests"`
			AuthMethods []string `json:"token_endpoint_auth_methods_supported"`
			AuthAlgs    []string `json:"token_endpoint_auth_signing_alg_values_supported"`
			RevMethods  []string `json:"revocation_endpoint_auth_methods_supported"`
			IntMethods  []string `json:"introspection_endpoint_auth_methods_supported"`
			DPoPAlgs    []string `json:"dpop_signing_alg_values_supported"`
			PKCE        []string `json:"code_challenge_methods_supported"`
			Iss         bool     `json:"authorization_response_iss_parameter_supported"`
		}
		must(t, json.NewDecoder(e.get(e.iss+path).Body).Decode(&m))
		pk := []string{"private_key_jwt"}
		if !m.RequirePAR || !slices.Equal(m.AuthMethods, pk) || !slices.Equal(m.RevMethods, pk) || !slices.Equal(m.IntMethods, pk) ||
			!slices.Equal(m.DPoPAlgs, []string{"ES256", "PS256"}) || !slices.Equal(m.AuthAlgs, []string{"PS256", "ES256"}) ||
			!slices.Equal(m.PKCE, []string{"S256"}) || !m.Iss {
			t.Fatalf("%s: %+v", path, m)
		}
	}
}

// TestFAPI2DefaultProfileUnchanged: without the profile, discovery and a
// secret client's bearer flow without PAR are as they always were.
func TestFAPI2DefaultProfileUnchanged(t *testing.T) {
	e := newEnv(t, envOpts{})
	var m map[string]any
	must(t, json.NewDecoder(e.get(e.iss+"/.well-known/openid-configuration").Body).Decode(&m))
	if m["require_pushed_authorization_requests"] != false || len(m["token_endpoint_auth_methods_supported"].([]any)) != 2 ||
		len(m["dpop_signing_alg_values_supported"].([]any)) != 3 {
		t.Fatalf("default discovery changed: %v %v %v", m["require_pushed_authorization_requests"], m["token_endpoint_auth_methods_supported"], m["dpop_signing_alg_values_supported"])
	}
	code, verifier := e.dpopCode(nil)
	r := e.dpopToken(codeForm(code, verifier), e.vendor.ID, e.secret, "")
	if r.Status != http.StatusOK || !strings.EqualFold(r.TokenType, "bearer") {
		t.Fatalf("default profile bearer exchange: %d %s %q", r.Status, r.Error, r.TokenType)
	}
	if r.Nonce != "" {
		t.Fatal("default profile sent a DPoP-Nonce")
	}
	if err := authz.CheckClientSpec(authz.ProfileDefault, authz.ClientSpec{Name: "Ledgerly", RedirectURIs: []string{redirectURI}, Secret: true}); err != nil {
		t.Fatalf("default profile refused a secret client: %v", err)
	}
}

// TestFAPI2PARRequired: a third-party authorization request not pushed is
// refused (with iss on the error redirect); the bank's first-party clients
// are not FAPI clients and may still skip PAR.
func TestFAPI2PARRequired(t *testing.T) {
	e := fapiEnv(t, nil)
	kc := e.fapiClient()
	resp := e.get(e.iss + "/oauth2/authorize?" + fapiParams(e, kc, oauth2.GenerateVerifier()).Encode())
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc.String(), fapiRedirect) ||
		loc.Query().Get("error") != "invalid_request" || loc.Query().Get("iss") != e.iss {
		t.Fatalf("non-PAR request: %d %s", resp.StatusCode, loc)
	}
	fp, _, err := authz.CreateClient(e.ctx, e.st, authz.ClientSpec{Name: "Console", RedirectURIs: []string{redirectURI}, Secret: true, FirstParty: true})
	must(t, err)
	e.startAuthorize(e.authorizeParams(fp.ID, oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())))
}

// TestFAPI2SecretClientRefusedAtToken: a client registered with a secret
// (before the profile was switched on) cannot authenticate at PAR, the
// token endpoint, revocation or introspection: 401 invalid_client.
func TestFAPI2SecretClientRefusedAtToken(t *testing.T) {
	e := fapiEnv(t, nil)
	for _, path := range []string{"/oauth2/par", "/oauth2/token", "/oauth2/revoke", "/oauth2/introspect"} {
		form := e.authorizeParams(e.vendor.ID, oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier()))
		switch path {
		case "/oauth2/token":
			form = url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"whatever"}}
		case "/oauth2/revoke", "/oauth2/introspect":
			form = url.Values{"token": {"whatever"}}
		}
		r := decodeResult(t, e.postWithProof(path, form, e.vendor.ID, e.secret, ""))
		// (fosite's revocation drops the hint; the secret itself is right.)
		if r.Status != http.StatusUnauthorized || r.Error != "invalid_client" || (path != "/oauth2/revoke" && !strings.Contains(r.Description, "private_key_jwt")) {
			t.Fatalf("%s with a secret: %d %s %s", path, r.Status, r.Error, r.Description)
		}
	}
}

// TestFAPI2SecretClientRefusedAtCreate: clients create and update refuse,
// in the profile, a third-party client that could not comply, one reason
// a line; first-party clients and the default profile are not judged.
func TestFAPI2SecretClientRefusedAtCreate(t *testing.T) {
	spec := authz.ClientSpec{Name: "Ledgerly", RedirectURIs: []string{redirectURI, fapiRedirect}, Secret: true}
	err := authz.CheckClientSpec(authz.ProfileFAPI2, spec)
	if !errors.Is(err, authz.ErrProfile) {
		t.Fatalf("secret client with an http redirect: %v, want ErrProfile", err)
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 3 || !strings.Contains(lines[1], "private_key_jwt") || !strings.Contains(lines[2], redirectURI) {
		t.Fatalf("reasons: %q", err.Error())
	}
	spec.FirstParty = true
	if err := authz.CheckClientSpec(authz.ProfileFAPI2, spec); err != nil {
		t.Fatalf("first-party client: %v", err)
	}
	e := newEnv(t, envOpts{})
	kc := e.fapiClient()
	if err := authz.CheckClientSpec(authz.ProfileFAPI2, authz.ClientSpec{Name: "Booksy", RedirectURIs: []string{fapiRedirect}, JWKS: mustJWKS(t, kc)}); err != nil {
		t.Fatalf("compliant client: %v", err)
	}
	uris := []string{fapiRedirect, redirectURI}
	if err := authz.CheckClientUpdate(authz.ProfileFAPI2, kc.client, authz.ClientUpdate{RedirectURIs: uris}); !errors.Is(err, authz.ErrProfile) {
		t.Fatalf("update adding an http redirect: %v", err)
	}
}

func mustJWKS(t *testing.T, kc keyClient) json.RawMessage {
	b, err := json.Marshal(josev4.JSONWebKeySet{Keys: []josev4.JSONWebKey{{Key: &kc.key.PublicKey, KeyID: "k1", Use: "sig", Algorithm: "ES256"}}})
	must(t, err)
	return b
}

// TestFAPI2HTTPRedirectRefused: a client registered with a loopback http
// redirect URI before the switch cannot push a request naming it.
func TestFAPI2HTTPRedirectRefused(t *testing.T) {
	e := fapiEnv(t, nil)
	kc := e.newKeyClient(authz.ClientSpec{})
	form := kc.authForm(t, e.iss, e.authorizeParams(kc.client.ID, oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())))
	r := decodeResult(t, e.postWithProof("/oauth2/par", form, "", "", ""))
	if r.Status != http.StatusBadRequest || r.Error != "invalid_request" || !strings.Contains(r.Description, "https") {
		t.Fatalf("par with an http redirect_uri: %d %s %s", r.Status, r.Error, r.Description)
	}
}

// TestFAPI2BearerTokenRequestRefused: a code exchange without a DPoP proof
// is refused although the client has no per-client DPoP flag.
func TestFAPI2BearerTokenRequestRefused(t *testing.T) {
	e := fapiEnv(t, nil)
	kc := e.fapiClient()
	verifier := oauth2.GenerateVerifier()
	q := e.fapiCode(kc, newDPoPKey(t), verifier)
	r := e.dpopToken(kc.authForm(t, e.iss, fapiCodeForm(q.Get("code"), verifier)), "", "", "")
	if r.Status != http.StatusBadRequest || r.Error != "invalid_request" || !strings.Contains(r.Description, "DPoP") {
		t.Fatalf("exchange without a proof: %d %s %s", r.Status, r.Error, r.Description)
	}
}

// TestFAPI2RS256AssertionRefused: a client assertion signed RS256 (the
// client's RSA key, registered for PS256) is refused: 401 invalid_client.
func TestFAPI2RS256AssertionRefused(t *testing.T) {
	e := fapiEnv(t, nil)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	must(t, err)
	set, err := json.Marshal(josev4.JSONWebKeySet{Keys: []josev4.JSONWebKey{{Key: &key.PublicKey, KeyID: "r1", Use: "sig", Algorithm: "PS256"}}})
	must(t, err)
	c, _, err := authz.CreateClient(e.ctx, e.st, authz.ClientSpec{Name: "Rsa Books", RedirectURIs: []string{fapiRedirect}, JWKS: set})
	must(t, err)
	assertion := func(m jwt.SigningMethod) string {
		now := time.Now()
		tok := jwt.NewWithClaims(m, jwt.MapClaims{"iss": c.ID, "sub": c.ID, "aud": e.iss, "jti": store.RandomToken(16), "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()})
		tok.Header["kid"] = "r1"
		s, err := tok.SignedString(key)
		must(t, err)
		return s
	}
	par := func(m jwt.SigningMethod) dpopResult {
		form := e.authorizeParams(c.ID, oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier()))
		form.Set("redirect_uri", fapiRedirect)
		form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		form.Set("client_assertion", assertion(m))
		return decodeResult(t, e.postWithProof("/oauth2/par", form, "", "", ""))
	}
	if r := par(jwt.SigningMethodRS256); r.Status != http.StatusUnauthorized || r.Error != "invalid_client" {
		t.Fatalf("RS256 assertion: %d %s %s", r.Status, r.Error, r.Description)
	}
	if r := par(jwt.SigningMethodPS256); r.Status != http.StatusCreated {
		t.Fatalf("PS256 assertion: %d %s %s", r.Status, r.Error, r.Description)
	}
}

// TestFAPI2EdDSAProofRefused: an EdDSA DPoP proof, accepted by the default
// profile, is refused in the fapi2 profile (ES256/PS256 only).
func TestFAPI2EdDSAProofRefused(t *testing.T) {
	e := fapiEnv(t, nil)
	kc := e.fapiClient()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	must(t, err)
	payload, err := json.Marshal(map[string]any{"jti": store.RandomToken(16), "htm": "POST", "htu": e.iss + "/oauth2/par", "iat": time.Now().Unix()})
	must(t, err)
	signer, err := josev4.NewSigner(josev4.SigningKey{Algorithm: josev4.EdDSA, Key: priv}, (&josev4.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"))
	must(t, err)
	jws, err := signer.Sign(payload)
	must(t, err)
	proof, err := jws.CompactSerialize()
	must(t, err)
	form := kc.authForm(t, e.iss, fapiParams(e, kc, oauth2.GenerateVerifier()))
	r := decodeResult(t, e.postWithProof("/oauth2/par", form, "", "", proof))
	if r.Status != http.StatusBadRequest || r.Error != "invalid_dpop_proof" {
		t.Fatalf("EdDSA proof: %d %s %s", r.Status, r.Error, r.Description)
	}
}

// TestFAPI2CodeLifetime: the profile's codes live at most 60 s (fosite
// judges a code's expiry by the wall clock, so the test reads the stored
// code's expiry rather than waiting), and a longer configured lifetime is
// refused, as is a profile without a refresh retry.
func TestFAPI2CodeLifetime(t *testing.T) {
	e := fapiEnv(t, nil)
	kc := e.fapiClient()
	q := e.fapiCode(kc, newDPoPKey(t), oauth2.GenerateVerifier())
	issued := time.Now()
	_, sig, ok := strings.Cut(q.Get("code"), ".")
	if !ok {
		t.Fatalf("code %q has no signature part", q.Get("code"))
	}
	rec, err := e.st.GetToken(e.ctx, store.TokenAuthorizeCode, sig)
	must(t, err)
	if rec.ExpiresAt.After(issued.Add(60 * time.Second)) {
		t.Fatalf("code expires at %s, more than 60 s after %s", rec.ExpiresAt, issued)
	}
	_, err = authz.New(context.Background(), authz.Config{Store: e.st, Issuer: e.iss, TokenSecret: tokenSecret, KeyEncryptionKey: kek,
		Profile: authz.ProfileFAPI2, AuthorizeCodeLifespan: 2 * time.Minute})
	if err == nil || !strings.Contains(err.Error(), "AuthorizeCodeLifespan") {
		t.Fatalf("2 min codes: %v", err)
	}
	_, err = authz.New(context.Background(), authz.Config{Store: e.st, Issuer: e.iss, TokenSecret: tokenSecret, KeyEncryptionKey: kek,
		Profile: authz.ProfileFAPI2, RefreshGracePeriod: -1})
	if err == nil || !strings.Contains(err.Error(), "fapi2") {
		t.Fatalf("fapi2 without a refresh retry: %v", err)
	}
}

// TestFAPI2IssInResponses: iss (RFC 9207) on the code response and on the
// error response of a refused request.
func TestFAPI2IssInResponses(t *testing.T) {
	e := fapiEnv(t, nil)
	kc := e.fapiClient()
	if q := e.fapiCode(kc, newDPoPKey(t), oauth2.GenerateVerifier()); q.Get("iss") != e.iss || q.Get("code") == "" {
		t.Fatalf("code response %v: want iss %s", q, e.iss)
	}
	q := fapiParams(e, kc, oauth2.GenerateVerifier())
	loc, _ := url.Parse(e.get(e.iss + "/oauth2/authorize?" + q.Encode()).Header.Get("Location"))
	if loc.Query().Get("error") == "" || loc.Query().Get("iss") != e.iss {
		t.Fatalf("error response %s: want iss", loc)
	}
}

// nonceTransport is a DPoP client's transport: a proof on every request,
// retried once with the server's nonce when told use_dpop_nonce.
type nonceTransport struct {
	k     *dpopKey
	nonce string
}

func (d *nonceTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	send := func() (*http.Response, error) {
		r2 := r.Clone(r.Context())
		if r.GetBody != nil {
			b, err := r.GetBody()
			if err != nil {
				return nil, err
			}
			r2.Body = b
		}
		u := *r.URL
		u.RawQuery = ""
		n := d.nonce
		r2.Header.Set("DPoP", d.k.proof(r.Method, u.String(), func(c map[string]any) {
			if n != "" {
				c["nonce"] = n
			}
		}))
		return http.DefaultTransport.RoundTrip(r2)
	}
	resp, err := send()
	if err != nil {
		return nil, err
	}
	if n := resp.Header.Get("DPoP-Nonce"); n != "" {
		d.nonce = n
		if resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusUnauthorized {
			resp.Body.Close()
			return send()
		}
	}
	return resp, nil
}

// TestFAPI2FullFlow: in the fapi2 profile, a private_key_jwt + DPoP client
// with golang.org/x/oauth2 and go-oidc: PAR, code, DPoP-bound tokens
// (nonces required), the ID token verified, userinfo with a proof, a
// refresh, and the retry of the rotated refresh token succeeding.
func TestFAPI2FullFlow(t *testing.T) {
	e := fapiEnv(t, nil)
	kc := e.fapiClient()
	k := newDPoPKey(t)
	// A proof without a nonce is told use_dpop_nonce: nonces are on.
	resp := e.postWithProof("/oauth2/par", kc.authForm(t, e.iss, fapiParams(e, kc, oauth2.GenerateVerifier())), "", "", k.proof(http.MethodPost, e.iss+"/oauth2/par", nil))
	if r := decodeResult(t, resp); r.Error != "use_dpop_nonce" || resp.Header.Get("DPoP-Nonce") == "" {
		t.Fatalf("proof without a nonce at PAR: %d %s, nonce %q", r.Status, r.Error, resp.Header.Get("DPoP-Nonce"))
	}

	hc := &http.Client{Transport: &nonceTransport{k: k}}
	ctx := oidc.ClientContext(e.ctx, hc)
	ctx = context.WithValue(ctx, oauth2.HTTPClient, hc)
	provider, err := oidc.NewProvider(ctx, e.iss)
	must(t, err)
	conf := oauth2.Config{ClientID: kc.client.ID, Endpoint: provider.Endpoint(), RedirectURL: fapiRedirect, Scopes: allScopes}
	conf.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	verifier := oauth2.GenerateVerifier()
	q := e.fapiCode(kc, k, verifier)
	if q.Get("iss") != e.iss {
		t.Fatalf("authorization response without iss: %v", q)
	}
	tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier),
		oauth2.SetAuthURLParam("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
		oauth2.SetAuthURLParam("client_assertion", kc.assertion(t, e.iss, nil)))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	if tok.TokenType != "DPoP" {
		t.Fatalf("token_type %q, want DPoP", tok.TokenType)
	}
	raw, _ := tok.Extra("id_token").(string)
	if _, err := provider.Verifier(&oidc.Config{ClientID: kc.client.ID}).Verify(ctx, raw); err != nil {
		t.Fatalf("id token: %v", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.iss+"/userinfo", nil)
	must(t, err)
	req.Header.Set("Authorization", "DPoP "+tok.AccessToken)
	ui, err := (&http.Client{Transport: resourceTransport{hc.Transport.(*nonceTransport), tok.AccessToken}}).Do(req)
	must(t, err)
	ui.Body.Close()
	if ui.StatusCode != http.StatusOK {
		t.Fatalf("userinfo: %d", ui.StatusCode)
	}
	refresh := func() dpopResult {
		return decodeResult(t, e.postNonced("/oauth2/token", func() url.Values {
			return kc.authForm(t, e.iss, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}})
		}, k))
	}
	r := refresh()
	if r.Status != http.StatusOK || r.TokenType != "DPoP" {
		t.Fatalf("refresh: %d %s %s", r.Status, r.Error, r.Description)
	}
	// The client lost the answer and retries with the previous refresh
	// token: it succeeds (FAPI 2.0 §5.3.2.1-8).
	if r := refresh(); r.Status != http.StatusOK || r.TokenType != "DPoP" {
		t.Fatalf("refresh retry: %d %s %s", r.Status, r.Error, r.Description)
	}
}

// resourceTransport adds the access token's ath to the nonceTransport's
// proofs.
type resourceTransport struct {
	n     *nonceTransport
	token string
}

func (rt resourceTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	send := func() (*http.Response, error) {
		r2 := r.Clone(r.Context())
		n := rt.n.nonce
		r2.Header.Set("DPoP", rt.n.k.resourceProof(r.Method, r.URL.String(), rt.token, func(c map[string]any) {
			if n != "" {
				c["nonce"] = n
			}
		}))
		return http.DefaultTransport.RoundTrip(r2)
	}
	resp, err := send()
	if err == nil && resp.StatusCode == http.StatusUnauthorized && resp.Header.Get("DPoP-Nonce") != "" {
		rt.n.nonce = resp.Header.Get("DPoP-Nonce")
		resp.Body.Close()
		return send()
	}
	return resp, err
}

package authz_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	josev4 "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/bankfeed/bankfeed/authz"
	"github.com/bankfeed/bankfeed/store"
)

// dpopKey is the test's DPoP client side: its own key, its own proofs.
type dpopKey struct {
	t   testing.TB
	key *ecdsa.PrivateKey
	jkt string
}

func newDPoPKey(t testing.TB) *dpopKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	tp, err := (&josev4.JSONWebKey{Key: &k.PublicKey}).Thumbprint(crypto.SHA256)
	must(t, err)
	return &dpopKey{t: t, key: k, jkt: base64.RawURLEncoding.EncodeToString(tp)}
}

// proof signs a proof for method and target; mutate edits the claims.
func (k *dpopKey) proof(method, target string, mutate func(map[string]any)) string {
	k.t.Helper()
	claims := map[string]any{"jti": store.RandomToken(16), "htm": method, "htu": target, "iat": time.Now().Unix()}
	if mutate != nil {
		mutate(claims)
	}
	payload, err := json.Marshal(claims)
	must(k.t, err)
	opts := (&josev4.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt")
	signer, err := josev4.NewSigner(josev4.SigningKey{Algorithm: josev4.ES256, Key: k.key}, opts)
	must(k.t, err)
	jws, err := signer.Sign(payload)
	must(k.t, err)
	s, err := jws.CompactSerialize()
	must(k.t, err)
	return s
}

// resourceProof is a proof for a resource request with the token's ath.
func (k *dpopKey) resourceProof(method, target, token string, mutate func(map[string]any)) string {
	sum := sha256.Sum256([]byte(token))
	return k.proof(method, target, func(c map[string]any) {
		c["ath"] = base64.RawURLEncoding.EncodeToString(sum[:])
		if mutate != nil {
			mutate(c)
		}
	})
}

// dpopResult is a token endpoint answer with the DPoP bits.
type dpopResult struct {
	tokenResult
	TokenType string `json:"token_type"`
	Nonce     string
}

// dpopToken posts a token request with the proof (none if empty).
func (e *env) dpopToken(form url.Values, user, pass, proof string) dpopResult {
	e.t.Helper()
	resp := e.postWithProof("/oauth2/token", form, user, pass, proof)
	var r dpopResult
	must(e.t, json.NewDecoder(resp.Body).Decode(&r))
	r.Status = resp.StatusCode
	r.Nonce = resp.Header.Get("DPoP-Nonce")
	return r
}

func (e *env) postWithProof(path string, form url.Values, user, pass, proof string) *http.Response {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.iss+path, strings.NewReader(form.Encode()))
	must(e.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	}
	if proof != "" {
		req.Header.Set("DPoP", proof)
	}
	resp, err := http.DefaultClient.Do(req)
	must(e.t, err)
	return buffered(e.t, resp)
}

// dpopCode runs the code flow for the vendor up to the code; extra adds
// authorize parameters (dpop_jkt).
func (e *env) dpopCode(extra url.Values) (code, verifier string) {
	e.t.Helper()
	verifier = oauth2.GenerateVerifier()
	q := e.authorizeParams(e.vendor.ID, oauth2.S256ChallengeFromVerifier(verifier))
	for k, v := range extra {
		q[k] = v
	}
	return e.codeFor(q, e.user.ID, allScopes).Get("code"), verifier
}

func codeForm(code, verifier string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}
}

// dpopExchange gets tokens bound to k for the vendor.
func (e *env) dpopExchange(k *dpopKey) dpopResult {
	e.t.Helper()
	code, verifier := e.dpopCode(nil)
	r := e.dpopToken(codeForm(code, verifier), e.vendor.ID, e.secret, k.proof(http.MethodPost, e.iss+"/oauth2/token", nil))
	if r.Status != http.StatusOK || r.TokenType != "DPoP" {
		e.t.Fatalf("DPoP exchange: %d %s %s (token_type %q)", r.Status, r.Error, r.Description, r.TokenType)
	}
	return r
}

// userinfoWith calls /userinfo with an Authorization header and a proof.
func (e *env) userinfoWith(auth, proof string) *http.Response {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.iss+"/userinfo", nil)
	must(e.t, err)
	req.Header.Set("Authorization", auth)
	if proof != "" {
		req.Header.Set("DPoP", proof)
	}
	resp, err := http.DefaultClient.Do(req)
	must(e.t, err)
	return buffered(e.t, resp)
}

// wantTokenError: the token endpoint refused with code (400).
func wantTokenError(t testing.TB, r dpopResult, code string) {
	t.Helper()
	if r.Status != http.StatusBadRequest || r.Error != code {
		t.Fatalf("token endpoint: %d %q (%s), want 400 %q", r.Status, r.Error, r.Description, code)
	}
}

// wantResourceError: /userinfo refused with 401 and the challenge names
// the error (on the DPoP scheme for proof errors).
func wantResourceError(t testing.TB, resp *http.Response, code string) {
	t.Helper()
	ch := resp.Header.Get("WWW-Authenticate")
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(ch, `error="`+code+`"`) {
		t.Fatalf("userinfo: %d, WWW-Authenticate %q; want 401 with error=%q", resp.StatusCode, ch, code)
	}
	if !strings.HasPrefix(ch, "Bearer realm=") || !strings.Contains(ch, `algs="ES256 PS256 EdDSA"`) {
		t.Fatalf("WWW-Authenticate %q: want both schemes (Bearer realm, DPoP algs)", ch)
	}
	if (code == "invalid_dpop_proof" || code == "use_dpop_nonce") && !strings.Contains(ch, `DPoP error="`+code+`"`) {
		t.Fatalf("WWW-Authenticate %q: want the error on the DPoP scheme", ch)
	}
}

// dpopTransport adds a fresh proof to every request, as a DPoP client does.
type dpopTransport struct{ k *dpopKey }

func (d dpopTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	u := *r.URL
	u.RawQuery = ""
	r.Header.Set("DPoP", d.k.proof(r.Method, u.String(), nil))
	return http.DefaultTransport.RoundTrip(r)
}

// TestDPoPCodeFlow: the happy path of a confidential client
// (client_secret_basic) with golang.org/x/oauth2: the discovery document
// advertises the algorithms, the token is DPoP-bound (token_type DPoP, the
// refresh keeps the binding) and works at /userinfo with a proof.
func TestDPoPCodeFlow(t *testing.T) {
	e := newEnv(t, envOpts{})
	k := newDPoPKey(t)
	provider, err := oidc.NewProvider(e.ctx, e.iss)
	must(t, err)
	var meta struct {
		Algs []string `json:"dpop_signing_alg_values_supported"`
	}
	must(t, provider.Claims(&meta))
	if strings.Join(meta.Algs, " ") != "ES256 PS256 EdDSA" {
		t.Fatalf("dpop_signing_alg_values_supported = %v", meta.Algs)
	}
	endpoint := provider.Endpoint()
	endpoint.AuthStyle = oauth2.AuthStyleInHeader
	conf := oauth2.Config{ClientID: e.vendor.ID, ClientSecret: e.secret, Endpoint: endpoint, RedirectURL: redirectURI,
		Scopes: allScopes}
	ctx := context.WithValue(e.ctx, oauth2.HTTPClient, &http.Client{Transport: dpopTransport{k}})
	verifier := oauth2.GenerateVerifier()
	u, err := url.Parse(conf.AuthCodeURL("state-abcdefgh", oauth2.S256ChallengeOption(verifier)))
	must(t, err)
	ch := e.startAuthorize(u.Query())
	q := e.resume(ch, e.decideFlowInStore(ch, e.user.ID, allScopes, false)).Query()
	tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	must(t, err)
	if tok.Type() != "DPoP" {
		t.Fatalf("token_type %q, want DPoP", tok.TokenType)
	}
	resp := e.userinfoWith("DPoP "+tok.AccessToken, k.resourceProof(http.MethodGet, e.iss+"/userinfo", tok.AccessToken, nil))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("userinfo with DPoP: %d %s", resp.StatusCode, readBody(resp))
	}
	// The refresh (x/oauth2's token source) proves the same key.
	tok.Expiry = time.Now().Add(-time.Minute)
	next, err := conf.TokenSource(ctx, tok).Token()
	must(t, err)
	if next.Type() != "DPoP" || next.AccessToken == tok.AccessToken {
		t.Fatalf("refreshed token_type %q", next.TokenType)
	}
	resp = e.userinfoWith("DPoP "+next.AccessToken, k.resourceProof(http.MethodGet, e.iss+"/userinfo", next.AccessToken, nil))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("userinfo with the refreshed token: %d %s", resp.StatusCode, readBody(resp))
	}
	// Introspection tells the resource server the binding (RFC 9449 §6.2).
	ir := e.postForm("/oauth2/introspect", url.Values{"token": {next.AccessToken}}, e.vendor.ID, e.secret)
	var in struct {
		Active    bool              `json:"active"`
		Cnf       map[string]string `json:"cnf"`
		TokenType string            `json:"token_type"`
	}
	must(t, json.NewDecoder(ir.Body).Decode(&in))
	if !in.Active || in.Cnf["jkt"] != k.jkt || in.TokenType != "DPoP" {
		t.Fatalf("introspection %+v, want active with cnf.jkt %s", in, k.jkt)
	}
	// The token record carries the binding.
	if _, err := e.srv.Verify(e.ctx, next.AccessToken); err == nil {
		t.Fatal("Verify (no request, no proof) accepted a DPoP-bound token")
	}
}

// TestDPoPPrivateKeyJWTWithPAR: the happy path of a private_key_jwt client
// through PAR, the PAR request's DPoP header binding the code; the JWT
// access token carries cnf.jkt.
func TestDPoPPrivateKeyJWTWithPAR(t *testing.T) {
	e := newEnv(t, envOpts{cfg: func(c *authz.Config) { c.TokenFormat = "jwt" }})
	kc := e.newKeyClient(authz.ClientSpec{RequirePAR: true})
	k := newDPoPKey(t)
	verifier := oauth2.GenerateVerifier()
	form := kc.authForm(t, e.iss, e.authorizeParams(kc.client.ID, oauth2.S256ChallengeFromVerifier(verifier)))
	resp := e.postWithProof("/oauth2/par", form, "", "", k.proof(http.MethodPost, e.iss+"/oauth2/par", nil))
	var par struct {
		RequestURI string `json:"request_uri"`
	}
	must(t, json.NewDecoder(resp.Body).Decode(&par))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("par: %d", resp.StatusCode)
	}
	q := e.codeFor(url.Values{"client_id": {kc.client.ID}, "request_uri": {par.RequestURI}}, e.user.ID, allScopes)
	tokenForm := func() url.Values { return kc.authForm(t, e.iss, codeForm(q.Get("code"), verifier)) }
	// The code is bound: another key cannot exchange it.
	other := newDPoPKey(t)
	wantTokenError(t, e.dpopToken(tokenForm(), "", "", other.proof(http.MethodPost, e.iss+"/oauth2/token", nil)), "invalid_dpop_proof")
	// (The refused exchange consumed the PKCE challenge: a stolen code is
	// burnt, so the rightful key gets a fresh code.)
	q = e.codeFor(url.Values{"client_id": {kc.client.ID}, "request_uri": {e.parWithProof(kc, k, verifier)}}, e.user.ID, allScopes)
	r := e.dpopToken(tokenForm(), "", "", k.proof(http.MethodPost, e.iss+"/oauth2/token", nil))
	if r.Status != http.StatusOK || r.TokenType != "DPoP" {
		t.Fatalf("exchange: %d %s %s %q", r.Status, r.Error, r.Description, r.TokenType)
	}
	var claims struct {
		Cnf map[string]string `json:"cnf"`
	}
	parts := strings.Split(r.AccessToken, ".")
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	must(t, err)
	must(t, json.Unmarshal(b, &claims))
	if claims.Cnf["jkt"] != k.jkt {
		t.Fatalf("JWT access token cnf %v, want jkt %s", claims.Cnf, k.jkt)
	}
	ui := e.userinfoWith("DPoP "+r.AccessToken, k.resourceProof(http.MethodGet, e.iss+"/userinfo", r.AccessToken, nil))
	if ui.StatusCode != http.StatusOK {
		t.Fatalf("userinfo: %d %s", ui.StatusCode, readBody(ui))
	}
	rr := e.dpopToken(kc.authForm(t, e.iss, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {r.RefreshToken}}), "", "",
		k.proof(http.MethodPost, e.iss+"/oauth2/token", nil))
	if rr.Status != http.StatusOK || rr.TokenType != "DPoP" {
		t.Fatalf("refresh: %d %s %q", rr.Status, rr.Error, rr.TokenType)
	}
}

func (e *env) parWithProof(kc keyClient, k *dpopKey, verifier string) string {
	e.t.Helper()
	form := kc.authForm(e.t, e.iss, e.authorizeParams(kc.client.ID, oauth2.S256ChallengeFromVerifier(verifier)))
	resp := e.postWithProof("/oauth2/par", form, "", "", k.proof(http.MethodPost, e.iss+"/oauth2/par", nil))
	var par struct {
		RequestURI string `json:"request_uri"`
	}
	must(e.t, json.NewDecoder(resp.Body).Decode(&par))
	if resp.StatusCode != http.StatusCreated {
		e.t.Fatalf("par: %d", resp.StatusCode)
	}
	return par.RequestURI
}

// tokenProofCase runs a code exchange with a proof mutated by mutate and
// wants invalid_dpop_proof.
func tokenProofCase(t *testing.T, method, target func(e *env) string, mutate func(map[string]any)) {
	e := newEnv(t, envOpts{})
	k := newDPoPKey(t)
	code, verifier := e.dpopCode(nil)
	wantTokenError(t, e.dpopToken(codeForm(code, verifier), e.vendor.ID, e.secret, k.proof(method(e), target(e), mutate)), "invalid_dpop_proof")
}

func post(*env) string       { return http.MethodPost }
func tokenURL(e *env) string { return e.iss + "/oauth2/token" }
func withIAT(d time.Duration) func(map[string]any) {
	return func(c map[string]any) { c["iat"] = time.Now().Add(d).Unix() }
}

func TestDPoPWrongHTM(t *testing.T) {
	tokenProofCase(t, func(*env) string { return http.MethodGet }, tokenURL, nil)
}

func TestDPoPWrongHTU(t *testing.T) {
	tokenProofCase(t, post, func(e *env) string { return e.iss + "/oauth2/par" }, nil)
}

// TestDPoPHTUNormalised: the htu is compared after normalisation, without
// query and fragment (RFC 9449 §4.3).
func TestDPoPHTUNormalised(t *testing.T) {
	e := newEnv(t, envOpts{})
	k := newDPoPKey(t)
	code, verifier := e.dpopCode(nil)
	htu := strings.Replace(e.iss, "http://", "HTTP://", 1) + "/oauth2/token?x=1#f"
	r := e.dpopToken(codeForm(code, verifier), e.vendor.ID, e.secret, k.proof(http.MethodPost, htu, nil))
	if r.Status != http.StatusOK || r.TokenType != "DPoP" {
		t.Fatalf("exchange with htu %s: %d %s %s", htu, r.Status, r.Error, r.Description)
	}
}

func TestDPoPStaleIAT(t *testing.T) {
	tokenProofCase(t, post, tokenURL, withIAT(-2*time.Minute))
}

func TestDPoPFutureIAT(t *testing.T) {
	tokenProofCase(t, post, tokenURL, withIAT(time.Minute))
}

// TestDPoPNotSignedByItsKey: a proof whose jwk is not the signing key.
func TestDPoPPrivateJWKRefused(t *testing.T) {
	e := newEnv(t, envOpts{})
	k := newDPoPKey(t)
	code, verifier := e.dpopCode(nil)
	opts := (&josev4.SignerOptions{}).WithType("dpop+jwt").WithHeader("jwk", josev4.JSONWebKey{Key: k.key})
	signer, err := josev4.NewSigner(josev4.SigningKey{Algorithm: josev4.ES256, Key: k.key}, opts)
	must(t, err)
	payload, _ := json.Marshal(map[string]any{"jti": "j-1", "htm": "POST", "htu": e.iss + "/oauth2/token", "iat": time.Now().Unix()})
	jws, err := signer.Sign(payload)
	must(t, err)
	s, err := jws.CompactSerialize()
	must(t, err)
	wantTokenError(t, e.dpopToken(codeForm(code, verifier), e.vendor.ID, e.secret, s), "invalid_dpop_proof")
}

// TestDPoPReplayedJTI: a proof used once at the token endpoint is refused
// the second time.
func TestDPoPReplayedJTI(t *testing.T) {
	e := newEnv(t, envOpts{})
	k := newDPoPKey(t)
	r := e.dpopExchange(k)
	proof := k.proof(http.MethodPost, e.iss+"/oauth2/token", nil)
	rt := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {r.RefreshToken}}
	r2 := e.dpopToken(rt, e.vendor.ID, e.secret, proof)
	if r2.Status != http.StatusOK {
		t.Fatalf("refresh: %d %s", r2.Status, r2.Error)
	}
	rt.Set("refresh_token", r2.RefreshToken)
	wantTokenError(t, e.dpopToken(rt, e.vendor.ID, e.secret, proof), "invalid_dpop_proof")
}

// TestDPoPReplayedJTIAcrossReplicas: PAR on one server, the same proof at
// the other's PAR (two servers, one database) is refused.
func TestDPoPReplayedJTIAcrossReplicas(t *testing.T) {
	e := newEnv(t, envOpts{twoServers: true})
	kc := e.newKeyClient(authz.ClientSpec{})
	k := newDPoPKey(t)
	proof := k.proof(http.MethodPost, e.iss+"/oauth2/par", nil)
	verifier := oauth2.GenerateVerifier()
	form := func() url.Values {
		return kc.authForm(t, e.iss, e.authorizeParams(kc.client.ID, oauth2.S256ChallengeFromVerifier(verifier)))
	}
	// The shared URL routes PAR to replica B.
	if resp := e.postWithProof("/oauth2/par", form(), "", "", proof); resp.StatusCode != http.StatusCreated {
		t.Fatalf("PAR on replica B: %d %s", resp.StatusCode, readBody(resp))
	}
	req := httptest.NewRequest(http.MethodPost, "/oauth2/par", strings.NewReader(form().Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("DPoP", proof)
	rec := httptest.NewRecorder()
	e.echo.ServeHTTP(rec, req)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "invalid_dpop_proof") {
		t.Fatalf("the same proof at replica A's PAR: %d %s, want 400 invalid_dpop_proof", rec.Code, rec.Body)
	}
}

// TestDPoPWrongATH: at a resource, a proof whose ath is not the token's.
func TestDPoPWrongATH(t *testing.T) {
	e := newEnv(t, envOpts{})
	k := newDPoPKey(t)
	r := e.dpopExchange(k)
	proof := k.resourceProof(http.MethodGet, e.iss+"/userinfo", r.AccessToken+"x", nil)
	wantResourceError(t, e.userinfoWith("DPoP "+r.AccessToken, proof), "invalid_dpop_proof")
}

// TestDPoPResourceReplay: a resource proof used twice on one replica.
func TestDPoPResourceReplay(t *testing.T) {
	e := newEnv(t, envOpts{})
	k := newDPoPKey(t)
	r := e.dpopExchange(k)
	proof := k.resourceProof(http.MethodGet, e.iss+"/userinfo", r.AccessToken, nil)
	if resp := e.userinfoWith("DPoP "+r.AccessToken, proof); resp.StatusCode != http.StatusOK {
		t.Fatalf("userinfo: %d", resp.StatusCode)
	}
	wantResourceError(t, e.userinfoWith("DPoP "+r.AccessToken, proof), "invalid_dpop_proof")
}

// TestDPoPResourceWrongHTU: a proof made for another resource.
func TestDPoPResourceWrongHTU(t *testing.T) {
	e := newEnv(t, envOpts{})
	k := newDPoPKey(t)
	r := e.dpopExchange(k)
	proof := k.resourceProof(http.MethodGet, e.iss+"/fdx/v6/accounts", r.AccessToken, nil)
	wantResourceError(t, e.userinfoWith("DPoP "+r.AccessToken, proof), "invalid_dpop_proof")
}

func nonceEnv(t *testing.T) *env {
	return newEnv(t, envOpts{cfg: func(c *authz.Config) { c.DPoP.NonceRequired = true }})
}

// TestDPoPMissingNonce: with nonces required, a proof without one is 400
// use_dpop_nonce with a DPoP-Nonce, and the retry with it succeeds.
func TestDPoPMissingNonce(t *testing.T) {
	e := nonceEnv(t)
	k := newDPoPKey(t)
	code, verifier := e.dpopCode(nil)
	r := e.dpopToken(codeForm(code, verifier), e.vendor.ID, e.secret, k.proof(http.MethodPost, e.iss+"/oauth2/token", nil))
	wantTokenError(t, r, "use_dpop_nonce")
	if r.Nonce == "" {
		t.Fatal("use_dpop_nonce without a DPoP-Nonce header")
	}
	r = e.dpopToken(codeForm(code, verifier), e.vendor.ID, e.secret, k.proof(http.MethodPost, e.iss+"/oauth2/token", func(c map[string]any) { c["nonce"] = r.Nonce }))
	if r.Status != http.StatusOK || r.TokenType != "DPoP" {
		t.Fatalf("retry with the nonce: %d %s %s", r.Status, r.Error, r.Description)
	}
	// At a resource: 401 with DPoP error="use_dpop_nonce" and a nonce.
	resp := e.userinfoWith("DPoP "+r.AccessToken, k.resourceProof(http.MethodGet, e.iss+"/userinfo", r.AccessToken, nil))
	wantResourceError(t, resp, "use_dpop_nonce")
	n := resp.Header.Get("DPoP-Nonce")
	if n == "" {
		t.Fatal("resource use_dpop_nonce without a DPoP-Nonce header")
	}
	resp = e.userinfoWith("DPoP "+r.AccessToken, k.resourceProof(http.MethodGet, e.iss+"/userinfo", r.AccessToken, func(c map[string]any) { c["nonce"] = n }))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("userinfo with the nonce: %d %s", resp.StatusCode, readBody(resp))
	}
}

// TestDPoPStaleNonce: a nonce from two time slots ago (over 5 minutes) is
// refused with a fresh one, at the token endpoint and at a resource.
func TestDPoPStaleNonce(t *testing.T) {
	e := nonceEnv(t)
	// The old nonce is had 11 minutes ago; then the clock comes back to now
	// (fosite stamps token expiry with the real time).
	e.clock.Advance(-11 * time.Minute)
	e.clock.Freeze()
	k := newDPoPKey(t)
	at := func(n string) func(c map[string]any) {
		return func(c map[string]any) { c["nonce"] = n; c["iat"] = e.clock.Now().Unix() }
	}
	old := e.dpopToken(url.Values{"grant_type": {"client_credentials"}}, e.vendor.ID, e.secret,
		k.proof(http.MethodPost, e.iss+"/oauth2/token", at(""))).Nonce
	if old == "" {
		t.Fatal("no DPoP-Nonce")
	}
	e.clock.Advance(11 * time.Minute)
	code, verifier := e.dpopCode(nil)
	r := e.dpopToken(codeForm(code, verifier), e.vendor.ID, e.secret, k.proof(http.MethodPost, e.iss+"/oauth2/token", at(old)))
	wantTokenError(t, r, "use_dpop_nonce")
	if r.Nonce == "" || r.Nonce == old {
		t.Fatalf("DPoP-Nonce %q: want a fresh nonce", r.Nonce)
	}
	r = e.dpopToken(codeForm(code, verifier), e.vendor.ID, e.secret, k.proof(http.MethodPost, e.iss+"/oauth2/token", at(r.Nonce)))
	if r.Status != http.StatusOK {
		t.Fatalf("exchange with the fresh nonce: %d %s %s", r.Status, r.Error, r.Description)
	}
	resp := e.userinfoWith("DPoP "+r.AccessToken, k.resourceProof(http.MethodGet, e.iss+"/userinfo", r.AccessToken, at(old)))
	wantResourceError(t, resp, "use_dpop_nonce")
}

// TestDPoPBoundTokenAsBearer: a bound token presented as Bearer is
// invalid_token (RFC 9449 §7.2), even with a valid proof.
func TestDPoPBoundTokenAsBearer(t *testing.T) {
	e := newEnv(t, envOpts{})
	k := newDPoPKey(t)
	r := e.dpopExchange(k)
	wantResourceError(t, e.userinfoWith("Bearer "+r.AccessToken, ""), "invalid_token")
	wantResourceError(t, e.userinfoWith("Bearer "+r.AccessToken, k.resourceProof(http.MethodGet, e.iss+"/userinfo", r.AccessToken, nil)), "invalid_token")
}

// TestDPoPBoundTokenOtherKey: a bound token with a proof of another key.
func TestDPoPBoundTokenOtherKey(t *testing.T) {
	e := newEnv(t, envOpts{})
	r := e.dpopExchange(newDPoPKey(t))
	other := newDPoPKey(t)
	wantResourceError(t, e.userinfoWith("DPoP "+r.AccessToken, other.resourceProof(http.MethodGet, e.iss+"/userinfo", r.AccessToken, nil)), "invalid_dpop_proof")
}

// TestDPoPBoundTokenWithoutProof: the DPoP scheme without a proof.
func TestDPoPBoundTokenWithoutProof(t *testing.T) {
	e := newEnv(t, envOpts{})
	r := e.dpopExchange(newDPoPKey(t))
	wantResourceError(t, e.userinfoWith("DPoP "+r.AccessToken, ""), "invalid_dpop_proof")
}

// TestDPoPCodeBoundToOtherKey: a code bound to key A by dpop_jkt at the
// authorization endpoint, exchanged with a proof of key B (RFC 9449 §10),
// and without a proof.
func TestDPoPCodeBoundToOtherKey(t *testing.T) {
	e := newEnv(t, envOpts{})
	a, b := newDPoPKey(t), newDPoPKey(t)
	code, verifier := e.dpopCode(url.Values{"dpop_jkt": {a.jkt}})
	wantTokenError(t, e.dpopToken(codeForm(code, verifier), e.vendor.ID, e.secret, b.proof(http.MethodPost, e.iss+"/oauth2/token", nil)), "invalid_dpop_proof")
	code, verifier = e.dpopCode(url.Values{"dpop_jkt": {a.jkt}})
	wantTokenError(t, e.dpopToken(codeForm(code, verifier), e.vendor.ID, e.secret, ""), "invalid_dpop_proof")
	code, verifier = e.dpopCode(url.Values{"dpop_jkt": {a.jkt}})
	r := e.dpopToken(codeForm(code, verifier), e.vendor.ID, e.secret, a.proof(http.MethodPost, e.iss+"/oauth2/token", nil))
	if r.Status != http.StatusOK || r.TokenType != "DPoP" {
		t.Fatalf("exchange with key A: %d %s %s", r.Status, r.Error, r.Description)
	}
}

// TestDPoPPARJKTMismatch: dpop_jkt and the PAR request's proof disagree.
func TestDPoPPARJKTMismatch(t *testing.T) {
	e := newEnv(t, envOpts{})
	kc := e.newKeyClient(authz.ClientSpec{})
	a, b := newDPoPKey(t), newDPoPKey(t)
	form := kc.authForm(t, e.iss, e.authorizeParams(kc.client.ID, oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())))
	form.Set("dpop_jkt", a.jkt)
	resp := e.postWithProof("/oauth2/par", form, "", "", b.proof(http.MethodPost, e.iss+"/oauth2/par", nil))
	if body := readBody(resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "invalid_dpop_proof") {
		t.Fatalf("par: %d %s", resp.StatusCode, body)
	}
}

// TestDPoPRefreshWithoutProof: the refresh of a bound grant needs a proof,
// even from a confidential client.
func TestDPoPRefreshWithoutProof(t *testing.T) {
	e := newEnv(t, envOpts{})
	r := e.dpopExchange(newDPoPKey(t))
	wantTokenError(t, e.dpopToken(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {r.RefreshToken}}, e.vendor.ID, e.secret, ""), "invalid_dpop_proof")
}

// TestDPoPRefreshOtherKey: the refresh of a bound grant with another key.
func TestDPoPRefreshOtherKey(t *testing.T) {
	e := newEnv(t, envOpts{})
	r := e.dpopExchange(newDPoPKey(t))
	other := newDPoPKey(t)
	wantTokenError(t, e.dpopToken(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {r.RefreshToken}}, e.vendor.ID, e.secret,
		other.proof(http.MethodPost, e.iss+"/oauth2/token", nil)), "invalid_dpop_proof")
}

// TestDPoPBoundClientNeedsProof: a client registered with
// dpop_bound_access_tokens gets no token without a proof.
func TestDPoPBoundClientNeedsProof(t *testing.T) {
	e := newEnv(t, envOpts{})
	_, err := e.st.UpdateClient(e.ctx, e.vendor.ID, func(c store.Client) (store.Client, error) {
		c.DPoPBoundAccessTokens = true
		return c, nil
	})
	must(t, err)
	code, verifier := e.dpopCode(nil)
	wantTokenError(t, e.dpopToken(codeForm(code, verifier), e.vendor.ID, e.secret, ""), "invalid_request")
	e.dpopExchange(newDPoPKey(t))
}

// TestDPoPUnboundTokenWithDPoPScheme: a bearer token is not sent as DPoP.
func TestDPoPUnboundTokenWithDPoPScheme(t *testing.T) {
	e := newEnv(t, envOpts{})
	tr := e.exchange(e.vendor.ID, e.secret)
	k := newDPoPKey(t)
	wantResourceError(t, e.userinfoWith("DPoP "+tr.AccessToken, k.resourceProof(http.MethodGet, e.iss+"/userinfo", tr.AccessToken, nil)), "invalid_token")
	if resp := e.userinfoWith("Bearer "+tr.AccessToken, ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("bearer token as Bearer: %d", resp.StatusCode)
	}
}

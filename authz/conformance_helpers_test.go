package authz_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	josev4 "github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"
)

// The conformance_*_test.go files port the authorization-server modules of
// the OpenID Foundation's FAPI 2.0 conformance suite (openid/conformance-suite,
// plans fapi2-security-profile-final-test-plan and
// fapi2-message-signing-final-test-plan) that apply to bankfeed, as the suite
// runs them with client_auth_type=private_key_jwt, sender_constrain=dpop,
// fapi_profile=plain_fapi: each test is named after its module and says what
// the module checks. The README's "FAPI 2.0 conformance modules" maps every
// module of both plans to its test.

// conf is the suite's client side against a server in the fapi2 profile: a
// private_key_jwt client (ES256, registered key), DPoP proofs of its own key
// with the server's nonce, an https redirect URI.
type conf struct {
	*env
	kc    keyClient
	k     *dpopKey
	nonce string // the server's last DPoP-Nonce
}

func newConf(t *testing.T) *conf {
	e := fapiEnv(t, nil)
	return &conf{env: e, kc: e.fapiClient(), k: newDPoPKey(t)}
}

// params are the module's usual authorization request parameters, PKCE S256
// with verifier.
func (c *conf) params(verifier string) url.Values {
	return fapiParams(c.env, c.kc, verifier)
}

// send posts form (built afresh per attempt: assertions and proofs are single
// use) to path with a proof of k carrying the server's nonce (mutate edits its
// claims; a nil k sends no proof). Told use_dpop_nonce, it retries once with
// the new nonce, as the suite does.
func (c *conf) send(path string, form func() url.Values, k *dpopKey, mutate func(map[string]any)) *http.Response {
	c.t.Helper()
	do := func() *http.Response {
		proof := ""
		if k != nil {
			proof = k.proof(http.MethodPost, c.iss+path, func(cl map[string]any) {
				if c.nonce != "" {
					cl["nonce"] = c.nonce
				}
				if mutate != nil {
					mutate(cl)
				}
			})
		}
		return c.postWithProof(path, form(), "", "", proof)
	}
	resp := do()
	if n := resp.Header.Get("DPoP-Nonce"); n != "" {
		body, _ := io.ReadAll(resp.Body)
		resp.Body = io.NopCloser(strings.NewReader(string(body)))
		if n != c.nonce && strings.Contains(string(body), "use_dpop_nonce") {
			c.nonce = n
			return do()
		}
		c.nonce = n
	}
	return resp
}

// push sends params to PAR, authenticated by the client's assertion, with a
// proof of c.k.
func (c *conf) push(params url.Values) *http.Response {
	c.t.Helper()
	return c.pushAs(c.kc, params, c.k)
}

func (c *conf) pushAs(kc keyClient, params url.Values, k *dpopKey) *http.Response {
	c.t.Helper()
	return c.send("/oauth2/par", func() url.Values { return kc.authForm(c.t, c.iss, cloneValues(params)) }, k, nil)
}

// requestURI pushes params and returns the request_uri, or fails.
func (c *conf) requestURI(params url.Values) string {
	c.t.Helper()
	resp := c.push(params)
	body := readBody(resp)
	if resp.StatusCode != http.StatusCreated {
		c.t.Fatalf("par: %d %s", resp.StatusCode, body)
	}
	var par struct {
		RequestURI string `json:"request_uri"`
	}
	must(c.t, jsonUnmarshal(body, &par))
	return par.RequestURI
}

// authorize sends the browser to the authorization endpoint with client_id,
// request_uri and extra, lets the user consent (or refuse) past the pages,
// and returns the authorization response's parameters.
func (c *conf) authorize(clientID, requestURI string, extra url.Values, denied bool) url.Values {
	c.t.Helper()
	q := url.Values{"client_id": {clientID}, "request_uri": {requestURI}}
	for k, v := range extra {
		q[k] = v
	}
	ch := c.startAuthorize(q)
	v := c.decideFlowInStore(ch, c.user.ID, allScopes, denied)
	resp := c.get(c.iss + "/oauth2/authorize/resume?" + url.Values{"login_challenge": {ch}, "login_verifier": {v}}.Encode())
	loc, err := url.Parse(resp.Header.Get("Location"))
	must(c.t, err)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc.String(), fapiRedirect) {
		c.t.Fatalf("resume: %d to %s", resp.StatusCode, loc)
	}
	if loc.Fragment != "" {
		c.t.Fatalf("authorization response in the fragment: %s", loc)
	}
	return loc.Query()
}

// code runs PAR (params edited by mutate) and the authorization endpoint and
// returns the authorization response and the PKCE verifier.
func (c *conf) code(mutate func(url.Values)) (url.Values, string) {
	c.t.Helper()
	verifier := oauth2.GenerateVerifier()
	p := c.params(verifier)
	if mutate != nil {
		mutate(p)
	}
	q := c.authorize(c.kc.client.ID, c.requestURI(p), nil, false)
	if q.Get("code") == "" || q.Get("iss") != c.iss {
		c.t.Fatalf("authorization response %v: want a code and iss %s", q, c.iss)
	}
	return q, verifier
}

// token posts form to the token endpoint as kc with a proof of k.
func (c *conf) token(kc keyClient, form url.Values, k *dpopKey) dpopResult {
	c.t.Helper()
	return decodeResult(c.t, c.send("/oauth2/token", func() url.Values { return kc.authForm(c.t, c.iss, cloneValues(form)) }, k, nil))
}

// tokens runs the whole flow and returns DPoP-bound tokens.
func (c *conf) tokens() dpopResult {
	c.t.Helper()
	q, verifier := c.code(nil)
	r := c.token(c.kc, fapiCodeForm(q.Get("code"), verifier), c.k)
	if r.Status != http.StatusOK || r.TokenType != "DPoP" {
		c.t.Fatalf("code exchange: %d %s %s (token_type %q)", r.Status, r.Error, r.Description, r.TokenType)
	}
	return r
}

// resource calls target (a protected resource: /userinfo) with the request
// edit completes for the server's nonce (Authorization and DPoP headers);
// told use_dpop_nonce, it retries once with the new nonce, as the suite does.
func (c *conf) resource(target string, edit func(r *http.Request, nonce string)) *http.Response {
	c.t.Helper()
	do := func() *http.Response {
		req, err := http.NewRequest(http.MethodGet, target, nil)
		must(c.t, err)
		edit(req, c.nonce)
		resp, err := http.DefaultClient.Do(req)
		must(c.t, err)
		return buffered(c.t, resp)
	}
	resp := do()
	if n := resp.Header.Get("DPoP-Nonce"); n != "" && n != c.nonce {
		c.nonce = n
		if strings.Contains(resp.Header.Get("WWW-Authenticate"), "use_dpop_nonce") {
			return do()
		}
	}
	return resp
}

// idTokenClaims reads the ID token's claims (its signature is verified by
// TestFAPI2FullFlow; here only what it says matters).
func idTokenClaims(t testing.TB, raw string) jwt.MapClaims {
	t.Helper()
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(raw, claims); err != nil {
		t.Fatalf("id_token: %v", err)
	}
	return claims
}

// wantPARRefused: PAR answered 400 (or 401) with one of codes.
func wantPARRefused(t *testing.T, resp *http.Response, codes ...string) {
	t.Helper()
	r := decodeResult(t, resp)
	if r.Status != http.StatusBadRequest && r.Status != http.StatusUnauthorized {
		t.Fatalf("par: %d %s (%s), want 400 or 401 with one of %v", r.Status, r.Error, r.Description, codes)
	}
	for _, code := range codes {
		if r.Error == code {
			return
		}
	}
	t.Fatalf("par: %d %q (%s), want one of %v", r.Status, r.Error, r.Description, codes)
}

// wantTokenRefused: the token endpoint answered 400 (or 401 for
// invalid_client) with one of codes.
func wantTokenRefused(t *testing.T, r dpopResult, codes ...string) {
	t.Helper()
	for _, code := range codes {
		if r.Error == code && (r.Status == http.StatusBadRequest || (code == "invalid_client" && r.Status == http.StatusUnauthorized)) {
			return
		}
	}
	t.Fatalf("token endpoint: %d %q (%s), want one of %v", r.Status, r.Error, r.Description, codes)
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// publicJWK is k's public key as a JWK header value.
func publicJWK(t testing.TB, k *dpopKey) map[string]any {
	t.Helper()
	b, err := json.Marshal(josev4.JSONWebKey{Key: &k.key.PublicKey})
	must(t, err)
	var m map[string]any
	must(t, json.Unmarshal(b, &m))
	return m
}

// rawProof signs claims under exactly header (ES256 with k's key), so a
// module can drop or change any header member the server must check.
func rawProof(t testing.TB, k *dpopKey, header, claims map[string]any) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims(claims))
	tok.Header = header
	s, err := tok.SignedString(k.key)
	must(t, err)
	return s
}

package authz_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"

	"github.com/bankfeed/bankfeed/authz"
)

// requestObject signs form's parameters as a request object of kc (ES256,
// its registered key k1) for this issuer, valid for five minutes from now;
// mutate adjusts the claims.
func (e *env) requestObject(kc keyClient, form url.Values, mutate func(jwt.MapClaims)) string {
	e.t.Helper()
	now := e.clock.Now()
	claims := jwt.MapClaims{
		"iss": kc.client.ID, "aud": e.iss,
		"nbf": now.Unix(), "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"jti": "ro-" + now.Format(time.RFC3339Nano),
	}
	for k := range form {
		claims[k] = form.Get(k)
	}
	if mutate != nil {
		mutate(claims)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	tok.Header["kid"] = "k1"
	tok.Header["typ"] = "oauth-authz-req+jwt"
	s, err := tok.SignedString(kc.key)
	must(e.t, err)
	return s
}

// parObject pushes a request object for kc, authenticated with its
// assertion; outer are further outer parameters.
func (e *env) parObject(kc keyClient, request string, outer url.Values) *http.Response {
	e.t.Helper()
	f := url.Values{"client_id": {kc.client.ID}}
	if request != "" {
		f.Set("request", request)
	}
	for k, v := range outer {
		f[k] = v
	}
	return e.postForm("/oauth2/par", kc.authForm(e.t, e.iss, f), "", "")
}

func wantPARError(t *testing.T, resp *http.Response, want string) {
	t.Helper()
	var out struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	body := readBody(resp)
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatalf("PAR answered %d %s", resp.StatusCode, body)
	}
	if resp.StatusCode != http.StatusBadRequest || out.Error != want {
		t.Fatalf("PAR answered %d %q (%s), want 400 %q", resp.StatusCode, out.Error, out.Description, want)
	}
}

// TestJARAtPAR: a signed request object at PAR, then authorize with its
// request_uri, then the token exchange. Only the object's parameters count:
// the outer state and scope are ignored.
func TestJARAtPAR(t *testing.T) {
	e := newEnv(t, envOpts{})
	kc := e.newKeyClient(authz.ClientSpec{RequirePAR: true, RequireSignedRequestObject: true})
	verifier := oauth2.GenerateVerifier()
	form := e.authorizeParams(kc.client.ID, oauth2.S256ChallengeFromVerifier(verifier))
	form.Set("state", "object-state-123456")

	resp := e.parObject(kc, e.requestObject(kc, form, nil), url.Values{"state": {"outer-state-123456"}, "scope": {"admin"}})
	body := readBody(resp)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("par: %d %s", resp.StatusCode, body)
	}
	var out struct {
		RequestURI string `json:"request_uri"`
	}
	must(t, jsonUnmarshal(body, &out))

	q := e.codeFor(url.Values{"client_id": {kc.client.ID}, "request_uri": {out.RequestURI}}, e.user.ID, allScopes)
	if q.Get("state") != "object-state-123456" || q.Get("code") == "" || q.Get("iss") != e.iss {
		t.Fatalf("authorization response %v: want a code, iss and the object's state", q)
	}
	tr := e.token(kc.authForm(t, e.iss, url.Values{
		"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {redirectURI}, "code_verifier": {verifier},
	}), "", "")
	if tr.Status != http.StatusOK || tr.IDToken == "" || tr.AccessToken == "" {
		t.Fatalf("token: %+v", tr)
	}
	if strings.Contains(" "+tr.Scope+" ", " admin ") || !strings.Contains(tr.Scope, "accounts.read") {
		t.Fatalf("scope %q: want the object's scopes", tr.Scope)
	}
}

// jarCase pushes a request object for a fresh client and returns the
// answer; build signs it (or not).
func jarCase(t *testing.T, build func(e *env, kc keyClient, form url.Values) string) *http.Response {
	t.Helper()
	e := newEnv(t, envOpts{})
	kc := e.newKeyClient(authz.ClientSpec{RequirePAR: true})
	form := e.authorizeParams(kc.client.ID, oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier()))
	return e.parObject(kc, build(e, kc, form), nil)
}

func TestJARUnsignedObject(t *testing.T) {
	resp := jarCase(t, func(e *env, kc keyClient, form url.Values) string {
		// A JSON object, base64url'd, with no JWS around it.
		signed := e.requestObject(kc, form, nil)
		return strings.Split(signed, ".")[1]
	})
	wantPARError(t, resp, "invalid_request_object")
}

func TestJARAlgNone(t *testing.T) {
	resp := jarCase(t, func(e *env, kc keyClient, form url.Values) string {
		now := e.clock.Now()
		claims := jwt.MapClaims{"iss": kc.client.ID, "aud": e.iss, "nbf": now.Unix(), "exp": now.Add(time.Minute).Unix()}
		for k := range form {
			claims[k] = form.Get(k)
		}
		s, err := jwt.NewWithClaims(jwt.SigningMethodNone, claims).SignedString(jwt.UnsafeAllowNoneSignatureType)
		must(t, err)
		return s
	})
	wantPARError(t, resp, "invalid_request_object")
}

func TestJARWrongAudience(t *testing.T) {
	resp := jarCase(t, func(e *env, kc keyClient, form url.Values) string {
		return e.requestObject(kc, form, func(c jwt.MapClaims) { c["aud"] = "https://another-bank.example" })
	})
	wantPARError(t, resp, "invalid_request_object")
}

func TestJARExpired(t *testing.T) {
	resp := jarCase(t, func(e *env, kc keyClient, form url.Values) string {
		now := e.clock.Now()
		return e.requestObject(kc, form, func(c jwt.MapClaims) {
			c["nbf"], c["exp"] = now.Add(-10*time.Minute).Unix(), now.Add(-time.Minute).Unix()
		})
	})
	wantPARError(t, resp, "invalid_request_object")
}

func TestJARMissingNbf(t *testing.T) {
	resp := jarCase(t, func(e *env, kc keyClient, form url.Values) string {
		return e.requestObject(kc, form, func(c jwt.MapClaims) { delete(c, "nbf") })
	})
	wantPARError(t, resp, "invalid_request_object")
}

// TestJARLifetimeOver60Minutes: exp more than 60 minutes after nbf.
func TestJARLifetimeOver60Minutes(t *testing.T) {
	resp := jarCase(t, func(e *env, kc keyClient, form url.Values) string {
		now := e.clock.Now()
		return e.requestObject(kc, form, func(c jwt.MapClaims) { c["exp"] = now.Add(61 * time.Minute).Unix() })
	})
	wantPARError(t, resp, "invalid_request_object")
}

// TestJARAnotherClientsKey: an object naming the client, signed with a key
// it did not register.
func TestJARAnotherClientsKey(t *testing.T) {
	resp := jarCase(t, func(e *env, kc keyClient, form url.Values) string {
		other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		must(t, err)
		return e.requestObject(keyClient{client: kc.client, key: other}, form, nil)
	})
	wantPARError(t, resp, "invalid_request_object")
}

// TestJARIssuedByAnotherClient: client B pushes, authenticated as itself, an
// object A signed: refused, the object is not B's request.
func TestJARIssuedByAnotherClient(t *testing.T) {
	e := newEnv(t, envOpts{})
	a := e.newKeyClient(authz.ClientSpec{})
	b := e.newKeyClient(authz.ClientSpec{Name: "Other"})
	form := e.authorizeParams(a.client.ID, oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier()))
	obj := e.requestObject(a, form, nil)
	// With B's client_id outside, the object's issuer is not the client.
	wantPARError(t, e.parObject(b, obj, nil), "invalid_request_object")
	// Without a client_id, B's assertion authenticates B, not the issuer.
	f := b.authForm(t, e.iss, url.Values{"request": {obj}})
	resp := e.postForm("/oauth2/par", f, "", "")
	if resp.StatusCode == http.StatusCreated {
		t.Fatalf("PAR of A's object authenticated as B: %d %s", resp.StatusCode, readBody(resp))
	}
}

// TestJARRequiredButMissing: a client registered with
// require_signed_request_object may not push plain parameters.
func TestJARRequiredButMissing(t *testing.T) {
	e := newEnv(t, envOpts{})
	kc := e.newKeyClient(authz.ClientSpec{RequireSignedRequestObject: true})
	form := e.authorizeParams(kc.client.ID, oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier()))
	wantPARError(t, e.postForm("/oauth2/par", kc.authForm(t, e.iss, form), "", ""), "invalid_request")

	// A secret cannot sign: such a client cannot be registered.
	if _, _, err := authz.CreateClient(e.ctx, e.st, authz.ClientSpec{Name: "S", RedirectURIs: []string{redirectURI}, Secret: true, RequireSignedRequestObject: true}); err == nil {
		t.Fatal("a client_secret_basic client requiring signed request objects was created")
	}
}

package authz_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	josev4 "github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"

	"github.com/bankfeed/bankfeed/authz"
	"github.com/bankfeed/bankfeed/store"
)

// Modules of the FAPI 2.0 Message Signing plan
// (fapi2-message-signing-final-test-plan) that only it runs: signed request
// objects at PAR (fapi_auth_request_method=signed_non_repudiation). See
// conformance_helpers_test.go.

// pushObject pushes a request object of c's client made of claims (edited
// by mutate) beside the outer parameters, with the client's assertion and a
// proof of c.k.
func (c *conf) pushObject(claims url.Values, mutate func(jwt.MapClaims), outer url.Values) *http.Response {
	c.t.Helper()
	return c.pushRequest(func() string { return c.requestObject(c.kc, claims, mutate) }, outer)
}

// pushRequest pushes the request object object makes (afresh per attempt).
func (c *conf) pushRequest(object func() string, outer url.Values) *http.Response {
	c.t.Helper()
	return c.send("/oauth2/par", func() url.Values {
		f := url.Values{"client_id": {c.kc.client.ID}, "request": {object()}}
		for k, v := range outer {
			f[k] = v
		}
		return c.kc.authForm(c.t, c.iss, f)
	}, c.k, nil)
}

// pushedURI reads PAR's request_uri, or fails.
func pushedURI(t testing.TB, resp *http.Response) string {
	t.Helper()
	body := readBody(resp)
	var par struct {
		RequestURI string `json:"request_uri"`
	}
	if err := json.Unmarshal([]byte(body), &par); err != nil || resp.StatusCode != http.StatusCreated || par.RequestURI == "" {
		t.Fatalf("par: %d %s", resp.StatusCode, body)
	}
	return par.RequestURI
}

// signedFlow pushes an object of params (edited by mutate, outer beside it),
// runs the authorization endpoint with extra, and returns the response and,
// when a code came, the ID token's claims.
func (c *conf) signedFlow(verifier string, mutate func(jwt.MapClaims), outer, extra url.Values) (url.Values, jwt.MapClaims) {
	c.t.Helper()
	q := c.authorize(c.kc.client.ID, pushedURI(c.t, c.pushObject(c.params(verifier), mutate, outer)), extra, false)
	if q.Get("code") == "" {
		return q, nil
	}
	r := c.token(c.kc, fapiCodeForm(q.Get("code"), verifier), c.k)
	if r.Status != http.StatusOK {
		c.t.Fatalf("exchange: %d %s %s", r.Status, r.Error, r.Description)
	}
	return q, idTokenClaims(c.t, r.IDToken)
}

// TestConformanceFAPI2EnsureServerAcceptsRequestObjectWithMultipleAud ports
// fapi2-security-profile-final-ensure-request-object-with-multiple-aud-succeeds
// (FAPI2SPFinalEnsureServerAcceptsRequestObjectWithMultipleAud): a request
// object whose aud is an array holding the issuer and another value is
// accepted.
func TestConformanceFAPI2EnsureServerAcceptsRequestObjectWithMultipleAud(t *testing.T) {
	c := newConf(t)
	q, _ := c.signedFlow(oauth2.GenerateVerifier(), func(cl jwt.MapClaims) { cl["aud"] = []string{c.iss, "https://other.example"} }, nil, nil)
	if q.Get("code") == "" {
		t.Fatalf("authorization response %v, want a code", q)
	}
}

// TestConformanceFAPI2EnsureRequestObjectWithNbf8SecondsInTheFutureIsAccepted
// ports fapi2-security-profile-final-ensure-request-object-with-nbf-8-seconds-in-the-future-is-accepted
// (FAPI2SPFinalEnsureRequestObjectWithNbf8SecondsInTheFutureIsAccepted):
// nbf 8 s ahead (clock skew) is accepted at PAR.
func TestConformanceFAPI2EnsureRequestObjectWithNbf8SecondsInTheFutureIsAccepted(t *testing.T) {
	c := newConf(t)
	resp := c.pushObject(c.params(oauth2.GenerateVerifier()), func(cl jwt.MapClaims) { cl["nbf"] = time.Now().Add(8 * time.Second).Unix() }, nil)
	pushedURI(t, resp)
}

// TestConformanceFAPI2EnsureDifferentNonceInsideAndOutsideRequestObject ports
// fapi2-security-profile-final-ensure-different-nonce-inside-and-outside-request-object
// (FAPI2SPFinalEnsureDifferentNonceInsideAndOutsideRequestObject): another
// nonce beside the object (at PAR and at the authorization endpoint) may be
// refused, or ignored: bankfeed ignores it, and the ID token carries the
// object's nonce.
func TestConformanceFAPI2EnsureDifferentNonceInsideAndOutsideRequestObject(t *testing.T) {
	c := newConf(t)
	outside := url.Values{"nonce": {"outside-nonce-0123456789"}}
	_, cl := c.signedFlow(oauth2.GenerateVerifier(), nil, outside, outside)
	if cl == nil || cl["nonce"] != "nonce-1234567890" {
		t.Fatalf("id_token nonce %v, want the object's", cl["nonce"])
	}
}

// TestConformanceFAPI2EnsureDifferentStateInsideAndOutsideRequestObject ports
// fapi2-security-profile-final-ensure-different-state-inside-and-outside-request-object
// (FAPI2SPFinalEnsureDifferentStateInsideAndOutsideRequestObject): another
// state beside the object may be refused or ignored: bankfeed returns the
// object's state.
func TestConformanceFAPI2EnsureDifferentStateInsideAndOutsideRequestObject(t *testing.T) {
	c := newConf(t)
	outside := url.Values{"state": {"outside-state-0123456789"}}
	if q, _ := c.signedFlow(oauth2.GenerateVerifier(), nil, outside, outside); q.Get("state") != "state-1234567890" {
		t.Fatalf("authorization response %v, want the object's state", q)
	}
}

// TestConformanceFAPI2StateOnlyOutsideRequestObjectNotUsed ports
// fapi2-security-profile-final-state-only-outside-request-object-not-used
// (FAPI2SPFinalStateOnlyOutsideRequestObjectNotUsed): an object without
// state, a state beside it: the response carries no state (only the
// object's parameters count).
func TestConformanceFAPI2StateOnlyOutsideRequestObjectNotUsed(t *testing.T) {
	c := newConf(t)
	outside := url.Values{"state": {"outside-state-0123456789"}}
	q, _ := c.signedFlow(oauth2.GenerateVerifier(), func(cl jwt.MapClaims) { delete(cl, "state") }, outside, outside)
	if q.Has("state") || q.Get("code") == "" {
		t.Fatalf("authorization response %v, want a code and no state", q)
	}
}

// TestConformanceFAPI2MSEnsureRequestObjectWithoutExpFails ports
// fapi2-security-profile-final-ensure-request-object-without-exp-fails
// (FAPI2SPFinalEnsureRequestObjectWithoutExpFails): an object without exp is
// refused at PAR.
func TestConformanceFAPI2MSEnsureRequestObjectWithoutExpFails(t *testing.T) {
	c := newConf(t)
	wantPARRefused(t, c.pushObject(c.params(oauth2.GenerateVerifier()), func(cl jwt.MapClaims) { delete(cl, "exp") }, nil), "invalid_request_object", "invalid_request")
}

// TestConformanceFAPI2MSEnsureRequestObjectWithoutRedirectUriFails ports
// fapi2-security-profile-final-ensure-request-object-without-redirect-uri-fails
// (FAPI2SPFinalEnsureRequestObjectWithoutRedirectUriFails) as the Message
// Signing plan runs it: the object lacks redirect_uri (none beside it
// either); PAR refuses it.
func TestConformanceFAPI2MSEnsureRequestObjectWithoutRedirectUriFails(t *testing.T) {
	c := newConf(t)
	wantPARRefused(t, c.pushObject(c.params(oauth2.GenerateVerifier()), func(cl jwt.MapClaims) { delete(cl, "redirect_uri") }, nil), "invalid_request_object", "invalid_request")
}

// TestConformanceFAPI2MSEnsureRequestObjectWithNbfOver60Fails ports
// fapi2-security-profile-final-ensure-request-object-with-nbf-over-60-fails
// (FAPI2SPFinalEnsureRequestObjectWithNbfOver60Fails): an object whose nbf
// is 70 minutes old, exp still 5 minutes ahead, as the suite makes it, is
// refused (bankfeed checks both nbf's age and exp − nbf, each ≤ 60 min).
func TestConformanceFAPI2MSEnsureRequestObjectWithNbfOver60Fails(t *testing.T) {
	c := newConf(t)
	resp := c.pushObject(c.params(oauth2.GenerateVerifier()), func(cl jwt.MapClaims) {
		cl["nbf"] = time.Now().Add(-70 * time.Minute).Unix()
	}, nil)
	wantPARRefused(t, resp, "invalid_request_object", "invalid_request")
}

// TestConformanceFAPI2MSEnsureSignedRequestObjectWithRS256Fails ports
// fapi2-security-profile-final-ensure-signed-request-object-with-RS256-fails
// (FAPI2SPFinalEnsureSignedRequestObjectWithRS256Fails): an object signed
// RS256 with the client's registered RSA key is refused (PS256 only); the
// same object signed PS256 is accepted.
func TestConformanceFAPI2MSEnsureSignedRequestObjectWithRS256Fails(t *testing.T) {
	c := newConf(t)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	must(t, err)
	set, err := json.Marshal(josev4.JSONWebKeySet{Keys: []josev4.JSONWebKey{{Key: &key.PublicKey, KeyID: "r1", Use: "sig", Algorithm: "PS256"}}})
	must(t, err)
	rc, _, err := authz.CreateClient(c.ctx, c.st, authz.ClientSpec{Name: "Rsa Books", RedirectURIs: []string{fapiRedirect}, JWKS: set})
	must(t, err)
	sign := func(m jwt.SigningMethod, claims jwt.MapClaims) string {
		tok := jwt.NewWithClaims(m, claims)
		tok.Header["kid"] = "r1"
		s, err := tok.SignedString(key)
		must(t, err)
		return s
	}
	params := c.params(oauth2.GenerateVerifier())
	push := func(m jwt.SigningMethod) *http.Response {
		return c.send("/oauth2/par", func() url.Values {
			now := time.Now()
			obj := jwt.MapClaims{"iss": rc.ID, "aud": c.iss, "nbf": now.Unix(), "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "jti": store.RandomToken(16)}
			for k := range params {
				obj[k] = params.Get(k)
			}
			obj["client_id"] = rc.ID
			assertion := sign(jwt.SigningMethodPS256, jwt.MapClaims{"iss": rc.ID, "sub": rc.ID, "aud": c.iss, "jti": store.RandomToken(16), "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()})
			return url.Values{"client_id": {rc.ID}, "request": {sign(m, obj)},
				"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {assertion}}
		}, c.k, nil)
	}
	wantPARRefused(t, push(jwt.SigningMethodRS256), "invalid_request_object", "invalid_request")
	pushedURI(t, push(jwt.SigningMethodPS256))
}

// TestConformanceFAPI2MSEnsureRequestObjectWithInvalidSignatureFails ports
// fapi2-security-profile-final-ensure-request-object-with-invalid-signature-fails
// (FAPI2SPFinalEnsureRequestObjectWithInvalidSignatureFails): an object
// whose signature does not verify is refused.
func TestConformanceFAPI2MSEnsureRequestObjectWithInvalidSignatureFails(t *testing.T) {
	c := newConf(t)
	resp := c.pushRequest(func() string {
		obj := c.requestObject(c.kc, c.params(oauth2.GenerateVerifier()), nil)
		i := strings.LastIndexByte(obj, '.') + 10
		flip := byte('A')
		if obj[i] == 'A' {
			flip = 'B'
		}
		return obj[:i] + string(flip) + obj[i+1:]
	}, nil)
	wantPARRefused(t, resp, "invalid_request_object", "invalid_request")
}

// TestConformanceFAPI2MSPARRejectRequestUriInParAuthorizationRequest ports
// fapi2-security-profile-final-par-authorization-request-containing-request_uri
// (FAPI2SPFinalPARRejectRequestUriInParAuthorizationRequest): a request
// object carrying a request_uri is refused with invalid_request_object (JAR
// §6.2, PAR §2.1).
func TestConformanceFAPI2MSPARRejectRequestUriInParAuthorizationRequest(t *testing.T) {
	c := newConf(t)
	resp := c.pushObject(c.params(oauth2.GenerateVerifier()), func(cl jwt.MapClaims) {
		cl["request_uri"] = "urn:ietf:params:oauth:request_uri:" + store.RandomToken(16)
	}, nil)
	wantPARRefused(t, resp, "invalid_request_object")
}

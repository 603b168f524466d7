package authz_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"

	"github.com/bankfeed/bankfeed/authz"
	"github.com/bankfeed/bankfeed/store"
)

// vendorKey is one of a vendor's assertion signing keys.
type vendorKey struct {
	kid, alg string
	priv     crypto.Signer
}

func newVendorKey(t testing.TB, alg, kid string) vendorKey {
	t.Helper()
	var priv crypto.Signer
	var err error
	switch alg {
	case "PS256":
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ES256":
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		t.Fatalf("alg %s", alg)
	}
	must(t, err)
	return vendorKey{kid: kid, alg: alg, priv: priv}
}

func (k vendorKey) public() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.kid, Algorithm: k.alg, Use: "sig"}
}

// assertion is a client assertion for clientID, iat and exp on the env's
// clock (the server checks them on it).
func (k vendorKey) assertion(t testing.TB, now time.Time, clientID, aud string) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.GetSigningMethod(k.alg), jwt.MapClaims{
		"iss": clientID, "sub": clientID, "aud": aud,
		"jti": store.RandomToken(16), "iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
	})
	tok.Header["kid"] = k.kid
	s, err := tok.SignedString(k.priv)
	must(t, err)
	return s
}

// vendorJWKS is the vendor's jwks_uri: it serves the published keys (or
// fails) and counts the fetches.
type vendorJWKS struct {
	mu      sync.Mutex
	keys    []jose.JSONWebKey
	failing bool
	fetches atomic.Int32
}

func (v *vendorJWKS) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	v.fetches.Add(1)
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.failing {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: v.keys})
}

func (v *vendorJWKS) publish(keys ...vendorKey) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.keys = v.keys[:0]
	for _, k := range keys {
		v.keys = append(v.keys, k.public())
	}
	v.failing = false
}

func (v *vendorJWKS) fail() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.failing = true
}

// jwksEnv is an env whose server trusts the vendor's TLS server, where each
// vendor publishes its keys at its own jwks_uri.
func newJWKSEnv(t *testing.T) (*env, *httptest.Server, *http.ServeMux) {
	t.Helper()
	mux := http.NewServeMux()
	vendor := httptest.NewTLSServer(mux)
	t.Cleanup(vendor.Close)
	e := newEnv(t, envOpts{cfg: func(c *authz.Config) { c.HTTPClient = vendor.Client() }})
	e.clock.Freeze() // the re-fetch bound is measured on it
	return e, vendor, mux
}

// codeWithAssertion runs the code flow for clientID and exchanges the code
// authenticating with an assertion signed by k.
func (e *env) codeWithAssertion(clientID string, k vendorKey) tokenResult {
	e.t.Helper()
	verifier := oauth2.GenerateVerifier()
	q := e.codeFor(e.authorizeParams(clientID, oauth2.S256ChallengeFromVerifier(verifier)), e.user.ID, allScopes)
	return e.tokenWithAssertion(k, clientID, url.Values{
		"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {redirectURI}, "code_verifier": {verifier},
	})
}

func (e *env) tokenWithAssertion(k vendorKey, clientID string, form url.Values) tokenResult {
	e.t.Helper()
	form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
	form.Set("client_assertion", k.assertion(e.t, e.clock.Now(), clientID, e.iss+"/oauth2/token"))
	return e.token(form, "", "")
}

// TestClientJWKSURI: a private_key_jwt client whose keys are fetched from
// its jwks_uri. PS256 assertions are accepted; the set is fetched once and
// cached; a key the vendor rotated in is found by fetching the set again;
// a kid still unknown after that is invalid_client; and however many
// assertions name unknown kids, the set is fetched at most once per 10 s.
func TestClientJWKSURI(t *testing.T) {
	e, vendor, mux := newJWKSEnv(t)
	jwks := &vendorJWKS{}
	mux.Handle("/ps/jwks.json", jwks)
	k1 := newVendorKey(t, "PS256", "rsa-1")
	jwks.publish(k1)
	c, _, err := authz.CreateClient(e.ctx, e.st, authz.ClientSpec{
		Name: "Tallyho", RedirectURIs: []string{redirectURI}, JWKSURI: vendor.URL + "/ps/jwks.json", SigningAlg: "PS256",
	})
	must(t, err)
	fetches := func(want int32, when string) {
		t.Helper()
		if got := jwks.fetches.Load(); got != want {
			t.Fatalf("%s: the vendor's JWKS was fetched %d times, want %d", when, got, want)
		}
	}
	refresh := func(k vendorKey, rt string) tokenResult {
		t.Helper()
		return e.tokenWithAssertion(k, c.ID, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
	}

	tr := e.codeWithAssertion(c.ID, k1)
	if tr.Status != http.StatusOK || tr.RefreshToken == "" {
		t.Fatalf("code exchange with a PS256 assertion: %+v", tr)
	}
	fetches(1, "first assertion")
	if tr = refresh(k1, tr.RefreshToken); tr.Status != http.StatusOK {
		t.Fatalf("refresh with a PS256 assertion: %+v", tr)
	}
	fetches(1, "a known kid again")

	// The vendor rotates. Inside the bound the new kid is refused without a
	// fetch, however often it is sent.
	k2 := newVendorKey(t, "PS256", "rsa-2")
	jwks.publish(k2)
	e.clock.Advance(5 * time.Second)
	for range 5 {
		wantOAuthError(t, refresh(k2, tr.RefreshToken), "invalid_client")
	}
	fetches(1, "a new kid inside the re-fetch bound")

	// Past it, the unknown kid fetches the set again and is accepted; the
	// old key is no longer published, so it is refused.
	e.clock.Advance(5 * time.Second)
	if tr = refresh(k2, tr.RefreshToken); tr.Status != http.StatusOK {
		t.Fatalf("refresh with the rotated key: %+v", tr)
	}
	fetches(2, "the rotated kid")
	wantOAuthError(t, refresh(k1, tr.RefreshToken), "invalid_client")
	fetches(2, "the retired kid right after a fetch")

	// A kid the vendor never published: one fetch per bound, refused.
	stranger := newVendorKey(t, "PS256", "rsa-unknown")
	e.clock.Advance(10 * time.Second)
	for range 5 {
		wantOAuthError(t, refresh(stranger, tr.RefreshToken), "invalid_client")
	}
	fetches(3, "an unknown kid, five times")

	// The vendor's endpoint fails: refused, and not fetched again inside
	// the bound; the cached set still serves a known kid meanwhile.
	jwks.fail()
	e.clock.Advance(10 * time.Second)
	wantOAuthError(t, refresh(stranger, tr.RefreshToken), "invalid_client")
	wantOAuthError(t, refresh(stranger, tr.RefreshToken), "invalid_client")
	fetches(4, "an unknown kid while the vendor fails")
	if tr = refresh(k2, tr.RefreshToken); tr.Status != http.StatusOK {
		t.Fatalf("a known kid while the vendor fails: %+v", tr)
	}

	// After the cache lifetime (an hour) the set is fetched again even for
	// a known kid.
	jwks.publish(k2)
	e.clock.Advance(time.Hour)
	if tr = refresh(k2, tr.RefreshToken); tr.Status != http.StatusOK {
		t.Fatalf("refresh after the cache lifetime: %+v", tr)
	}
	fetches(5, "a known kid after the cache lifetime")

	// The revocation endpoint takes the same assertions.
	form := url.Values{"token": {tr.RefreshToken}, "client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion": {k2.assertion(t, e.clock.Now(), c.ID, e.iss)}}
	if resp := e.postForm("/oauth2/revoke", form, "", ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke with a PS256 assertion: %d %s", resp.StatusCode, readBody(resp))
	}
	wantOAuthError(t, refresh(k2, tr.RefreshToken), "invalid_grant")
}

// TestClientAssertionAlgorithms: PS256 and ES256 assertions are accepted at
// the token endpoint, with registered keys and with keys at a jwks_uri, and
// a client's assertion in the other algorithm is refused.
func TestClientAssertionAlgorithms(t *testing.T) {
	e, vendor, mux := newJWKSEnv(t)
	for _, alg := range []string{"PS256", "ES256"} {
		k := newVendorKey(t, alg, alg+"-key")
		other := newVendorKey(t, map[string]string{"PS256": "ES256", "ES256": "PS256"}[alg], alg+"-key")

		jwks := &vendorJWKS{}
		jwks.publish(k)
		mux.Handle("/"+alg+"/jwks.json", jwks)
		byURI, _, err := authz.CreateClient(e.ctx, e.st, authz.ClientSpec{
			Name: "By URI " + alg, RedirectURIs: []string{redirectURI}, JWKSURI: vendor.URL + "/" + alg + "/jwks.json", SigningAlg: alg,
		})
		must(t, err)
		set, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{k.public()}})
		must(t, err)
		registered, _, err := authz.CreateClient(e.ctx, e.st, authz.ClientSpec{Name: "Registered " + alg, RedirectURIs: []string{redirectURI}, JWKS: set})
		must(t, err)

		for _, c := range []store.Client{byURI, registered} {
			if c.TokenEndpointAuthSigningAlg != alg {
				t.Fatalf("%s registered with %s, want %s", c.Name, c.TokenEndpointAuthSigningAlg, alg)
			}
			if tr := e.codeWithAssertion(c.ID, k); tr.Status != http.StatusOK || tr.AccessToken == "" {
				t.Fatalf("%s: code exchange: %+v", c.Name, tr)
			}
			// Same kid, other algorithm (and key): refused.
			wantOAuthError(t, e.codeWithAssertion(c.ID, other), "invalid_client")
		}
	}
}

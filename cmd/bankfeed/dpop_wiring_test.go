package main

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
	"strings"
	"testing"
	"time"

	josev4 "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/bankfeed/bankfeed/authz"
	"github.com/bankfeed/bankfeed/store"
)

// proofKey is a DPoP client's key in the whole-wiring tests.
type proofKey struct {
	t   *testing.T
	key *ecdsa.PrivateKey
}

func newProofKey(t *testing.T) proofKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return proofKey{t: t, key: k}
}

// proof signs a DPoP proof for method and target, with ath when token is
// not empty.
func (k proofKey) proof(method, target, token string) string {
	k.t.Helper()
	claims := map[string]any{"jti": store.RandomToken(16), "htm": method, "htu": target, "iat": time.Now().Unix()}
	if token != "" {
		sum := sha256.Sum256([]byte(token))
		claims["ath"] = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	payload, _ := json.Marshal(claims)
	signer, err := josev4.NewSigner(josev4.SigningKey{Algorithm: josev4.ES256, Key: k.key}, (&josev4.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"))
	if err != nil {
		k.t.Fatal(err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		k.t.Fatal(err)
	}
	s, _ := jws.CompactSerialize()
	return s
}

func (k proofKey) jkt() string {
	tp, _ := (&josev4.JSONWebKey{Key: &k.key.PublicKey}).Thumbprint(crypto.SHA256)
	return base64.RawURLEncoding.EncodeToString(tp)
}

// proofTransport adds a proof to every request (the token endpoint's).
type proofTransport struct{ k proofKey }

func (p proofTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("DPoP", p.k.proof(r.Method, r.URL.Scheme+"://"+r.URL.Host+r.URL.Path, ""))
	return http.DefaultTransport.RoundTrip(r)
}

// call sends an API request with the scheme and proof given; it returns
// the status and the WWW-Authenticate challenge.
func (b *bank) call(scheme, token, proof, path string) (int, string) {
	b.t.Helper()
	req, _ := http.NewRequestWithContext(b.t.Context(), http.MethodGet, b.URL+path, nil)
	req.Header.Set("Authorization", scheme+" "+token)
	if proof != "" {
		req.Header.Set("DPoP", proof)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode, res.Header.Get("WWW-Authenticate")
}

// TestDPoPThroughTheWholeWiring: DPoP-bound tokens from the real token
// endpoint at the data API (a vendor's code flow with x/oauth2) and at
// /ops/v1 (an operator's client_credentials; /admin/v1 shares its check):
// the DPoP scheme with a proof of the key is served; the same token as
// Bearer, or with another key's proof, is 401 with the challenge of RFC
// 9449 §7.1 on both schemes.
func TestDPoPThroughTheWholeWiring(t *testing.T) {
	b := startBank(t)
	biz := seedBrowserBusiness(t, b)
	k, other := newProofKey(t), newProofKey(t)
	ctx := context.WithValue(t.Context(), oauth2.HTTPClient, &http.Client{Transport: proofTransport{k}})

	const redirect = "https://ledgerly.example/callback"
	id, secret := b.client(authz.ClientSpec{Name: "Ledgerly", RedirectURIs: []string{redirect}, DPoPBoundAccessTokens: true})
	conf := oauth2.Config{ClientID: id, ClientSecret: secret, RedirectURL: redirect,
		Scopes:   []string{"openid", "offline_access", "accounts.read"},
		Endpoint: oauth2.Endpoint{AuthURL: b.URL + "/oauth2/authorize", TokenURL: b.URL + "/oauth2/token", AuthStyle: oauth2.AuthStyleInHeader}}
	v := oauth2.GenerateVerifier()
	cb := b.authorize(b.browser(), conf.AuthCodeURL("dpop-state", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("dpop_jkt", k.jkt())),
		biz.login, biz.tempPassword, "Maple-Ledger-Sync-2026")
	tok, err := conf.Exchange(ctx, cb.Query().Get("code"), oauth2.VerifierOption(v))
	if err != nil || tok.Type() != "DPoP" {
		t.Fatalf("exchange: %v, token_type %q", err, tok.TokenType)
	}
	at := tok.AccessToken
	const accounts = "/fdx/v6/accounts"
	if code, ch := b.call("DPoP", at, k.proof(http.MethodGet, b.URL+accounts, at), accounts); code != http.StatusOK {
		t.Fatalf("data API with DPoP: %d %s", code, ch)
	}
	wantChallenge(t, "data API, as Bearer", 401, `error="invalid_token"`)(b.call("Bearer", at, "", accounts))
	wantChallenge(t, "data API, another key", 401, `DPoP error="invalid_dpop_proof"`)(b.call("DPoP", at, other.proof(http.MethodGet, b.URL+accounts, at), accounts))
	wantChallenge(t, "data API, proof of another URL", 401, `DPoP error="invalid_dpop_proof"`)(b.call("DPoP", at, k.proof(http.MethodGet, b.URL+"/fdx/v6/customers/current", at), accounts))

	opID, opSecret := b.client(authz.ClientSpec{Name: "Core banking", FirstParty: true, Scopes: []string{"operator"}})
	cc := clientcredentials.Config{ClientID: opID, ClientSecret: opSecret, TokenURL: b.URL + "/oauth2/token", Scopes: []string{"operator"}}
	op, err := cc.Token(ctx)
	if err != nil || op.Type() != "DPoP" {
		t.Fatalf("client_credentials with DPoP: %v, token_type %q", err, op.TokenType)
	}
	const audit = "/ops/v1/audit"
	if code, ch := b.call("DPoP", op.AccessToken, k.proof(http.MethodGet, b.URL+audit, op.AccessToken), audit); code != http.StatusOK {
		t.Fatalf("ops API with DPoP: %d %s", code, ch)
	}
	wantChallenge(t, "ops API, as Bearer", 401, `error="invalid_token"`)(b.call("Bearer", op.AccessToken, "", audit))
	wantChallenge(t, "ops API, another key", 401, `DPoP error="invalid_dpop_proof"`)(b.call("DPoP", op.AccessToken, other.proof(http.MethodGet, b.URL+audit, op.AccessToken), audit))
}

func wantChallenge(t *testing.T, what string, status int, errParam string) func(int, string) {
	return func(code int, ch string) {
		t.Helper()
		if code != status || !strings.Contains(ch, errParam) || !strings.HasPrefix(ch, "Bearer realm=") || !strings.Contains(ch, `algs="ES256 PS256 EdDSA"`) {
			t.Fatalf("%s: %d, WWW-Authenticate %q; want %d with %s on both schemes", what, code, ch, status, errParam)
		}
	}
}

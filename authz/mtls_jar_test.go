package authz_test

import (
	"crypto/x509/pkix"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	josev4 "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/bankfeed/bankfeed/authz"
)

// TestMTLSSelfSignedSignsRequestObjects: a self_signed_tls_client_auth
// client registered with require_signed_request_object pushes a request
// object signed with its certificate's key over its certificate (201), an
// unsigned request is refused, and the code it gets is exchanged over the
// certificate: its keys serve both, whatever its authentication method.
func TestMTLSSelfSignedSignsRequestObjects(t *testing.T) {
	m := newMTLSEnv(t, nil)
	cert, key := issue(t, nil, pkix.Name{CommonName: "selfie"})
	jwks, err := json.Marshal(josev4.JSONWebKeySet{Keys: []josev4.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Use: "sig", Algorithm: "ES256"}}})
	must(t, err)
	client, _, err := authz.CreateClient(m.ctx, m.st, authz.ClientSpec{Name: "Selfie", RedirectURIs: []string{redirectURI},
		AuthMethod: "self_signed_tls_client_auth", JWKS: jwks, RequireSignedRequestObject: true})
	must(t, err)
	kc := keyClient{client: client, key: key}
	hc := m.client(cert)

	verifier := oauth2.GenerateVerifier()
	form := m.authorizeParams(client.ID, oauth2.S256ChallengeFromVerifier(verifier))
	wantPARError(t, m.post(hc, "/oauth2/par", form), "invalid_request")
	resp := m.post(hc, "/oauth2/par", url.Values{"client_id": {client.ID}, "request": {m.requestObject(kc, form, nil)}})
	body := readBody(resp)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("par with the signed object over the certificate: %d %s", resp.StatusCode, body)
	}
	var out struct {
		RequestURI string `json:"request_uri"`
	}
	must(t, jsonUnmarshal(body, &out))
	q := m.codeFor(url.Values{"client_id": {client.ID}, "request_uri": {out.RequestURI}}, m.user.ID, allScopes)
	tok := m.post(hc, "/oauth2/token", url.Values{"grant_type": {"authorization_code"}, "client_id": {client.ID}, "code": {q.Get("code")},
		"redirect_uri": {redirectURI}, "code_verifier": {verifier}})
	if tok.StatusCode != http.StatusOK {
		t.Fatalf("token over the certificate: %d %s", tok.StatusCode, readBody(tok))
	}
}

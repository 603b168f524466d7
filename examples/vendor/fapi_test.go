package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"golang.org/x/oauth2"

	"github.com/bankfeed/bankfeed/authz"
	"github.com/bankfeed/bankfeed/store/gormstore"
	"github.com/bankfeed/bankfeed/store/gormstore/gormtest"
)

// TestFAPIPushedRequest: the -fapi client, against a real authorization
// server in the fapi2 profile, registers with the key set it wrote, and its
// pushed authorization request (private_key_jwt, DPoP proof, retried with
// the server's nonce) is accepted; the browser gets only client_id and
// request_uri.
func TestFAPIPushedRequest(t *testing.T) {
	st := gormtest.Open(t, "vendor_fapi", gormstore.Config{})
	e := echo.New()
	ts := httptest.NewServer(e)
	t.Cleanup(ts.Close)
	srv, err := authz.New(t.Context(), authz.Config{Store: st, Issuer: ts.URL, Profile: authz.ProfileFAPI2,
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		TokenSecret: []byte("0123456789abcdef0123456789abcdef-test"), KeyEncryptionKey: []byte("kek-kek-kek-kek-kek-kek-kek-kek!")})
	if err != nil {
		t.Fatal(err)
	}
	srv.Mount(e)

	keyFile := filepath.Join(t.TempDir(), "vendor-key.pem")
	key, kid, err := loadOrCreateKey(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	jwks, err := os.ReadFile(keyFile + ".jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	const redirect = "https://127.0.0.1:9999/callback"
	spec := authz.ClientSpec{Name: "Ledgerly", RedirectURIs: []string{redirect}, JWKS: json.RawMessage(jwks)}
	if err := authz.CheckClientSpec(authz.ProfileFAPI2, spec); err != nil {
		t.Fatalf("the example's client does not comply: %v", err)
	}
	c, _, err := authz.CreateClient(t.Context(), st, spec)
	if err != nil {
		t.Fatal(err)
	}
	f := &fapiClient{clientID: c.ID, issuer: ts.URL, parURL: ts.URL + "/oauth2/par", key: key, kid: kid}
	to, err := f.push(t.Context(), ts.URL+"/oauth2/authorize", url.Values{"response_type": {"code"}, "client_id": {c.ID},
		"redirect_uri": {redirect}, "scope": {"openid accounts.read"}, "state": {randomState()},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())}, "code_challenge_method": {"S256"}})
	if err != nil {
		t.Fatalf("push: %v", err)
	}
	u, err := url.Parse(to)
	if err != nil {
		t.Fatal(err)
	}
	if q := u.Query(); len(q) != 2 || q.Get("client_id") != c.ID || !strings.HasPrefix(q.Get("request_uri"), "urn:ietf:params:oauth:request_uri:") {
		t.Fatalf("authorization URL %s: want client_id and request_uri only", to)
	}
	if f.nonce == "" {
		t.Fatal("no DPoP nonce kept: the server's nonce was not used")
	}
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Get(to)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "/login?login_challenge=") {
		t.Fatalf("authorize with the request_uri: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}

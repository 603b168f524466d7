package main

import (
	"crypto/tls"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/labstack/echo/v4"
	"golang.org/x/oauth2"

	"github.com/bankfeed/bankfeed/authz"
	"github.com/bankfeed/bankfeed/store/gormstore"
	"github.com/bankfeed/bankfeed/store/gormstore/gormtest"
)

// TestMTLSVendorAuthenticatesByCertificate: the -mtls-cert client, against
// a real authorization server on a TLS listener asking for client
// certificates, makes its self-signed certificate and the key set to
// register, discovers the bank over its TLS client (trusting the bank's
// certificate by -bank-ca), and its token request from the callback is
// authenticated by the certificate alone: a code the server does not know
// is invalid_grant (the client was authenticated), while the same request
// presenting another self-signed certificate is invalid_client.
func TestMTLSVendorAuthenticatesByCertificate(t *testing.T) {
	st := gormtest.Open(t, "vendor_mtls", gormstore.Config{})
	e := echo.New()
	ts := httptest.NewUnstartedServer(e)
	ts.TLS = &tls.Config{ClientAuth: tls.RequestClientCert, MinVersion: tls.VersionTLS12}
	ts.StartTLS()
	t.Cleanup(ts.Close)
	srv, err := authz.New(t.Context(), authz.Config{Store: st, Issuer: ts.URL, MTLS: authz.MTLSConfig{Enabled: true},
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		TokenSecret: []byte("0123456789abcdef0123456789abcdef-test"), KeyEncryptionKey: []byte("kek-kek-kek-kek-kek-kek-kek-kek!")})
	if err != nil {
		t.Fatal(err)
	}
	srv.Mount(e)
	dir := t.TempDir()
	bankCA := filepath.Join(dir, "bank.pem")
	if err := os.WriteFile(bankCA, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}

	certFile, keyFile := filepath.Join(dir, "vendor-cert.pem"), filepath.Join(dir, "vendor-cert-key.pem")
	cert, err := loadOrCreateCert(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := loadOrCreateCert(certFile, keyFile); err != nil || string(again.Certificate[0]) != string(cert.Certificate[0]) {
		t.Fatalf("a second start does not read the same certificate: %v", err)
	}
	jwks, err := os.ReadFile(certFile + ".jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	const redirect = "http://127.0.0.1:9999/callback"
	c, _, err := authz.CreateClient(t.Context(), st, authz.ClientSpec{Name: "Ledgerly", RedirectURIs: []string{redirect},
		AuthMethod: "self_signed_tls_client_auth", JWKS: json.RawMessage(jwks)})
	if err != nil {
		t.Fatalf("register the written key set: %v", err)
	}

	callback := func(cert tls.Certificate) string {
		hc, err := mtlsClient(cert, bankCA)
		if err != nil {
			t.Fatal(err)
		}
		provider, err := oidc.NewProvider(oidc.ClientContext(t.Context(), hc), ts.URL)
		if err != nil {
			t.Fatalf("discovery over the TLS client: %v", err)
		}
		a := &app{issuer: ts.URL, mtls: hc, pending: map[string]string{"st": oauth2.GenerateVerifier()},
			oauth: oauth2.Config{ClientID: c.ID, RedirectURL: redirect, Endpoint: provider.Endpoint()}, logger: slog.New(slog.DiscardHandler)}
		a.oauth.Endpoint.AuthStyle = oauth2.AuthStyleInParams
		a.oauth.Endpoint.TokenURL = mtlsTokenURL(provider, a.oauth.Endpoint.TokenURL)
		w := httptest.NewRecorder()
		a.callback(w, httptest.NewRequest(http.MethodGet, "/callback?state=st&code=not-a-code", nil))
		return w.Body.String()
	}
	if got := callback(cert); !strings.Contains(got, "invalid_grant") {
		t.Fatalf("token request over the registered certificate: %q, want invalid_grant (authenticated, unknown code)", got)
	}
	other, err := loadOrCreateCert(filepath.Join(dir, "other.pem"), filepath.Join(dir, "other-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if got := callback(other); !strings.Contains(got, "invalid_client") {
		t.Fatalf("token request over another certificate: %q, want invalid_client", got)
	}
}

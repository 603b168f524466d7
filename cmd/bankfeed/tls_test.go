package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/bankfeed/bankfeed/authz"
	"github.com/bankfeed/bankfeed/config"
	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/store/gormstore/gormtest"
)

// testCert is a certificate made in the test, with its key.
type testCert struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	tls  tls.Certificate
}

// makeCert makes a certificate for tmpl signed by parent (self-signed when
// parent is nil).
func makeCert(t *testing.T, tmpl *x509.Certificate, parent *testCert) testCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl.SerialNumber = serial
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour)
	issuer, signer := tmpl, key
	if parent != nil {
		issuer, signer = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return testCert{cert: c, key: key, tls: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: c}}
}

func (c testCert) writePEM(t *testing.T, dir, name string) (certFile, keyFile string) {
	t.Helper()
	certFile, keyFile = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
	der, err := x509.MarshalECPrivateKey(c.key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// tlsFixture is a server certificate for 127.0.0.1 and a client CA, in
// files, and an operator client registered through the command line as
// tls_client_auth with subject CN=ops-robot.
type tlsFixture struct {
	dir, certFile, keyFile, caFile string
	server, ca                     testCert
	clientID                       string
}

func newTLSFixture(t *testing.T) tlsFixture {
	t.Helper()
	f := tlsFixture{dir: migratedDir(t)}
	files := t.TempDir()
	f.server = makeCert(t, &x509.Certificate{Subject: pkix.Name{CommonName: "bank"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, nil)
	f.certFile, f.keyFile = f.server.writePEM(t, files, "server")
	f.ca = makeCert(t, &x509.Certificate{Subject: pkix.Name{CommonName: "Bank client CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}, nil)
	f.caFile, _ = f.ca.writePEM(t, files, "client-ca")
	out, stderr, err := cli(t, f.dir, "clients", "create", "--name", "Core banking", "--first-party", "--scope", "operator",
		"--auth-method", "tls_client_auth", "--tls-subject-dn", "CN=ops-robot")
	if err != nil {
		t.Fatalf("clients create: %v\n%s", err, stderr)
	}
	var c struct {
		ClientID  string `json:"clientId"`
		Method    string `json:"tokenEndpointAuthMethod"`
		SubjectDN string `json:"tlsClientAuthSubjectDn"`
	}
	if err := json.Unmarshal([]byte(out), &c); err != nil || c.Method != "tls_client_auth" || c.SubjectDN != "CN=ops-robot" {
		t.Fatalf("clients create printed %s (%v)", out, err)
	}
	f.clientID = c.ClientID
	return f
}

func (f tlsFixture) clientCert(t *testing.T, cn string) tls.Certificate {
	return makeCert(t, &x509.Certificate{Subject: pkix.Name{CommonName: cn}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, &f.ca).tls
}

// httpsClient trusts the fixture's server certificate and presents certs.
func (f tlsFixture) httpsClient(certs ...tls.Certificate) *http.Client {
	roots := x509.NewCertPool()
	roots.AddCert(f.server.cert)
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, Certificates: certs}}}
}

// operatorToken asks for a client_credentials token as the fixture's
// client over hc.
func mtlsOperatorToken(t *testing.T, hc *http.Client, base, clientID string) (status int, body map[string]any) {
	t.Helper()
	resp, err := hc.PostForm(base+"/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "scope": {"operator"}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body = map[string]any{}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

func callOps(t *testing.T, hc *http.Client, base, token string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/ops/v1/audit", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestServeMutualTLS: serve --tls-cert --tls-key --tls-client-ca serves
// HTTPS, asks every connection for a client certificate without requiring
// one; an operator client registered with clients create --auth-method
// tls_client_auth gets a certificate-bound token with its certificate and
// uses it at /ops/v1 with that certificate only; another certificate of
// the same CA is invalid_client; discovery advertises mTLS.
func TestServeMutualTLS(t *testing.T) {
	f := newTLSFixture(t)
	s := startServe(t, env(), f.dir, "--tls-cert", f.certFile, "--tls-key", f.keyFile, "--tls-client-ca", f.caFile)
	base := strings.Replace(s.URL, "http://", "https://", 1)
	robot := f.clientCert(t, "ops-robot")

	asked := false
	hc := f.httpsClient()
	hc.Transport.(*http.Transport).TLSClientConfig.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		asked = true
		return &robot, nil
	}
	status, tok := mtlsOperatorToken(t, hc, base, f.clientID)
	if status != http.StatusOK || !asked {
		t.Fatalf("client_credentials with the certificate: %d %v (asked for a certificate: %v)", status, tok, asked)
	}
	at, _ := tok["access_token"].(string)
	if code := callOps(t, hc, base, at); code != http.StatusOK {
		t.Fatalf("/ops/v1 with the bound certificate: %d", code)
	}
	// No certificate: the connection is accepted (not required), the bound token is not.
	if code := callOps(t, f.httpsClient(), base, at); code != http.StatusUnauthorized {
		t.Fatalf("/ops/v1 without the certificate: %d, want 401", code)
	}
	intruder := f.clientCert(t, "intruder")
	if status, body := mtlsOperatorToken(t, f.httpsClient(intruder), base, f.clientID); status != http.StatusUnauthorized || body["error"] != "invalid_client" {
		t.Fatalf("another certificate of the CA: %d %v, want 401 invalid_client", status, body)
	}
	resp, err := f.httpsClient().Get(base + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var meta struct {
		Methods []string `json:"token_endpoint_auth_methods_supported"`
		Bound   bool     `json:"tls_client_certificate_bound_access_tokens"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&meta); err != nil || !meta.Bound ||
		!slices.Contains(meta.Methods, "tls_client_auth") || !slices.Contains(meta.Methods, "self_signed_tls_client_auth") {
		t.Fatalf("discovery: %+v (%v)", meta, err)
	}
}

// TestServeTLSVersionsAndSuites: TLS 1.3 is negotiated by default; TLS 1.2
// only with FAPI 2.0's suites (ECDHE with AES-GCM): CBC and ChaCha20 are
// refused.
func TestServeTLSVersionsAndSuites(t *testing.T) {
	f := newTLSFixture(t)
	s := startServe(t, env(), f.dir, "--tls-cert", f.certFile, "--tls-key", f.keyFile)
	addr := strings.TrimPrefix(s.URL, "http://")
	roots := x509.NewCertPool()
	roots.AddCert(f.server.cert)
	dial := func(cfg *tls.Config) (tls.ConnectionState, error) {
		cfg.RootCAs = roots
		c, err := tls.Dial("tcp", addr, cfg)
		if err != nil {
			return tls.ConnectionState{}, err
		}
		defer c.Close()
		return c.ConnectionState(), nil
	}
	if st, err := dial(&tls.Config{}); err != nil || st.Version != tls.VersionTLS13 {
		t.Fatalf("default client: version %x, %v; want TLS 1.3", st.Version, err)
	}
	for _, suite := range []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384} {
		if st, err := dial(&tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{suite}}); err != nil || st.CipherSuite != suite {
			t.Errorf("TLS 1.2 with %s: %v", tls.CipherSuiteName(suite), err)
		}
	}
	for _, suite := range []uint16{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA} {
		if _, err := dial(&tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{suite}}); err == nil {
			t.Errorf("TLS 1.2 with %s was accepted", tls.CipherSuiteName(suite))
		}
	}
	if _, err := dial(&tls.Config{MaxVersion: tls.VersionTLS11}); err == nil {
		t.Error("TLS 1.1 was accepted")
	}
}

// TestServeForwardedClientCert: behind a proxy (no TLS in bankfeed), the
// certificate in BANKFEED_TLS_CLIENT_CERT_HEADER authenticates the client
// when the peer is in BANKFEED_TLS_TRUSTED_PROXIES; from another peer it is
// ignored (invalid_client) and logged at WARN without its content.
func TestServeForwardedClientCert(t *testing.T) {
	f := newTLSFixture(t)
	robot := f.clientCert(t, "ops-robot")
	header := url.PathEscape(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: robot.Certificate[0]})))
	token := func(base string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodPost, base+"/oauth2/token",
			strings.NewReader(url.Values{"grant_type": {"client_credentials"}, "client_id": {f.clientID}, "scope": {"operator"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-SSL-Client-Cert", header)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body := map[string]any{}
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	for _, c := range []struct {
		trusted string
		want    int
	}{{"127.0.0.1", http.StatusOK}, {"10.0.0.0/8", http.StatusUnauthorized}} {
		s := startServe(t, env("BANKFEED_TLS_CLIENT_CERT_HEADER=X-SSL-Client-Cert", "BANKFEED_TLS_TRUSTED_PROXIES="+c.trusted,
			"BANKFEED_TLS_CLIENT_CA="+f.caFile), f.dir)
		status, body := token(s.URL)
		if status != c.want {
			t.Fatalf("proxies %s: %d %v, want %d", c.trusted, status, body, c.want)
		}
		warned := strings.Contains(s.Stderr.String(), "client certificate header from an untrusted peer ignored")
		if warned != (c.want != http.StatusOK) || strings.Contains(s.Stderr.String(), "BEGIN") {
			t.Fatalf("proxies %s: WARN logged %v, log:\n%s", c.trusted, warned, s.Stderr)
		}
		s.Stop()
	}
}

// TestServeTLSSettingsChecked: a certificate without its key, a client CA
// with neither TLS nor a header, a header without trusted proxies are
// refused at start, naming the settings.
func TestServeTLSSettingsChecked(t *testing.T) {
	dir := migratedDir(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--tls-cert", "cert.pem"}, "BANKFEED_TLS_CERT and BANKFEED_TLS_KEY"},
		{[]string{"serve", "--tls-client-ca", "ca.pem"}, "BANKFEED_TLS_CLIENT_CA"},
	} {
		if _, _, err := cli(t, dir, c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want an error naming %s", c.args, err, c.want)
		}
	}
	err := run(t.Context(), []string{"serve", "--data-dir", dir}, env("BANKFEED_TLS_CLIENT_CERT_HEADER=X-SSL-Client-Cert"), &strings.Builder{}, &strings.Builder{})
	if err == nil || !strings.Contains(err.Error(), "BANKFEED_TLS_TRUSTED_PROXIES") {
		t.Errorf("a header without trusted proxies: %v", err)
	}
}

// headerTransport adds a forwarded client certificate to every request, as
// a TLS-terminating proxy in front of bankfeed does.
type headerTransport struct{ cert string }

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if h.cert != "" {
		r.Header.Set("X-SSL-Client-Cert", h.cert)
	}
	return http.DefaultTransport.RoundTrip(r)
}

func escapedPEM(c tls.Certificate) string {
	return url.PathEscape(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]})))
}

// TestMTLSDataAPIThroughTheWholeWiring: a vendor registered as
// tls_client_auth runs the code flow with x/oauth2 behind a proxy that
// forwards its certificate; the certificate-bound token reads /fdx/v6 and
// /userinfo with that certificate only: another certificate, or none, is
// 401 invalid_token.
func TestMTLSDataAPIThroughTheWholeWiring(t *testing.T) {
	f := tlsFixture{}
	f.ca = makeCert(t, &x509.Certificate{Subject: pkix.Name{CommonName: "Bank client CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}, nil)
	f.caFile, _ = f.ca.writePEM(t, t.TempDir(), "client-ca")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t)
	cfg.Issuer = "http://" + ln.Addr().String()
	cfg.DataAPI.RateLimitPerMinute = 0
	cfg.TLS = config.TLS{ClientCA: f.caFile, ClientCertHeader: "X-SSL-Client-Cert", TrustedProxies: []string{"127.0.0.1"}}
	st := gormtest.OpenStore(t, "cmd_test")
	logger := slog.New(slog.DiscardHandler)
	h, err := newHandler(t.Context(), cfg, deps{Store: st, Logger: logger, Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(forwardedCerts(cfg.TLS, h, logger))
	ts.Listener.Close()
	ts.Listener = ln
	ts.Start()
	t.Cleanup(ts.Close)
	b := &bank{t: t, URL: cfg.Issuer, st: st}
	biz := seedBrowserBusiness(t, b)

	const redirect = "https://ledgerly.example/callback"
	client, _, err := authz.CreateClient(t.Context(), st, authz.ClientSpec{Name: "Ledgerly", RedirectURIs: []string{redirect},
		AuthMethod: "tls_client_auth", TLSClientAuth: store.TLSClientAuth{SubjectDN: "CN=ledgerly"}})
	if err != nil {
		t.Fatal(err)
	}
	mine, other := escapedPEM(f.clientCert(t, "ledgerly")), escapedPEM(f.clientCert(t, "ledgerly"))
	conf := oauth2.Config{ClientID: client.ID, RedirectURL: redirect, Scopes: []string{"openid", "offline_access", "accounts.read"},
		Endpoint: oauth2.Endpoint{AuthURL: b.URL + "/oauth2/authorize", TokenURL: b.URL + "/oauth2/token", AuthStyle: oauth2.AuthStyleInParams}}
	v := oauth2.GenerateVerifier()
	cb := b.authorize(b.browser(), conf.AuthCodeURL("mtls-state", oauth2.S256ChallengeOption(v)), biz.login, biz.tempPassword, "Maple-Ledger-Sync-2026")
	ctx := context.WithValue(t.Context(), oauth2.HTTPClient, &http.Client{Transport: headerTransport{mine}})
	tok, err := conf.Exchange(ctx, cb.Query().Get("code"), oauth2.VerifierOption(v))
	if err != nil || tok.Type() != "Bearer" {
		t.Fatalf("exchange: %v (%v)", err, tok)
	}
	call := func(path, cert string) (int, string) {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, b.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		res, err := (&http.Client{Transport: headerTransport{cert}}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode, res.Header.Get("WWW-Authenticate")
	}
	for _, path := range []string{"/fdx/v6/accounts", "/userinfo"} {
		if code, ch := call(path, mine); code != http.StatusOK {
			t.Fatalf("%s with the bound certificate: %d %s", path, code, ch)
		}
		for name, cert := range map[string]string{"another certificate": other, "none": ""} {
			if code, ch := call(path, cert); code != http.StatusUnauthorized || !strings.Contains(ch, `error="invalid_token"`) {
				t.Errorf("%s with %s: %d %q, want 401 invalid_token", path, name, code, ch)
			}
		}
	}
}

// TestClientsMTLSFlags: clients create --auth-method and the --tls-* names,
// clients update replacing the name (the whole name: the IP goes), and the
// refusals: a name for a client with a secret, two names, a self-signed
// client without keys.
func TestClientsMTLSFlags(t *testing.T) {
	dir := migratedDir(t)
	show := func(out string) map[string]any {
		t.Helper()
		m := map[string]any{}
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			t.Fatalf("not JSON: %q", out)
		}
		return m
	}
	base := []string{"clients", "create", "--name", "Certly", "--redirect-uri", "https://certly.example/cb"}
	out, stderr, err := cli(t, dir, append(base, "--auth-method", "tls_client_auth", "--tls-san-ip", "192.0.2.7")...)
	if err != nil {
		t.Fatalf("create: %v\n%s", err, stderr)
	}
	c := show(out)
	id, _ := c["clientId"].(string)
	if c["tokenEndpointAuthMethod"] != "tls_client_auth" || c["tlsClientAuthSanIp"] != "192.0.2.7" {
		t.Fatalf("created %v", c)
	}
	out, stderr, err = cli(t, dir, "clients", "update", id, "--tls-subject-dn", "CN=certly,O=Certly")
	if err != nil {
		t.Fatalf("update: %v\n%s", err, stderr)
	}
	if c := show(out); c["tlsClientAuthSubjectDn"] != "CN=certly,O=Certly" || c["tlsClientAuthSanIp"] != nil {
		t.Fatalf("updated %v", c)
	}
	secret, _, err := cli(t, dir, append(base, "--secret")...)
	if err != nil {
		t.Fatal(err)
	}
	secretID, _ := show(secret)["clientId"].(string)
	for name, args := range map[string][]string{
		"name for a secret client": {"clients", "update", secretID, "--tls-san-dns", "certly.example"},
		"two names":                append(base, "--auth-method", "tls_client_auth", "--tls-subject-dn", "CN=a", "--tls-san-dns", "a.example"),
		"self-signed without keys": append(base, "--auth-method", "self_signed_tls_client_auth"),
		"no name":                  append(base, "--auth-method", "tls_client_auth"),
	} {
		if out, _, err := cli(t, dir, args...); err == nil {
			t.Errorf("%s: accepted: %s", name, out)
		}
	}
}

// TestClientsSelfSignedSignsRequestObjects: a self_signed_tls_client_auth
// client has registered keys, so it may be made to sign its request objects
// (clients create and update --require-signed-request-object), whatever
// its authentication method; a tls_client_auth client has no keys and may not.
func TestClientsSelfSignedSignsRequestObjects(t *testing.T) {
	dir := migratedDir(t)
	jwks, _ := writeJWKS(t, false)
	base := []string{"clients", "create", "--name", "Booksy", "--redirect-uri", "https://booksy.example/cb"}
	out, stderr, err := cli(t, dir, append(base, "--auth-method", "self_signed_tls_client_auth", "--jwks-file", jwks)...)
	if err != nil {
		t.Fatalf("create: %v\n%s", err, stderr)
	}
	var c struct {
		ClientID string `json:"clientId"`
		Signed   bool   `json:"requireSignedRequestObject"`
	}
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatalf("not JSON: %q", out)
	}
	out, stderr, err = cli(t, dir, "clients", "update", c.ClientID, "--require-signed-request-object")
	if err != nil {
		t.Fatalf("update --require-signed-request-object: %v\n%s", err, stderr)
	}
	if err := json.Unmarshal([]byte(out), &c); err != nil || !c.Signed {
		t.Fatalf("updated: %s", out)
	}
	if _, stderr, err := cli(t, dir, append(base, "--auth-method", "self_signed_tls_client_auth", "--jwks-file", jwks,
		"--require-signed-request-object")...); err != nil {
		t.Fatalf("create --require-signed-request-object: %v\n%s", err, stderr)
	}
	if out, _, err := cli(t, dir, append(base, "--auth-method", "tls_client_auth", "--tls-subject-dn", "CN=booksy",
		"--require-signed-request-object")...); err == nil {
		t.Errorf("a tls_client_auth client (no keys) signing its request objects: accepted: %s", out)
	}
}

// TestServeMutualTLSDataAPI: the real serve over HTTPS with a client CA; a
// tls_client_auth vendor runs the code flow with x/oauth2 over its own TLS
// client certificate, and its certificate-bound token reads /fdx/v6 over a
// connection presenting that certificate: 200; another certificate of the
// same CA and name, or none, is 401 invalid_token.
func TestServeMutualTLSDataAPI(t *testing.T) {
	f := newTLSFixture(t)
	st := dirStore(t, f.dir)
	biz := seedBrowserBusiness(t, &bank{t: t, st: st})
	const redirect = "https://ledgerly.example/callback"
	client, _, err := authz.CreateClient(t.Context(), st, authz.ClientSpec{Name: "Ledgerly", RedirectURIs: []string{redirect},
		AuthMethod: "tls_client_auth", TLSClientAuth: store.TLSClientAuth{SubjectDN: "CN=ledgerly"}})
	if err != nil {
		t.Fatal(err)
	}
	// The issuer is the HTTPS address, so the pages' redirects stay on it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	base := "https://" + addr
	startServe(t, env(), f.dir, "--addr", addr, "--issuer", base,
		"--tls-cert", f.certFile, "--tls-key", f.keyFile, "--tls-client-ca", f.caFile)

	mine, other := f.clientCert(t, "ledgerly"), f.clientCert(t, "ledgerly")
	b := &bank{t: t, URL: base, st: st}
	br := f.httpsClient()
	br.Jar, _ = cookiejar.New(nil)
	br.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if !strings.HasPrefix(req.URL.String(), base) || len(via) > 10 {
			return http.ErrUseLastResponse
		}
		return nil
	}
	conf := oauth2.Config{ClientID: client.ID, RedirectURL: redirect, Scopes: []string{"openid", "accounts.read"},
		Endpoint: oauth2.Endpoint{AuthURL: base + "/oauth2/authorize", TokenURL: base + "/oauth2/token", AuthStyle: oauth2.AuthStyleInParams}}
	v := oauth2.GenerateVerifier()
	cb := b.authorize(br, conf.AuthCodeURL("mtls-state", oauth2.S256ChallengeOption(v)), biz.login, biz.tempPassword, "Maple-Ledger-Sync-2026")
	vendor := f.httpsClient(mine)
	tok, err := conf.Exchange(context.WithValue(t.Context(), oauth2.HTTPClient, vendor), cb.Query().Get("code"), oauth2.VerifierOption(v))
	if err != nil || tok.Type() != "Bearer" {
		t.Fatalf("exchange over the certificate: %v (%v)", err, tok)
	}
	call := func(hc *http.Client) (int, string) {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, base+"/fdx/v6/accounts", nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		res, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode, res.Header.Get("WWW-Authenticate")
	}
	if code, ch := call(vendor); code != http.StatusOK {
		t.Fatalf("/fdx/v6/accounts with the bound certificate: %d %s", code, ch)
	}
	for name, hc := range map[string]*http.Client{"another certificate": f.httpsClient(other), "no certificate": f.httpsClient()} {
		if code, ch := call(hc); code != http.StatusUnauthorized || !strings.Contains(ch, `error="invalid_token"`) {
			t.Errorf("/fdx/v6/accounts with %s: %d %q, want 401 invalid_token", name, code, ch)
		}
	}
}

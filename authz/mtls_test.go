package authz_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	josev4 "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/bankfeed/bankfeed/authz"
	"github.com/bankfeed/bankfeed/store"
)

// testCA is a client CA made in the test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newTestCA(t testing.TB, name string) testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	must(t, err)
	c, err := x509.ParseCertificate(der)
	must(t, err)
	return testCA{cert: c, key: key}
}

func (ca testCA) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// issue makes a client certificate for subject (and DNS SANs) signed by
// ca, or self-signed when ca is nil.
func issue(t testing.TB, ca *testCA, subject pkix.Name, dns ...string) (tls.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	must(t, err)
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: subject, DNSNames: dns,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	parent, signer := tmpl, any(key)
	if ca != nil {
		parent, signer = ca.cert, ca.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	must(t, err)
	leaf, err := x509.ParseCertificate(der)
	must(t, err)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, key
}

func thumbprint(c tls.Certificate) string {
	sum := sha256.Sum256(c.Certificate[0])
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// keyJWKS is the public JWKS of key, as a self_signed_tls_client_auth client
// registers its certificate's key.
func keyJWKS(t testing.TB, key *ecdsa.PrivateKey) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(josev4.JSONWebKeySet{Keys: []josev4.JSONWebKey{{Key: &key.PublicKey, KeyID: "cert", Use: "sig"}}})
	must(t, err)
	return b
}

// mtlsEnv is an env whose server also listens with TLS (asking for client
// certificates, verifying none: the server judges them) at e.mtls, the
// issuer's mtls_endpoint_aliases base URL.
type mtlsEnv struct {
	*env
	ca     testCA
	tlsSrv *httptest.Server
	mtls   string
}

func newMTLSEnv(t *testing.T, cfg func(*authz.Config)) *mtlsEnv {
	t.Helper()
	ca := newTestCA(t, "Bank client CA")
	var h http.Handler
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	ts.TLS = &tls.Config{ClientAuth: tls.RequestClientCert, MinVersion: tls.VersionTLS12}
	ts.StartTLS()
	t.Cleanup(ts.Close)
	e := newEnv(t, envOpts{cfg: func(c *authz.Config) {
		c.MTLS = authz.MTLSConfig{Enabled: true, ClientCAs: ca.pool(), BaseURL: ts.URL}
		if cfg != nil {
			cfg(c)
		}
	}})
	h = e.echo
	return &mtlsEnv{env: e, ca: ca, tlsSrv: ts, mtls: ts.URL}
}

// client is an HTTP client of the TLS listener presenting certs.
func (m *mtlsEnv) client(certs ...tls.Certificate) *http.Client {
	tr := m.tlsSrv.Client().Transport.(*http.Transport).Clone()
	tr.TLSClientConfig.Certificates = certs
	return &http.Client{Transport: tr}
}

func (m *mtlsEnv) post(hc *http.Client, path string, form url.Values) *http.Response {
	m.t.Helper()
	resp, err := hc.PostForm(m.mtls+path, form)
	must(m.t, err)
	return buffered(m.t, resp)
}

// tlsClient registers a tls_client_auth vendor with subject DN dn.
func (m *mtlsEnv) tlsClient(dn string) store.Client {
	m.t.Helper()
	c, _, err := authz.CreateClient(m.ctx, m.st, authz.ClientSpec{Name: "Certly " + dn, RedirectURIs: []string{redirectURI},
		AuthMethod: "tls_client_auth", TLSClientAuth: store.TLSClientAuth{SubjectDN: dn}})
	must(m.t, err)
	return c
}

// exchange runs the code flow for client and exchanges the code at the
// mTLS token endpoint with hc.
func (m *mtlsEnv) exchange(hc *http.Client, client store.Client) (tokenResult, *http.Response) {
	m.t.Helper()
	verifier := oauth2.GenerateVerifier()
	q := m.codeFor(m.authorizeParams(client.ID, oauth2.S256ChallengeFromVerifier(verifier)), m.user.ID, allScopes)
	form := codeForm(q.Get("code"), verifier)
	form.Set("client_id", client.ID)
	resp := m.post(hc, "/oauth2/token", form)
	var tr tokenResult
	must(m.t, json.Unmarshal([]byte(readBody(resp)), &tr))
	tr.Status = resp.StatusCode
	return tr, resp
}

func (m *mtlsEnv) userinfo(hc *http.Client, auth string) *http.Response {
	m.t.Helper()
	req, err := http.NewRequest(http.MethodGet, m.mtls+"/userinfo", nil)
	must(m.t, err)
	req.Header.Set("Authorization", auth)
	resp, err := hc.Do(req)
	must(m.t, err)
	return buffered(m.t, resp)
}

func wantInvalidClient(t testing.TB, tr tokenResult, resp *http.Response) {
	t.Helper()
	if tr.Status != http.StatusUnauthorized || tr.Error != "invalid_client" {
		t.Fatalf("token: %d %q (%s), want 401 invalid_client", tr.Status, tr.Error, tr.Description)
	}
	if resp.Header.Get("WWW-Authenticate") == "" {
		t.Fatal("401 invalid_client without WWW-Authenticate")
	}
}

// TestMTLSTLSClientAuth: a tls_client_auth client authenticates by its
// CA-issued certificate with the registered subject DN; its tokens are
// bound to that certificate (cnf x5t#S256 in introspection) and work at
// /userinfo over a connection presenting it, and so does the refresh.
func TestMTLSTLSClientAuth(t *testing.T) {
	m := newMTLSEnv(t, nil)
	subject := pkix.Name{CommonName: "certly", Organization: []string{"Certly Inc"}, Country: []string{"CA"}}
	cert, _ := issue(t, &m.ca, subject)
	client := m.tlsClient(cert.Leaf.Subject.String())
	hc := m.client(cert)
	tr, _ := m.exchange(hc, client)
	if tr.Status != http.StatusOK || tr.AccessToken == "" {
		t.Fatalf("token: %d %s %s", tr.Status, tr.Error, tr.Description)
	}
	if resp := m.userinfo(hc, "Bearer "+tr.AccessToken); resp.StatusCode != http.StatusOK {
		t.Fatalf("userinfo with the bound certificate: %d %s", resp.StatusCode, readBody(resp))
	}
	ir := m.post(hc, "/oauth2/introspect", url.Values{"client_id": {client.ID}, "token": {tr.AccessToken}})
	var in struct {
		Active bool              `json:"active"`
		Cnf    map[string]string `json:"cnf"`
	}
	must(t, json.NewDecoder(ir.Body).Decode(&in))
	if !in.Active || in.Cnf["x5t#S256"] != thumbprint(cert) {
		t.Fatalf("introspection %+v, want active with cnf x5t#S256 %s", in, thumbprint(cert))
	}
	rr := m.post(hc, "/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}, "client_id": {client.ID}})
	var next tokenResult
	must(t, json.NewDecoder(rr.Body).Decode(&next))
	if rr.StatusCode != http.StatusOK {
		t.Fatalf("refresh: %d %s %s", rr.StatusCode, next.Error, next.Description)
	}
	if resp := m.userinfo(hc, "Bearer "+next.AccessToken); resp.StatusCode != http.StatusOK {
		t.Fatalf("userinfo with the refreshed token: %d", resp.StatusCode)
	}
	if resp := m.userinfo(m.client(), "Bearer "+next.AccessToken); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("refreshed token without the certificate: %d, want 401", resp.StatusCode)
	}
	// Revocation authenticates the client by its certificate too.
	if resp := m.post(hc, "/oauth2/revoke", url.Values{"client_id": {client.ID}, "token": {next.RefreshToken}}); resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke: %d %s", resp.StatusCode, readBody(resp))
	}
}

// TestMTLSTLSClientAuthSAN: a tls_client_auth client registered by a DNS
// SAN authenticates with a certificate carrying it, and PAR accepts it.
func TestMTLSTLSClientAuthSAN(t *testing.T) {
	m := newMTLSEnv(t, nil)
	client, _, err := authz.CreateClient(m.ctx, m.st, authz.ClientSpec{Name: "Sanly", RedirectURIs: []string{redirectURI},
		AuthMethod: "tls_client_auth", TLSClientAuth: store.TLSClientAuth{SANDNS: "api.sanly.example"}})
	must(t, err)
	cert, _ := issue(t, &m.ca, pkix.Name{CommonName: "whatever"}, "api.sanly.example")
	hc := m.client(cert)
	verifier := oauth2.GenerateVerifier()
	resp := m.post(hc, "/oauth2/par", m.authorizeParams(client.ID, oauth2.S256ChallengeFromVerifier(verifier)))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("par: %d %s", resp.StatusCode, readBody(resp))
	}
	other, _ := issue(t, &m.ca, pkix.Name{CommonName: "whatever"}, "api.other.example")
	resp = m.post(m.client(other), "/oauth2/par", m.authorizeParams(client.ID, oauth2.S256ChallengeFromVerifier(verifier)))
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(readBody(resp), "invalid_client") {
		t.Fatalf("par with another SAN: %d, want 401 invalid_client", resp.StatusCode)
	}
}

// TestMTLSSelfSigned: a self_signed_tls_client_auth client authenticates by
// a self-signed certificate whose key it registered; its token is bound.
func TestMTLSSelfSigned(t *testing.T) {
	m := newMTLSEnv(t, nil)
	cert, key := issue(t, nil, pkix.Name{CommonName: "selfie"})
	client, _, err := authz.CreateClient(m.ctx, m.st, authz.ClientSpec{Name: "Selfie", RedirectURIs: []string{redirectURI},
		AuthMethod: "self_signed_tls_client_auth", JWKS: keyJWKS(t, key)})
	must(t, err)
	hc := m.client(cert)
	tr, _ := m.exchange(hc, client)
	if tr.Status != http.StatusOK {
		t.Fatalf("token: %d %s %s", tr.Status, tr.Error, tr.Description)
	}
	if resp := m.userinfo(hc, "Bearer "+tr.AccessToken); resp.StatusCode != http.StatusOK {
		t.Fatalf("userinfo: %d", resp.StatusCode)
	}
	// A self-signed certificate of another key is refused.
	stranger, _ := issue(t, nil, pkix.Name{CommonName: "selfie"})
	tr, resp := m.exchange(m.client(stranger), client)
	wantInvalidClient(t, tr, resp)
}

// TestMTLSNoCertificate: an mTLS client without a certificate is
// invalid_client (401 with WWW-Authenticate).
func TestMTLSNoCertificate(t *testing.T) {
	m := newMTLSEnv(t, nil)
	client := m.tlsClient("CN=certly")
	tr, resp := m.exchange(m.client(), client)
	wantInvalidClient(t, tr, resp)
}

// TestMTLSWrongCertificate: a certificate with the registered DN from
// another CA (self-signed), and a certificate of another client of the
// bank's CA, are invalid_client.
func TestMTLSWrongCertificate(t *testing.T) {
	m := newMTLSEnv(t, nil)
	client := m.tlsClient("CN=certly")
	forged, _ := issue(t, nil, pkix.Name{CommonName: "certly"})
	tr, resp := m.exchange(m.client(forged), client)
	wantInvalidClient(t, tr, resp)
	otherCA := newTestCA(t, "Another CA")
	foreign, _ := issue(t, &otherCA, pkix.Name{CommonName: "certly"})
	tr, resp = m.exchange(m.client(foreign), client)
	wantInvalidClient(t, tr, resp)
}

func TestMTLSCertificateOfAnotherClient(t *testing.T) {
	m := newMTLSEnv(t, nil)
	client := m.tlsClient("CN=certly")
	m.tlsClient("CN=booksy")
	theirs, _ := issue(t, &m.ca, pkix.Name{CommonName: "booksy"})
	tr, resp := m.exchange(m.client(theirs), client)
	wantInvalidClient(t, tr, resp)
}

// TestMTLSBoundTokenOtherCertificate: a certificate-bound token over a
// connection with another certificate, or none, or sent with the DPoP
// scheme, is 401 invalid_token.
func TestMTLSBoundTokenOtherCertificate(t *testing.T) {
	m := newMTLSEnv(t, nil)
	cert, _ := issue(t, &m.ca, pkix.Name{CommonName: "certly"})
	client := m.tlsClient("CN=certly")
	tr, _ := m.exchange(m.client(cert), client)
	if tr.Status != http.StatusOK {
		t.Fatalf("token: %d %s", tr.Status, tr.Description)
	}
	again, _ := issue(t, &m.ca, pkix.Name{CommonName: "certly"}) // same client, another certificate
	for name, c := range map[string]*http.Client{"another certificate": m.client(again), "no certificate": m.client(), "plain http": http.DefaultClient} {
		var resp *http.Response
		if name == "plain http" {
			resp = m.userinfoWith("Bearer "+tr.AccessToken, "")
		} else {
			resp = m.userinfo(c, "Bearer "+tr.AccessToken)
		}
		if ch := resp.Header.Get("WWW-Authenticate"); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(ch, `error="invalid_token"`) {
			t.Errorf("%s: %d %q, want 401 invalid_token", name, resp.StatusCode, ch)
		}
	}
	if resp := m.userinfo(m.client(cert), "DPoP "+tr.AccessToken); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("bound token with the DPoP scheme: %d, want 401", resp.StatusCode)
	}
	// Verify, without the request, refuses a bound token.
	if _, err := m.srv.Verify(m.ctx, tr.AccessToken); err == nil {
		t.Error("Verify accepted a certificate-bound token")
	}
}

// TestMTLSJWTAccessTokenCnf: a JWT access token carries cnf x5t#S256.
func TestMTLSJWTAccessTokenCnf(t *testing.T) {
	m := newMTLSEnv(t, func(c *authz.Config) { c.TokenFormat = "jwt" })
	cert, _ := issue(t, &m.ca, pkix.Name{CommonName: "certly"})
	tr, _ := m.exchange(m.client(cert), m.tlsClient("CN=certly"))
	parts := strings.Split(tr.AccessToken, ".")
	if len(parts) != 3 {
		t.Fatalf("access token %q is not a JWT", tr.AccessToken)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	must(t, err)
	var claims struct {
		Cnf map[string]string `json:"cnf"`
	}
	must(t, json.Unmarshal(b, &claims))
	if claims.Cnf["x5t#S256"] != thumbprint(cert) {
		t.Fatalf("cnf = %v, want x5t#S256 %s", claims.Cnf, thumbprint(cert))
	}
}

// TestMTLSDiscovery: with mTLS, both methods, certificate-bound tokens and
// the aliases are advertised; without it, none of them.
func TestMTLSDiscovery(t *testing.T) {
	m := newMTLSEnv(t, nil)
	var meta struct {
		Methods      []string          `json:"token_endpoint_auth_methods_supported"`
		Introspect   []string          `json:"introspection_endpoint_auth_methods_supported"`
		Bound        *bool             `json:"tls_client_certificate_bound_access_tokens"`
		Aliases      map[string]string `json:"mtls_endpoint_aliases"`
		TokenEndoint string            `json:"token_endpoint"`
	}
	for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		must(t, json.Unmarshal([]byte(readBody(m.get(m.iss+path))), &meta))
		for _, method := range []string{"tls_client_auth", "self_signed_tls_client_auth", "private_key_jwt"} {
			if !slices.Contains(meta.Methods, method) || !slices.Contains(meta.Introspect, method) {
				t.Errorf("%s: auth methods %v, %v lack %s", path, meta.Methods, meta.Introspect, method)
			}
		}
		if meta.Bound == nil || !*meta.Bound {
			t.Errorf("%s: tls_client_certificate_bound_access_tokens = %v", path, meta.Bound)
		}
		if meta.Aliases["token_endpoint"] != m.mtls+"/oauth2/token" || meta.Aliases["pushed_authorization_request_endpoint"] != m.mtls+"/oauth2/par" {
			t.Errorf("%s: mtls_endpoint_aliases = %v", path, meta.Aliases)
		}
	}
	plain := newEnv(t, envOpts{})
	body := readBody(plain.get(plain.iss + "/.well-known/openid-configuration"))
	for _, s := range []string{"tls_client_auth", "tls_client_certificate_bound_access_tokens", "mtls_endpoint_aliases"} {
		if strings.Contains(body, s) {
			t.Errorf("without mTLS, discovery names %s", s)
		}
	}
}

// TestMTLSForwardedCertificate: behind a reverse proxy, the certificate in
// the configured header authenticates the client when the peer is a
// trusted proxy (nginx's URL-encoded PEM, or base64 DER), and is ignored
// from any other peer.
func TestMTLSForwardedCertificate(t *testing.T) {
	ca := newTestCA(t, "Bank client CA")
	var h http.Handler
	front := func(trustedNet string) *httptest.Server {
		ts := httptest.NewServer(authz.ForwardedClientCertificate(authz.ForwardedCertConfig{
			Header: "X-SSL-Client-Cert", TrustedProxies: []netip.Prefix{netip.MustParsePrefix(trustedNet)},
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) })))
		t.Cleanup(ts.Close)
		return ts
	}
	trustedFront, untrustedFront := front("127.0.0.1/32"), front("10.0.0.0/8")
	e := newEnv(t, envOpts{cfg: func(c *authz.Config) { c.MTLS = authz.MTLSConfig{Enabled: true, ClientCAs: ca.pool()} }})
	h = e.echo
	cert, _ := issue(t, &ca, pkix.Name{CommonName: "proxied"})
	client, _, err := authz.CreateClient(e.ctx, e.st, authz.ClientSpec{Name: "Proxied", RedirectURIs: []string{redirectURI},
		AuthMethod: "tls_client_auth", TLSClientAuth: store.TLSClientAuth{SubjectDN: "CN=proxied"}})
	must(t, err)
	pemCert := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}))
	exchange := func(base, header string) (tokenResult, int) {
		verifier := oauth2.GenerateVerifier()
		q := e.codeFor(e.authorizeParams(client.ID, oauth2.S256ChallengeFromVerifier(verifier)), e.user.ID, allScopes)
		form := codeForm(q.Get("code"), verifier)
		form.Set("client_id", client.ID)
		req, err := http.NewRequest(http.MethodPost, base+"/oauth2/token", strings.NewReader(form.Encode()))
		must(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-SSL-Client-Cert", header)
		resp, err := http.DefaultClient.Do(req)
		must(t, err)
		var tr tokenResult
		must(t, json.NewDecoder(resp.Body).Decode(&tr))
		resp.Body.Close()
		return tr, resp.StatusCode
	}
	for name, header := range map[string]string{
		"nginx $ssl_client_escaped_cert": url.PathEscape(pemCert),
		"base64 DER":                     base64.StdEncoding.EncodeToString(cert.Certificate[0]),
	} {
		tr, status := exchange(trustedFront.URL, header)
		if status != http.StatusOK {
			t.Fatalf("%s from a trusted proxy: %d %s %s", name, status, tr.Error, tr.Description)
		}
		// The bound token works through the proxy with the certificate, not without.
		req, _ := http.NewRequest(http.MethodGet, trustedFront.URL+"/userinfo", nil)
		req.Header.Set("Authorization", "Bearer "+tr.AccessToken)
		req.Header.Set("X-SSL-Client-Cert", header)
		resp, err := http.DefaultClient.Do(req)
		must(t, err)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: userinfo through the proxy: %d", name, resp.StatusCode)
		}
	}
	tr, status := exchange(untrustedFront.URL, url.PathEscape(pemCert))
	if status != http.StatusUnauthorized || tr.Error != "invalid_client" {
		t.Fatalf("header from an untrusted peer: %d %s, want 401 invalid_client", status, tr.Error)
	}
}

// TestMTLSFAPI2: in the fapi2 profile, a tls_client_auth client with an
// https redirect URI runs the whole flow with golang.org/x/oauth2 over an
// http.Client presenting its certificate: PAR, the code exchange, a
// certificate-bound token (no DPoP) accepted by the profile, userinfo.
func TestMTLSFAPI2(t *testing.T) {
	m := newMTLSEnv(t, func(c *authz.Config) { c.Profile = authz.ProfileFAPI2 })
	cert, _ := issue(t, &m.ca, pkix.Name{CommonName: "fapi-certly"})
	spec := authz.ClientSpec{Name: "FAPI Certly", RedirectURIs: []string{fapiRedirect},
		AuthMethod: "tls_client_auth", TLSClientAuth: store.TLSClientAuth{SubjectDN: "CN=fapi-certly"}}
	if err := authz.CheckClientSpec(authz.ProfileFAPI2, spec); err != nil {
		t.Fatalf("the profile refuses an mTLS client: %v", err)
	}
	client, _, err := authz.CreateClient(m.ctx, m.st, spec)
	must(t, err)
	hc := m.client(cert)
	conf := oauth2.Config{ClientID: client.ID, RedirectURL: fapiRedirect, Scopes: allScopes,
		Endpoint: oauth2.Endpoint{AuthURL: m.iss + "/oauth2/authorize", TokenURL: m.mtls + "/oauth2/token", AuthStyle: oauth2.AuthStyleInParams}}
	verifier := oauth2.GenerateVerifier()
	au, err := url.Parse(conf.AuthCodeURL("state-abcdefgh", oauth2.S256ChallengeOption(verifier)))
	must(t, err)
	resp := m.post(hc, "/oauth2/par", au.Query())
	body := readBody(resp)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("par: %d %s", resp.StatusCode, body)
	}
	var par struct {
		RequestURI string `json:"request_uri"`
	}
	must(t, jsonUnmarshal(body, &par))
	ch := m.startAuthorize(url.Values{"client_id": {client.ID}, "request_uri": {par.RequestURI}})
	v := m.decideFlowInStore(ch, m.user.ID, allScopes, false)
	resp = m.get(m.iss + "/oauth2/authorize/resume?" + url.Values{"login_challenge": {ch}, "login_verifier": {v}}.Encode())
	loc, err := url.Parse(resp.Header.Get("Location"))
	must(t, err)
	if !strings.HasPrefix(loc.String(), fapiRedirect) || loc.Query().Get("iss") != m.iss {
		t.Fatalf("resume: %d to %s", resp.StatusCode, loc)
	}
	ctx := context.WithValue(m.ctx, oauth2.HTTPClient, hc)
	tok, err := conf.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	must(t, err)
	if tok.Type() != "Bearer" {
		t.Fatalf("token_type %q, want Bearer (certificate-bound)", tok.TokenType)
	}
	if resp := m.userinfo(hc, "Bearer "+tok.AccessToken); resp.StatusCode != http.StatusOK {
		t.Fatalf("userinfo: %d %s", resp.StatusCode, readBody(resp))
	}
	if resp := m.userinfo(m.client(), "Bearer "+tok.AccessToken); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("userinfo without the certificate: %d, want 401", resp.StatusCode)
	}
}

// TestMTLSClientSpec: registration rules of the two methods.
func TestMTLSClientSpec(t *testing.T) {
	e := newEnv(t, envOpts{})
	_, key := issue(t, nil, pkix.Name{CommonName: "x"})
	for name, spec := range map[string]authz.ClientSpec{
		"no name":                {AuthMethod: "tls_client_auth"},
		"two names":              {AuthMethod: "tls_client_auth", TLSClientAuth: store.TLSClientAuth{SubjectDN: "CN=a", SANDNS: "a.example"}},
		"with a secret":          {AuthMethod: "tls_client_auth", TLSClientAuth: store.TLSClientAuth{SubjectDN: "CN=a"}, Secret: true},
		"bad IP":                 {AuthMethod: "tls_client_auth", TLSClientAuth: store.TLSClientAuth{SANIP: "not-an-ip"}},
		"self-signed, no keys":   {AuthMethod: "self_signed_tls_client_auth"},
		"DN for private_key_jwt": {JWKS: keyJWKS(t, key), TLSClientAuth: store.TLSClientAuth{SubjectDN: "CN=a"}},
		"unknown method":         {AuthMethod: "client_secret_post", Secret: true},
	} {
		spec.Name, spec.RedirectURIs = "Bad", []string{redirectURI}
		if _, _, err := authz.CreateClient(e.ctx, e.st, spec); err == nil {
			t.Errorf("%s: created", name)
		}
	}
	c, _, err := authz.CreateClient(e.ctx, e.st, authz.ClientSpec{Name: "Certly", RedirectURIs: []string{redirectURI},
		AuthMethod: "tls_client_auth", TLSClientAuth: store.TLSClientAuth{SANIP: "192.0.2.7"}})
	must(t, err)
	if c.TokenEndpointAuthMethod != "tls_client_auth" || c.TLSClientAuth.SANIP != "192.0.2.7" {
		t.Fatalf("created %+v", c)
	}
	dn := "CN=certly,O=Certly"
	c, changed, err := authz.UpdateClient(e.ctx, e.st, c.ID, authz.ClientUpdate{TLSClientAuth: &store.TLSClientAuth{SubjectDN: dn}})
	must(t, err)
	if c.TLSClientAuth != (store.TLSClientAuth{SubjectDN: dn}) || !slices.Equal(changed, []string{"tlsClientAuth"}) {
		t.Fatalf("updated %+v, changed %v", c.TLSClientAuth, changed)
	}
	self, _, err := authz.CreateClient(e.ctx, e.st, authz.ClientSpec{Name: "Selfie", RedirectURIs: []string{redirectURI},
		AuthMethod: "self_signed_tls_client_auth", JWKS: keyJWKS(t, key)})
	must(t, err)
	_, key2 := issue(t, nil, pkix.Name{CommonName: "y"})
	self, _, err = authz.UpdateClient(e.ctx, e.st, self.ID, authz.ClientUpdate{JWKS: keyJWKS(t, key2)})
	must(t, err)
	if self.TokenEndpointAuthMethod != "self_signed_tls_client_auth" {
		t.Fatalf("new keys turned the self-signed client into %s", self.TokenEndpointAuthMethod)
	}
}

// TestMTLSDynamicRegistration: a client registers itself (RFC 7591) with
// tls_client_auth and a subject DN (RFC 8705 §2.1.2's metadata), or with
// self_signed_tls_client_auth and its certificate's key; the registration
// reads back the same; a name for another method, two names, or a self-signed
// client without keys are invalid_client_metadata.
func TestMTLSDynamicRegistration(t *testing.T) {
	m := newMTLSEnv(t, nil)
	meta := func(extra map[string]any) map[string]any {
		b := map[string]any{"client_name": "Certly", "redirect_uris": []string{vendorCallback}, "scope": "openid accounts.read"}
		for k, v := range extra {
			b[k] = v
		}
		return b
	}
	r := m.registrationRequest(http.MethodPost, "/oauth2/register", m.registrationToken(time.Hour, 10),
		meta(map[string]any{"token_endpoint_auth_method": "tls_client_auth", "tls_client_auth_subject_dn": "CN=certly,O=Certly"}))
	if r.Status != http.StatusCreated || r.Body["token_endpoint_auth_method"] != "tls_client_auth" || r.Body["tls_client_auth_subject_dn"] != "CN=certly,O=Certly" {
		t.Fatalf("register tls_client_auth: %d %v", r.Status, r.Body)
	}
	c, err := m.st.GetClient(m.ctx, r.Body["client_id"].(string))
	must(t, err)
	if c.TokenEndpointAuthMethod != "tls_client_auth" || c.TLSClientAuth.SubjectDN != "CN=certly,O=Certly" || len(c.JWKS) > 0 {
		t.Fatalf("stored %+v", c)
	}
	_, key := issue(t, nil, pkix.Name{CommonName: "selfie"})
	r = m.registrationRequest(http.MethodPost, "/oauth2/register", m.registrationToken(time.Hour, 10),
		meta(map[string]any{"token_endpoint_auth_method": "self_signed_tls_client_auth", "jwks": keyJWKS(t, key)}))
	if r.Status != http.StatusCreated || r.Body["token_endpoint_auth_method"] != "self_signed_tls_client_auth" {
		t.Fatalf("register self_signed_tls_client_auth: %d %v", r.Status, r.Body)
	}
	for name, extra := range map[string]map[string]any{
		"name for private_key_jwt": {"token_endpoint_auth_method": "private_key_jwt", "jwks": keyJWKS(t, key), "tls_client_auth_san_dns": "a.example"},
		"two names":                {"token_endpoint_auth_method": "tls_client_auth", "tls_client_auth_subject_dn": "CN=a", "tls_client_auth_san_dns": "a.example"},
		"no name":                  {"token_endpoint_auth_method": "tls_client_auth"},
		"self-signed without keys": {"token_endpoint_auth_method": "self_signed_tls_client_auth"},
	} {
		r := m.registrationRequest(http.MethodPost, "/oauth2/register", m.registrationToken(time.Hour, 1), meta(extra))
		if r.Status != http.StatusBadRequest || r.Error != "invalid_client_metadata" {
			t.Errorf("%s: %d %v, want 400 invalid_client_metadata", name, r.Status, r.Body)
		}
	}
}

// TestMTLSAliasDPoP: at the mTLS aliases (another origin than the issuer),
// a DPoP proof names the alias's URL as its htu (RFC 9449 §4.3: the URI of
// the request), at the token endpoint and at /userinfo; a proof naming the
// issuer's URL there is refused.
func TestMTLSAliasDPoP(t *testing.T) {
	m := newMTLSEnv(t, nil)
	k := newDPoPKey(t)
	hc := m.client()
	exchange := func(htu string) (*http.Response, dpopResult) {
		code, verifier := m.dpopCode(nil)
		req, err := http.NewRequest(http.MethodPost, m.mtls+"/oauth2/token", strings.NewReader(codeForm(code, verifier).Encode()))
		must(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(url.QueryEscape(m.vendor.ID), url.QueryEscape(m.secret))
		req.Header.Set("DPoP", k.proof(http.MethodPost, htu, nil))
		resp, err := hc.Do(req)
		must(t, err)
		resp = buffered(t, resp)
		var r dpopResult
		must(t, json.NewDecoder(resp.Body).Decode(&r))
		r.Status = resp.StatusCode
		return resp, r
	}
	_, r := exchange(m.mtls + "/oauth2/token")
	if r.Status != http.StatusOK || r.TokenType != "DPoP" {
		t.Fatalf("DPoP at the alias with the alias's htu: %d %s %s", r.Status, r.Error, r.Description)
	}
	req, err := http.NewRequest(http.MethodGet, m.mtls+"/userinfo", nil)
	must(t, err)
	req.Header.Set("Authorization", "DPoP "+r.AccessToken)
	req.Header.Set("DPoP", k.resourceProof(http.MethodGet, m.mtls+"/userinfo", r.AccessToken, nil))
	resp, err := hc.Do(req)
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("userinfo at the alias with the alias's htu: %d %s", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	if _, r := exchange(m.iss + "/oauth2/token"); r.Status != http.StatusBadRequest || r.Error != "invalid_dpop_proof" {
		t.Fatalf("DPoP at the alias with the issuer's htu: %d %s, want invalid_dpop_proof", r.Status, r.Error)
	}
}

// TestMTLSPrivateKeyJWTBoundRefresh: a private_key_jwt client that presents
// a certificate gets certificate-bound tokens (mTLS as sender constraint
// only, RFC 8705 §3); its refresh without a certificate is invalid_grant
// (the tokens would lose the binding), with a new certificate it succeeds
// and binds the new tokens to it.
func TestMTLSPrivateKeyJWTBoundRefresh(t *testing.T) {
	m := newMTLSEnv(t, nil)
	kc := m.newKeyClient(authz.ClientSpec{})
	cert, _ := issue(t, nil, pkix.Name{CommonName: "booksy-transport"}) // any certificate: only its thumbprint matters
	verifier := oauth2.GenerateVerifier()
	q := m.codeFor(m.authorizeParams(kc.client.ID, oauth2.S256ChallengeFromVerifier(verifier)), m.user.ID, allScopes)
	token := func(hc *http.Client, form url.Values) tokenResult {
		resp := m.post(hc, "/oauth2/token", kc.authForm(t, m.iss, form))
		var tr tokenResult
		must(t, json.NewDecoder(resp.Body).Decode(&tr))
		tr.Status = resp.StatusCode
		return tr
	}
	tr := token(m.client(cert), codeForm(q.Get("code"), verifier))
	if tr.Status != http.StatusOK {
		t.Fatalf("exchange: %d %s %s", tr.Status, tr.Error, tr.Description)
	}
	if resp := m.userinfo(m.client(), "Bearer "+tr.AccessToken); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the bound token without its certificate: %d, want 401", resp.StatusCode)
	}
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}}
	if r := token(m.client(), refresh); r.Status != http.StatusBadRequest || r.Error != "invalid_grant" {
		t.Fatalf("refresh without a certificate: %d %s, want invalid_grant", r.Status, r.Error)
	}
	renewed, _ := issue(t, nil, pkix.Name{CommonName: "booksy-transport"})
	next := token(m.client(renewed), refresh)
	if next.Status != http.StatusOK {
		t.Fatalf("refresh with a new certificate: %d %s %s", next.Status, next.Error, next.Description)
	}
	if resp := m.userinfo(m.client(renewed), "Bearer "+next.AccessToken); resp.StatusCode != http.StatusOK {
		t.Fatalf("the refreshed token with the new certificate: %d", resp.StatusCode)
	}
	if resp := m.userinfo(m.client(cert), "Bearer "+next.AccessToken); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the refreshed token with the old certificate: %d, want 401", resp.StatusCode)
	}
}

package authz_test

import (
	"crypto/x509/pkix"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/bankfeed/bankfeed/authz"
	"github.com/bankfeed/bankfeed/store"
)

// Modules of the FAPI 2.0 Security Profile plan whose mutual-TLS variants
// (client_auth_type=mtls, sender_constrain=mtls) behave differently from the
// private_key_jwt + DPoP runs of conformance_sp_test.go: a tls_client_auth
// client, certificate-bound tokens, a server in the fapi2 profile with a TLS
// listener (authz/mtls_test.go's mtlsEnv). See conformance_helpers_test.go.

// mtlsFAPIClient registers a tls_client_auth FAPI client (subject CN=cn,
// https redirect URI) and returns it with an HTTP client presenting its
// certificate.
func (m *mtlsEnv) mtlsFAPIClient(cn string) (store.Client, *http.Client) {
	m.t.Helper()
	cert, _ := issue(m.t, &m.ca, pkix.Name{CommonName: cn})
	c, _, err := authz.CreateClient(m.ctx, m.st, authz.ClientSpec{Name: "Certly " + cn, RedirectURIs: []string{fapiRedirect},
		AuthMethod: "tls_client_auth", TLSClientAuth: store.TLSClientAuth{SubjectDN: "CN=" + cn}})
	must(m.t, err)
	return c, m.client(cert)
}

// mtlsCode pushes the usual request over hc's TLS connection, runs the
// authorization endpoint and returns the code and its verifier.
func (m *mtlsEnv) mtlsCode(hc *http.Client, client store.Client) (code, verifier string) {
	m.t.Helper()
	verifier = oauth2.GenerateVerifier()
	p := m.authorizeParams(client.ID, oauth2.S256ChallengeFromVerifier(verifier))
	p.Set("redirect_uri", fapiRedirect)
	resp := m.post(hc, "/oauth2/par", p)
	uri := pushedURI(m.t, resp)
	ch := m.startAuthorize(url.Values{"client_id": {client.ID}, "request_uri": {uri}})
	v := m.decideFlowInStore(ch, m.user.ID, allScopes, false)
	resp = m.get(m.iss + "/oauth2/authorize/resume?" + url.Values{"login_challenge": {ch}, "login_verifier": {v}}.Encode())
	loc, err := url.Parse(resp.Header.Get("Location"))
	must(m.t, err)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc.String(), fapiRedirect) || loc.Query().Get("code") == "" {
		m.t.Fatalf("resume: %d to %s", resp.StatusCode, loc)
	}
	return loc.Query().Get("code"), verifier
}

// mtlsToken posts form as clientID over hc to the mTLS token endpoint.
func (m *mtlsEnv) mtlsToken(hc *http.Client, clientID string, form url.Values) dpopResult {
	m.t.Helper()
	form = cloneValues(form)
	form.Set("client_id", clientID)
	return decodeResult(m.t, m.post(hc, "/oauth2/token", form))
}

func fapiMTLSEnv(t *testing.T) *mtlsEnv {
	return newMTLSEnv(t, func(c *authz.Config) { c.Profile = authz.ProfileFAPI2 })
}

// TestConformanceFAPI2MTLSEnsureClientIdInTokenEndpoint ports the mTLS
// variant of fapi2-security-profile-final-ensure-client-id-in-token-endpoint
// (FAPI2SPFinalEnsureClientIdInTokenEndpoint): client 1's code sent with
// client 2's client_id over client 1's certificate: invalid_client (401)
// or invalid_grant.
func TestConformanceFAPI2MTLSEnsureClientIdInTokenEndpoint(t *testing.T) {
	m := fapiMTLSEnv(t)
	c1, hc1 := m.mtlsFAPIClient("conformance-one")
	c2, _ := m.mtlsFAPIClient("conformance-two")
	code, verifier := m.mtlsCode(hc1, c1)
	wantTokenRefused(t, m.mtlsToken(hc1, c2.ID, fapiCodeForm(code, verifier)), "invalid_client", "invalid_grant")
}

// TestConformanceFAPI2MTLSEnsureAuthorizationCodeIsBoundToClient ports the
// mTLS variant of fapi2-security-profile-final-ensure-authorization-code-is-bound-to-client
// (FAPI2SPFinalEnsureAuthorizationCodeIsBoundToClient): client 1's code
// exchanged by client 2 over its own certificate: 400 invalid_grant.
func TestConformanceFAPI2MTLSEnsureAuthorizationCodeIsBoundToClient(t *testing.T) {
	m := fapiMTLSEnv(t)
	c1, hc1 := m.mtlsFAPIClient("conformance-one")
	c2, hc2 := m.mtlsFAPIClient("conformance-two")
	code, verifier := m.mtlsCode(hc1, c1)
	r := m.mtlsToken(hc2, c2.ID, fapiCodeForm(code, verifier))
	if r.Status != http.StatusBadRequest || r.Error != "invalid_grant" {
		t.Fatalf("another client's code: %d %s %s, want 400 invalid_grant", r.Status, r.Error, r.Description)
	}
}

// TestConformanceFAPI2MTLSRefreshToken ports the mTLS variant of
// fapi2-security-profile-final-refresh-token (FAPI2SPFinalRefreshToken): the
// certificate-bound grant refreshes over the client's certificate; the
// rotated-out refresh token still works once (§5.3.2.1-9); another client,
// over its own certificate, gets invalid_grant; the new access token is
// bound to the certificate (401 at the resource without it).
func TestConformanceFAPI2MTLSRefreshToken(t *testing.T) {
	m := fapiMTLSEnv(t)
	c1, hc1 := m.mtlsFAPIClient("conformance-one")
	c2, hc2 := m.mtlsFAPIClient("conformance-two")
	code, verifier := m.mtlsCode(hc1, c1)
	first := m.mtlsToken(hc1, c1.ID, fapiCodeForm(code, verifier))
	if first.Status != http.StatusOK || first.RefreshToken == "" {
		t.Fatalf("exchange: %d %s %s", first.Status, first.Error, first.Description)
	}
	refresh := func(hc *http.Client, id, rt string) dpopResult {
		return m.mtlsToken(hc, id, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
	}
	r := refresh(hc1, c1.ID, first.RefreshToken)
	if r.Status != http.StatusOK || r.AccessToken == "" {
		t.Fatalf("refresh: %d %s %s", r.Status, r.Error, r.Description)
	}
	if r.RefreshToken != first.RefreshToken {
		if again := refresh(hc1, c1.ID, first.RefreshToken); again.Status != http.StatusOK {
			t.Fatalf("refresh with the previous token: %d %s %s", again.Status, again.Error, again.Description)
		}
	}
	wantTokenRefused(t, refresh(hc2, c2.ID, r.RefreshToken), "invalid_grant")
	if resp := m.userinfo(hc1, "Bearer "+r.AccessToken); resp.StatusCode != http.StatusOK {
		t.Fatalf("userinfo over the certificate: %d", resp.StatusCode)
	}
	if resp := m.userinfo(m.client(), "Bearer "+r.AccessToken); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("userinfo without the certificate: %d, want 401", resp.StatusCode)
	}
}

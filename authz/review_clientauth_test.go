package authz_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/bankfeed/bankfeed/authz"
)

// TestClientAuthFailureChallenges: a failed client authentication is 401
// invalid_client with a WWW-Authenticate challenge (RFC 6749 §5.2) at every
// endpoint that authenticates clients — Basic for a wrong secret or for a
// client that sent no Authorization header, the scheme the client tried
// otherwise.
func TestClientAuthFailureChallenges(t *testing.T) {
	e := newEnv(t, envOpts{})
	kc := e.newKeyClient(authz.ClientSpec{})
	badAssertion := func(form url.Values) url.Values {
		form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		form.Set("client_assertion", kc.assertion(t, e.iss, func(c jwt.MapClaims) { c["aud"] = "https://elsewhere.example" }))
		return form
	}
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"whatever"}}
	parForm := e.authorizeParams(kc.client.ID, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
	for _, tc := range []struct {
		name, path string
		form       url.Values
		user, pass string
		header     string // an Authorization header instead of Basic
		wantScheme string
	}{
		{name: "token, wrong secret", path: "/oauth2/token", form: refresh, user: e.vendor.ID, pass: "wrong", wantScheme: "Basic"},
		{name: "token, unknown client", path: "/oauth2/token", form: refresh, user: "cli_nobody", pass: "wrong", wantScheme: "Basic"},
		{name: "token, bad assertion", path: "/oauth2/token", form: badAssertion(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}), wantScheme: "Basic"},
		{name: "PAR, bad assertion", path: "/oauth2/par", form: badAssertion(parForm), wantScheme: "Basic"},
		{name: "PAR, wrong secret", path: "/oauth2/par", form: e.authorizeParams(e.vendor.ID, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"), user: e.vendor.ID, pass: "wrong", wantScheme: "Basic"},
		{name: "revocation, wrong secret", path: "/oauth2/revoke", form: url.Values{"token": {"x"}}, user: e.vendor.ID, pass: "wrong", wantScheme: "Basic"},
		{name: "introspection, wrong secret", path: "/oauth2/introspect", form: url.Values{"token": {"x"}}, user: e.vendor.ID, pass: "wrong", wantScheme: "Basic"},
		{name: "introspection, bearer", path: "/oauth2/introspect", form: url.Values{"token": {"x"}}, header: "Bearer not-a-token", wantScheme: "Bearer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, e.iss+tc.path, strings.NewReader(tc.form.Encode()))
			must(t, err)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tc.user != "" {
				req.SetBasicAuth(url.QueryEscape(tc.user), url.QueryEscape(tc.pass))
			}
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			resp, err := http.DefaultClient.Do(req)
			must(t, err)
			resp = buffered(t, resp)
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401: %s", resp.StatusCode, readBody(resp))
			}
			ch := resp.Header.Get("WWW-Authenticate")
			if !strings.HasPrefix(ch, tc.wantScheme+" ") || !strings.Contains(ch, `realm="`) {
				t.Fatalf("WWW-Authenticate %q, want a %s challenge with a realm", ch, tc.wantScheme)
			}
		})
	}
}

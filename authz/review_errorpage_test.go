package authz_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/bankfeed/bankfeed/authz"
	"github.com/bankfeed/bankfeed/consent"
)

// TestUnredirectableErrorsArePages: an authorization request the server
// cannot answer at the client's redirect URI (unknown client_id,
// unregistered redirect_uri, a used request_uri, a sign-in that does not
// check out) shows the customer the bank's error page — HTML, in the
// user's language, with the error code — not fosite's JSON.
func TestUnredirectableErrorsArePages(t *testing.T) {
	var pages *consent.Handler
	e := newEnv(t, envOpts{cfg: func(c *authz.Config) {
		c.ErrorPage = func(w http.ResponseWriter, r *http.Request, status int, code string) {
			pages.AuthorizeErrorPage(w, r, status, code)
		}
	}})
	var err error
	pages, err = consent.New(consent.Config{Store: e.st, Issuer: e.iss, Now: e.clock.Now})
	must(t, err)
	pages.Mount(e.echo)

	kc := e.newKeyClient(authz.ClientSpec{})
	challenge := oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())
	requestURI := e.par(kc, e.iss, e.authorizeParams(kc.client.ID, challenge))
	e.startAuthorize(url.Values{"client_id": {kc.client.ID}, "request_uri": {requestURI}})

	unknown := e.authorizeParams("cli_nobody", challenge)
	unregistered := e.authorizeParams(e.vendor.ID, challenge)
	unregistered.Set("redirect_uri", "https://evil.example/cb")
	for _, tc := range []struct {
		name, url, lang, code, want string
	}{
		{"unknown client_id", "/oauth2/authorize?" + unknown.Encode(), "en-GB,en;q=0.8", "invalid_client", "Error code"},
		{"unregistered redirect_uri", "/oauth2/authorize?" + unregistered.Encode(), "fr-CA,fr;q=0.9", "invalid_request", "Code d&#39;erreur"},
		{"used request_uri", "/oauth2/authorize?" + url.Values{"client_id": {kc.client.ID}, "request_uri": {requestURI}}.Encode(), "fr", "invalid_request_uri", "Code d&#39;erreur"},
		{"unknown sign-in", "/oauth2/authorize/resume?login_challenge=nope&login_verifier=nope", "en", "invalid_request", "Error code"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, e.iss+tc.url, nil)
			must(t, err)
			req.Header.Set("Accept-Language", tc.lang)
			resp, err := e.browser.Do(req)
			must(t, err)
			resp = buffered(t, resp)
			body := readBody(resp)
			if resp.StatusCode < 400 || resp.Header.Get("Location") != "" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
				t.Fatalf("status %d, %s, location %q: want an HTML page", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Location"))
			}
			if !strings.Contains(body, tc.want) || !strings.Contains(body, tc.code) || resp.Header.Get("Content-Security-Policy") == "" {
				t.Fatalf("page lacks %q or the code %s (or a CSP):\n%s", tc.want, tc.code, body)
			}
		})
	}
}

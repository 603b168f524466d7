package authz_test

import (
	"net/http"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/bankfeed/bankfeed/authz"
)

// TestLoopbackRedirectExact: redirect URIs match exactly. A loopback one
// on another port, without its port or with user information is refused
// without a redirect (the customer sees the bank's error, the URI gets
// nothing), at the authorization endpoint and at PAR. Only a client
// registered as a native app gets RFC 8252 §7.3's any-port relaxation, and
// never with user information.
func TestLoopbackRedirectExact(t *testing.T) {
	e := newEnv(t, envOpts{})
	native, nativeSecret, err := authz.CreateClient(e.ctx, e.st, authz.ClientSpec{Name: "Desktop books", RedirectURIs: []string{redirectURI}, Secret: true, NativeApp: true})
	must(t, err)
	challenge := oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())
	authorize := func(clientID, redirect string) *http.Response {
		t.Helper()
		q := e.authorizeParams(clientID, challenge)
		q.Set("redirect_uri", redirect)
		return e.get(e.iss + "/oauth2/authorize?" + q.Encode())
	}
	refused := func(t *testing.T, resp *http.Response) {
		t.Helper()
		if loc := resp.Header.Get("Location"); resp.StatusCode < 400 || loc != "" {
			t.Fatalf("status %d, location %q: want a refusal without a redirect", resp.StatusCode, loc)
		}
	}
	toLogin := func(t *testing.T, resp *http.Response) {
		t.Helper()
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, e.iss+"/login?") {
			t.Fatalf("status %d, location %q: want the sign-in page", resp.StatusCode, loc)
		}
	}
	odd := []string{
		"http://127.0.0.1:8888/callback",
		"http://127.0.0.1/callback",
		"http://evil@127.0.0.1:9999/callback",
		"http://127.0.0.1:9999/callback/",
		"http://127.0.0.1:9999/callback?x=1",
	}
	for _, u := range odd {
		t.Run("web client "+u, func(t *testing.T) {
			refused(t, authorize(e.vendor.ID, u))
			form := e.authorizeParams(e.vendor.ID, challenge)
			form.Set("redirect_uri", u)
			resp := e.postForm("/oauth2/par", form, e.vendor.ID, e.secret)
			if code, errCode := jsonError(t, resp); code != http.StatusBadRequest || errCode != "invalid_request" {
				t.Fatalf("PAR: %d %s", code, errCode)
			}
		})
	}
	t.Run("web client exact", func(t *testing.T) { toLogin(t, authorize(e.vendor.ID, redirectURI)) })
	t.Run("native any port", func(t *testing.T) {
		toLogin(t, authorize(native.ID, "http://127.0.0.1:8888/callback"))
		toLogin(t, authorize(native.ID, "http://127.0.0.1/callback"))
		form := e.authorizeParams(native.ID, challenge)
		form.Set("redirect_uri", "http://127.0.0.1:45678/callback")
		if resp := e.postForm("/oauth2/par", form, native.ID, nativeSecret); resp.StatusCode != http.StatusCreated {
			t.Fatalf("PAR: %d %s", resp.StatusCode, readBody(resp))
		}
	})
	t.Run("native never with userinfo or another path", func(t *testing.T) {
		refused(t, authorize(native.ID, "http://evil@127.0.0.1:9999/callback"))
		refused(t, authorize(native.ID, "http://evil@127.0.0.1:8888/callback"))
		refused(t, authorize(native.ID, "http://127.0.0.1:8888/other"))
		refused(t, authorize(native.ID, "http://[::1]:8888/callback"))
	})
}

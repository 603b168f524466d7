package consent

import (
	"net/http"
	"strings"
	"testing"
)

// TestSignInCSPAllowsTheClientsRedirect: the sign-in page's form-action
// lists the flow's client's redirect origins, as the consent page's does:
// browsers (Chromium) apply form-action to the redirects after the post, and
// a first-party client skips the consent page, so "Sign in" leads through
// resume to the client's origin. Without a flow, only the bank's origin.
func TestSignInCSPAllowsTheClientsRedirect(t *testing.T) {
	en := newEnv(t)
	f := en.flow()
	p := en.browser().get(pathLogin + "?login_challenge=" + f.ID)
	p.status(t, http.StatusOK)
	if csp := p.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' "+en.ts.URL+" http://127.0.0.1:9999;") {
		t.Errorf("sign-in CSP with a flow %q: want the client's redirect origin in form-action", csp)
	}
	p = en.browser().get(pathLogin)
	if csp := p.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' "+en.ts.URL+";") {
		t.Errorf("sign-in CSP without a flow %q", csp)
	}
}

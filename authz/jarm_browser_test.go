package authz_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"github.com/bankfeed/bankfeed/authz"
	"github.com/bankfeed/bankfeed/internal/browsertest"
)

// TestJARMFormPostInChromium: the form_post.jwt page, under its own CSP,
// really posts the signed response to the client in a browser — the
// script runs (allowed by its hash) and the post leaves for the client's
// origin (form-action); a CSP that blocked either would leave the browser
// on the bank's page.
func TestJARMFormPostInChromium(t *testing.T) {
	bin := browsertest.Chromium(t)
	e := newEnv(t, envOpts{})
	var (
		mu       sync.Mutex
		received []string
	)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/callback" {
			http.NotFound(w, r)
			return
		}
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		received = append(received, r.PostForm.Get("response"))
		mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!DOCTYPE html><title>App</title><p id="got">Signed in with the bank</p>`))
	}))
	t.Cleanup(app.Close)
	c, _, err := authz.CreateClient(e.ctx, e.st, authz.ClientSpec{Name: "Booksy", RedirectURIs: []string{app.URL + "/callback"}, Secret: true})
	must(t, err)

	q := e.authorizeParams(c.ID, oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier()))
	q.Set("redirect_uri", app.URL+"/callback")
	q.Set("response_mode", "form_post.jwt")
	ch := e.startAuthorize(q)
	v := e.decideFlowInStore(ch, e.user.ID, allScopes, false)

	bctx := browsertest.New(t, bin)
	browsertest.Steps(t, bctx,
		chromedp.Navigate(e.iss+"/oauth2/authorize/resume?"+url.Values{"login_challenge": {ch}, "login_verifier": {v}}.Encode()),
		chromedp.WaitVisible(`//p[@id="got"]`),
	)
	mu.Lock()
	defer mu.Unlock()
	if len(received) != 1 || received[0] == "" {
		t.Fatalf("the application received %q, want one signed response", received)
	}
	if cl := e.verifyJARM(received[0], c.ID); cl.Code == "" || cl.State != "state-1234567890" {
		t.Fatalf("response claims %+v", cl)
	}
}

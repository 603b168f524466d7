package consent

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/internal/testenv"
	"github.com/bankfeed/bankfeed/store"
)

// byLabel is the XPath of the control whose visible <label> reads text.
func byLabel(text string) string {
	return fmt.Sprintf(`//*[@id=//label[normalize-space()=%q]/@for]`, text)
}

// button is the XPath of the button named text.
func button(text string) string { return fmt.Sprintf(`//button[normalize-space()=%q]`, text) }

// TestBrowserSignInFirstSignInAndConsent drives Debian's chromium through the
// pages by their labels: sign in with the temporary password, first sign-in,
// Allow, and the redirect chain back to the vendor (which also proves the
// consent page's form-action lets the browser follow it).
func TestBrowserSignInFirstSignInAndConsent(t *testing.T) {
	bin := testenv.LookPath(t, testenv.Chromium, "chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
	en := newEnv(t)
	ctx := t.Context()
	en.user("bob", userOpts{role: en.roleFull.ID, temp: true})

	got := make(chan url.Values, 1)
	vendor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/callback" {
			http.NotFound(w, r)
			return
		}
		select {
		case got <- r.URL.Query():
		default:
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, "<!doctype html><title>Ledgerly</title><p>Connected</p>")
	}))
	t.Cleanup(vendor.Close)
	if _, err := en.st.UpdateClient(ctx, vendorClientID, func(c store.Client) (store.Client, error) {
		c.RedirectURIs = []string{vendor.URL + "/callback"}
		return c, nil
	}); err != nil {
		t.Fatal(err)
	}
	// A stand-in for authz's resume endpoint: it checks the verifier against
	// the flow and answers the vendor the way authz does.
	en.e.GET(pathResume, func(c echo.Context) error {
		f, err := en.st.GetAuthFlow(c.Request().Context(), c.QueryParam("login_challenge"))
		if err != nil || f.State != store.FlowDecided || !store.VerifyToken(f.VerifierHash, c.QueryParam("login_verifier")) {
			return c.String(http.StatusBadRequest, "bad verifier")
		}
		q := url.Values{"code": {"test-code"}}
		if f.Denied {
			q = url.Values{"error": {"access_denied"}}
		}
		return c.Redirect(http.StatusFound, vendor.URL+"/callback?"+q.Encode())
	})
	f := en.flow()

	actx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(bin),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	defer cancelBrowser()
	bctx, cancelTimeout := context.WithTimeout(bctx, 2*time.Minute)
	defer cancelTimeout()

	const newPassword = "Maple-Syrup-2026"
	steps := func(a ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, a...); err != nil {
			loc, _ := chromedp.Run(bctx, chromedp.Location())
			t.Fatalf("browser at %s: %v", loc, err)
		}
	}
	// Plain strings are searches: the XPath finds each control by its label.
	steps(
		chromedp.Navigate(en.ts.URL+pathLogin+"?login_challenge="+url.QueryEscape(f.ID)),
		chromedp.WaitVisible(byLabel("User ID")),
		chromedp.SendKeys(byLabel("User ID"), "bob"),
		chromedp.SendKeys(byLabel("Password"), tempPassword),
		chromedp.Click(button("Sign in")),
	)
	steps(
		chromedp.WaitVisible(byLabel("New password")),
	)
	screenshot(t, bctx, "first-sign-in.png")
	steps(
		chromedp.SendKeys(byLabel("New password"), newPassword),
		chromedp.SendKeys(byLabel("Confirm new password"), newPassword),
		chromedp.SetValue(byLabel("Security question"), "first_pet"),
		chromedp.SendKeys(byLabel("Answer"), "Rex"),
		chromedp.Click(button("Continue")),
	)
	steps(chromedp.WaitVisible(button("Allow")))
	screenshot(t, bctx, "consent.png")
	consentText, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		t.Fatal(err)
	}
	steps(chromedp.Click(button("Allow")))
	for _, want := range []string{"Connect " + vendorName, "It can never make or sign transactions.", "Operating account", "****4321"} {
		if !strings.Contains(consentText, want) {
			t.Errorf("consent page lacks %q:\n%s", want, consentText)
		}
	}
	select {
	case q := <-got:
		if q.Get("code") != "test-code" {
			t.Errorf("vendor callback query %v", q)
		}
	case <-time.After(30 * time.Second):
		loc, _ := chromedp.Run(bctx, chromedp.Location())
		body, _ := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("body")))
		t.Fatalf("the browser never reached the vendor; it is at %s:\n%s", loc, body)
	}
	fl := en.getFlow(f.ID)
	if fl.State != store.FlowDecided || fl.Denied || fl.UserID != "usr_bob" {
		t.Errorf("flow after the browser run: %+v", fl)
	}
	if u := en.getUser("usr_bob"); u.Status != store.UserActive || u.MustChangePassword || !store.VerifySecret(u.PasswordHash, newPassword) {
		t.Errorf("user after first sign-in: status=%s must=%v", u.Status, u.MustChangePassword)
	}
}

// screenshot saves the page to $CONSENT_SCREENSHOT_DIR (when set) for a
// person to look at the pages; it checks nothing.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("CONSENT_SCREENSHOT_DIR")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Logf("screenshot %s: %v", name, err)
	}
}

package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/bankfeed/bankfeed/internal/testenv"
	"github.com/bankfeed/bankfeed/store"
)

// TestBrowserSignsInToFirstPartyOnAnotherOrigin: a first-party client on
// another origin has no consent page, so in Chromium the first sign-in's
// "Continue" and a later "Sign in" lead, through the bank's redirects,
// straight to the client's callback — which the pages' CSP form-action
// must allow (Chromium applies it to the redirects after a post; issue 12
// §5). Each browser must land on the client's page with a code.
func TestBrowserSignsInToFirstPartyOnAnotherOrigin(t *testing.T) {
	bin := testenv.LookPath(t, testenv.Chromium, "chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
	b := startBank(t)
	m := seedBrowserBusiness(t, b)
	rp := newRelyingParty(t, b, "Branch tools")
	if _, err := b.st.UpdateClient(t.Context(), rp.conf.ClientID, func(c store.Client) (store.Client, error) {
		c.FirstParty = true
		return c, nil
	}); err != nil {
		t.Fatal(err)
	}
	run := func(bctx context.Context, a ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(bctx, 2*time.Minute)
		defer cancel()
		if err := chromedp.Do(sctx, a...); err != nil {
			dctx, cancel := context.WithTimeout(bctx, 10*time.Second)
			defer cancel()
			loc, _ := chromedp.Run(dctx, chromedp.Location())
			body, _ := chromedp.Run(dctx, chromedp.Text(chromedp.CSS("body")))
			t.Fatalf("browser at %s: %v\n%s", strings.Split(loc, "?")[0], err, body)
		}
	}
	landed := func(bctx context.Context) {
		t.Helper()
		got := rp.result(t)
		if got.err != nil || got.token == nil || got.token.AccessToken == "" {
			t.Fatalf("the client's callback: %v", got.err)
		}
		if loc, _ := chromedp.Run(bctx, chromedp.Location()); !strings.HasPrefix(loc, rp.URL+"/callback?") {
			t.Fatalf("browser ended at %s, not the client's callback", strings.Split(loc, "?")[0])
		}
	}

	first := newBrowser(t, bin)
	const newPassword = "Maple-Syrup-Ledger-2026"
	run(first,
		chromedp.Navigate(rp.URL+"/connect"),
		chromedp.WaitVisible(byLabel("User ID")),
		chromedp.SendKeys(byLabel("User ID"), m.login),
		chromedp.SendKeys(byLabel("Password"), m.tempPassword),
		chromedp.Click(button("Sign in")),
		chromedp.WaitVisible(byLabel("New password")),
		chromedp.SendKeys(byLabel("New password"), newPassword),
		chromedp.SendKeys(byLabel("Confirm new password"), newPassword),
		chromedp.SetValue(byLabel("Security question"), store.SecurityQuestions[1]),
		chromedp.SendKeys(byLabel("Answer"), "Rex"),
		chromedp.Click(button("Continue")),
		chromedp.WaitVisible(vendorResult),
	)
	landed(first)

	second := newBrowser(t, bin)
	run(second,
		chromedp.Navigate(rp.URL+"/connect"),
		chromedp.WaitVisible(byLabel("User ID")),
		chromedp.SendKeys(byLabel("User ID"), m.login),
		chromedp.SendKeys(byLabel("Password"), newPassword),
		chromedp.Click(button("Sign in")),
		chromedp.WaitVisible(vendorResult),
	)
	landed(second)
}

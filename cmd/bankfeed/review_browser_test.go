package main

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/bankfeed/bankfeed/internal/browsertest"
	"github.com/bankfeed/bankfeed/store"
)

// TestBrowserSignsInToFirstPartyOnAnotherOrigin: a first-party client on
// another origin has no consent page, so in Chromium the first sign-in's
// "Continue" and a later "Sign in" lead, through the bank's redirects,
// straight to the client's callback — which the pages' CSP form-action
// must allow (Chromium applies it to the redirects after a post; issue 12
// §5). Each browser must land on the client's page with a code.
func TestBrowserSignsInToFirstPartyOnAnotherOrigin(t *testing.T) {
	bin := browsertest.Chromium(t)
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
		browsertest.Steps(t, bctx, a...)
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

	first := browsertest.New(t, bin)
	const newPassword = "Maple-Syrup-Ledger-2026"
	run(first,
		chromedp.Navigate(rp.URL+"/connect"),
		chromedp.WaitVisible(browsertest.ByLabel("User ID")),
		chromedp.SendKeys(browsertest.ByLabel("User ID"), m.login),
		chromedp.SendKeys(browsertest.ByLabel("Password"), m.tempPassword),
		chromedp.Click(browsertest.Button("Sign in")),
		chromedp.WaitVisible(browsertest.ByLabel("New password")),
		chromedp.SendKeys(browsertest.ByLabel("New password"), newPassword),
		chromedp.SendKeys(browsertest.ByLabel("Confirm new password"), newPassword),
		chromedp.SetValue(browsertest.ByLabel("Security question"), store.SecurityQuestions[1]),
		chromedp.SendKeys(browsertest.ByLabel("Answer"), "Rex"),
		chromedp.Click(browsertest.Button("Continue")),
		chromedp.WaitVisible(vendorResult),
	)
	landed(first)

	second := browsertest.New(t, bin)
	run(second,
		chromedp.Navigate(rp.URL+"/connect"),
		chromedp.WaitVisible(browsertest.ByLabel("User ID")),
		chromedp.SendKeys(browsertest.ByLabel("User ID"), m.login),
		chromedp.SendKeys(browsertest.ByLabel("Password"), newPassword),
		chromedp.Click(browsertest.Button("Sign in")),
		chromedp.WaitVisible(vendorResult),
	)
	landed(second)
}

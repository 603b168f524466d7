package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/bankfeed/bankfeed/internal/browsertest"
	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/store/gormstore/gormtest"
)

// phoneWidth is the CSS width of a common phone (issue 14: 390 px).
const phoneWidth = 390

// startBrandedBank is startBank with a bank's brand (the widest header:
// a long name, a logo and the support contact) on the demo's settings.
func startBrandedBank(t *testing.T) *bank {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t)
	cfg.Issuer = "http://" + ln.Addr().String()
	cfg.DataAPI.RateLimitPerMinute = 0
	cfg.Demo = true // the demo bank's brand, logo included
	st := gormtest.OpenStore(t, "cmd_test")
	h, err := newHandler(t.Context(), cfg, deps{Store: st, Logger: slog.New(slog.DiscardHandler), Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(h)
	ts.Listener.Close()
	ts.Listener = ln
	ts.Start()
	t.Cleanup(ts.Close)
	return &bank{t: t, URL: cfg.Issuer, st: st}
}

// phoneCheck measures the page in a 390 px wide viewport: what is wider
// than the screen (document scrollWidth) and the touch targets (buttons,
// text fields, menus and the header's and footer's links) under 44 px.
const phoneCheck = `(() => {
  const small = [];
  for (const el of document.querySelectorAll('button, select, input:not([type=hidden]):not([type=checkbox]), header a, nav a, footer a')) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.height > 0 && r.height < 44) small.push(el.tagName.toLowerCase() + ' "' + (el.textContent || el.name || '').trim().slice(0, 30) + '" ' + Math.round(r.height) + 'px');
  }
  return JSON.stringify({width: document.documentElement.scrollWidth, small: small});
})()`

type phoneResult struct {
	Width int      `json:"width"`
	Small []string `json:"small"`
}

// TestBrowserPhoneWidth: at 390 px no page of the bank's scrolls sideways
// and every touch target is at least 44 px high (issue 14): sign-in
// (English and French), first sign-in, consent, connected applications
// (607–661 px wide before), an error page and each console page.
func TestBrowserPhoneWidth(t *testing.T) {
	bin := browsertest.Chromium(t)
	b := startBrandedBank(t)
	ctx := t.Context()
	m := seedBrowserBusiness(t, b)
	// An administrator of the same business, for the console's pages.
	const adminPassword = "Harbour-Lights-2026"
	hash, err := store.HashSecret(adminPassword)
	if err != nil {
		t.Fatal(err)
	}
	role, err := b.st.CreateJobRole(ctx, store.JobRole{BusinessGroupID: "bg_maple", Name: "Administrators", Grants: store.AdminGrants()})
	if err != nil {
		t.Fatal(err)
	}
	admin, err := b.st.CreateUser(ctx, store.User{BusinessGroupID: "bg_maple", LoginID: "maple.admin", DisplayName: "Anne-Marie Bélanger-Tremblay",
		Status: store.UserActive, PasswordHash: hash})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.st.PutAssignment(ctx, store.Assignment{BusinessGroupID: "bg_maple", UserID: admin.ID, JobRoleID: role.ID, AccountGroupID: "ag_books"}); err != nil {
		t.Fatal(err)
	}
	ledgerly := newRelyingParty(t, b, "Ledgerly Cloud Accounting for Small Business")

	axe := browsertest.LoadAxe(t)
	bctx := browsertest.New(t, bin)
	steps := func(a ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		browsertest.Steps(t, bctx, a...)
	}
	check := func(page string) {
		t.Helper()
		var got phoneResult
		browsertest.WaitLoaded(t, bctx)
		sctx, cancel := context.WithTimeout(bctx, time.Minute)
		defer cancel()
		out, err := chromedp.Run(sctx, chromedp.Evaluate[string](phoneCheck))
		if err == nil {
			err = json.Unmarshal([]byte(out), &got)
		}
		if err != nil {
			t.Fatalf("%s: %v", page, err)
		}
		browsertest.Screenshot(t, bctx, "phone-"+page+".png")
		if got.Width > phoneWidth {
			t.Errorf("%s is %d px wide at %d px: it scrolls sideways", page, got.Width, phoneWidth)
		}
		if len(got.Small) > 0 {
			t.Errorf("%s has touch targets under 44 px: %s", page, strings.Join(got.Small, "; "))
		}
		axe.Check(t, bctx, page)
	}
	steps(chromedp.EmulateViewport(phoneWidth, 844))

	steps(chromedp.Navigate(ledgerly.URL+"/connect"), chromedp.WaitVisible(browsertest.ByLabel("User ID")))
	check("sign-in")
	steps(chromedp.Navigate(b.URL+"/login?lang=fr"), chromedp.WaitVisible(browsertest.ByLabel("Code d'utilisateur")))
	check("sign-in-fr")
	steps(chromedp.Navigate(b.URL+"/login?lang=en"), chromedp.WaitVisible(browsertest.ByLabel("User ID")),
		chromedp.Navigate(ledgerly.URL+"/connect"), chromedp.WaitVisible(browsertest.ByLabel("User ID")),
		chromedp.SendKeys(browsertest.ByLabel("User ID"), m.login),
		chromedp.SendKeys(browsertest.ByLabel("Password"), m.tempPassword),
		chromedp.Click(browsertest.Button("Sign in")),
		chromedp.WaitVisible(browsertest.ByLabel("New password")))
	check("first-sign-in")
	const newPassword = "Maple-Syrup-Ledger-2026"
	steps(chromedp.SendKeys(browsertest.ByLabel("New password"), newPassword),
		chromedp.SendKeys(browsertest.ByLabel("Confirm new password"), newPassword),
		chromedp.SetValue(browsertest.ByLabel("Security question"), store.SecurityQuestions[1]),
		chromedp.SendKeys(browsertest.ByLabel("Answer"), "Rex"),
		chromedp.Click(browsertest.Button("Continue")),
		chromedp.WaitVisible(browsertest.Button("Allow")))
	check("consent")
	steps(chromedp.Click(browsertest.Button("Allow")), chromedp.WaitVisible(vendorResult),
		chromedp.Navigate(b.URL+"/account/connections"), chromedp.WaitVisible(`//button[normalize-space()="Disconnect"]`))
	check("connections")
	steps(chromedp.Navigate(b.URL+"/consent?login_challenge=unknown"), chromedp.WaitVisible(`//h1`))
	check("error")

	steps(chromedp.Navigate(b.URL+"/account/connections"), chromedp.WaitVisible(browsertest.Button("Sign out")),
		chromedp.Click(browsertest.Button("Sign out")), chromedp.WaitVisible(browsertest.ByLabel("User ID")),
		chromedp.SendKeys(browsertest.ByLabel("User ID"), "maple.admin"),
		chromedp.SendKeys(browsertest.ByLabel("Password"), adminPassword),
		chromedp.Click(browsertest.Button("Sign in")),
		chromedp.WaitVisible(`//nav[@class="menu"]`))
	check("console")
	for _, path := range []string{"users", "job-roles", "account-groups", "approvals", "notifications", "connections", "audit"} {
		steps(chromedp.Navigate(b.URL+"/business/"+path), chromedp.WaitVisible(`//main//h1`))
		check("console-" + path)
	}
	steps(chromedp.Navigate(b.URL+"/business/account-groups/ag_books"), chromedp.WaitVisible(`//main//h1`))
	check("console-account-group")
	steps(chromedp.Navigate(b.URL+"/business/job-roles/"+role.ID), chromedp.WaitVisible(`//main//h1`))
	check("console-job-role")
}

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/bankfeed/bankfeed/authz"
	"github.com/bankfeed/bankfeed/internal/browsertest"
	"github.com/bankfeed/bankfeed/store"
)

// TestBrowserConnectsVendor is a business's accounting software user
// connecting two vendors in Debian's Chromium, against the whole server as
// `bankfeed serve` builds it. Ledgerly, a relying party on httptest that
// works like examples/vendor (x/oauth2, code + PKCE S256, go-oidc), sends the
// browser to the bank; the user signs in with the temporary password,
// completes first sign-in and allows, each control found by its visible
// label. Chromium lands on Ledgerly's callback with a real code (which also
// proves the consent page's CSP form-action lets the browser follow the
// redirects to the vendor's origin); Ledgerly exchanges it, verifies the ID
// token and reads exactly the accounts of the user's account group. Then the
// same browser session denies a second vendor (access_denied at its
// callback), and the user disconnects Ledgerly on the connections page,
// which stops its access token.
func TestBrowserConnectsVendor(t *testing.T) {
	bin := browsertest.Chromium(t)
	b := startBank(t)
	ctx := t.Context()
	m := seedBrowserBusiness(t, b)

	ledgerly := newRelyingParty(t, b, "Ledgerly")
	tallybook := newRelyingParty(t, b, "Tallybook")

	bctx := browsertest.New(t, bin)
	// Each batch of steps has a deadline only so that a wait for a page
	// that never comes (the browser stopped elsewhere) ends in a failure
	// that says where the browser is.
	steps := func(a ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		browsertest.Steps(t, bctx, a...)
	}

	// Ledgerly's "Connect your bank" sends the browser to /oauth2/authorize,
	// which sends it on to the sign-in page.
	steps(
		chromedp.Navigate(ledgerly.URL+"/connect"),
		chromedp.WaitVisible(browsertest.ByLabel("User ID")),
	)
	browsertest.Screenshot(t, bctx, "sign-in.png")
	steps(
		chromedp.SendKeys(browsertest.ByLabel("User ID"), m.login),
		chromedp.SendKeys(browsertest.ByLabel("Password"), m.tempPassword),
		chromedp.Click(browsertest.Button("Sign in")),
		chromedp.WaitVisible(browsertest.ByLabel("New password")),
	)
	browsertest.Screenshot(t, bctx, "first-sign-in.png")
	const newPassword = "Maple-Syrup-Ledger-2026"
	steps(
		chromedp.SendKeys(browsertest.ByLabel("New password"), newPassword),
		chromedp.SendKeys(browsertest.ByLabel("Confirm new password"), newPassword),
		chromedp.SetValue(browsertest.ByLabel("Security question"), store.SecurityQuestions[1]),
		chromedp.SendKeys(browsertest.ByLabel("Answer"), "Rex"),
		chromedp.Click(browsertest.Button("Continue")),
		chromedp.WaitVisible(browsertest.Button("Allow")),
	)
	browsertest.Screenshot(t, bctx, "consent.png")
	consentText, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Connect Ledgerly", "It can never make or sign transactions.", "Operating account", "****4321", "US dollar account", "****7654"} {
		if !strings.Contains(consentText, want) {
			t.Errorf("consent page lacks %q:\n%s", want, consentText)
		}
	}
	if strings.Contains(consentText, "Payroll reserve") || strings.Contains(consentText, "Other operating") {
		t.Errorf("consent page lists an account outside the user's account group:\n%s", consentText)
	}
	steps(
		chromedp.Click(browsertest.Button("Allow")),
		chromedp.WaitVisible(vendorResult),
	)
	browsertest.Screenshot(t, bctx, "vendor-connected.png")

	got := ledgerly.result(t)
	if got.err != nil {
		t.Fatalf("Ledgerly's callback: %v", got.err)
	}
	if loc, _ := chromedp.Run(bctx, chromedp.Location()); !strings.HasPrefix(loc, ledgerly.URL+"/callback?") {
		t.Errorf("browser ended at %s, not Ledgerly's callback", strings.Split(loc, "?")[0])
	}
	if got.idToken.Subject != m.userID || got.idToken.Issuer != b.URL {
		t.Errorf("ID token sub %q iss %q, want %q %q", got.idToken.Subject, got.idToken.Issuer, m.userID, b.URL)
	}
	if !slices.Equal(got.accounts, m.groupAccounts) {
		t.Errorf("Ledgerly sees accounts %v, want exactly the account group's %v", got.accounts, m.groupAccounts)
	}
	at := got.token.AccessToken
	b.api(at, http.MethodGet, "/fdx/v6/accounts/"+m.outside, nil, http.StatusNotFound)
	u, err := b.st.GetUser(ctx, m.userID)
	if err != nil {
		t.Fatal(err)
	}
	if u.Status != store.UserActive || u.MustChangePassword || !store.VerifySecret(u.PasswordHash, newPassword) || u.SecurityQuestion != store.SecurityQuestions[1] {
		t.Errorf("user after first sign-in: status %s, must change %v, question %q", u.Status, u.MustChangePassword, u.SecurityQuestion)
	}

	// Tallybook, in the same browser: the sign-in session is reused, the
	// user denies, and Tallybook hears access_denied (with its state and
	// the bank as issuer, which the relying party checked).
	steps(
		chromedp.Navigate(tallybook.URL+"/connect"),
		chromedp.WaitVisible(browsertest.Button("Deny")),
	)
	if text, _ := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("h1"))); text != "Connect Tallybook" {
		t.Errorf("consent page for the second vendor is titled %q", text)
	}
	steps(
		chromedp.Click(browsertest.Button("Deny")),
		chromedp.WaitVisible(vendorResult),
	)
	denied := tallybook.result(t)
	if denied.err != nil || denied.query.Get("error") != "access_denied" || denied.query.Has("code") {
		t.Errorf("Tallybook's callback after Deny: error=%q, code given %v (%v)", denied.query.Get("error"), denied.query.Has("code"), denied.err)
	}

	// The connections page lists Ledgerly alone; disconnecting it stops
	// its access token at once.
	steps(
		chromedp.Navigate(b.URL+"/account/connections"),
		chromedp.WaitVisible(disconnect("Ledgerly")),
	)
	browsertest.Screenshot(t, bctx, "connections.png")
	if rows, _ := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("tbody"))); strings.Contains(rows, "Tallybook") {
		t.Errorf("the denied vendor is listed as connected:\n%s", rows)
	}
	b.api(at, http.MethodGet, "/fdx/v6/accounts", nil, http.StatusOK)
	steps(
		chromedp.Click(disconnect("Ledgerly")),
		chromedp.WaitVisible(`//p[@role="status"]`),
		chromedp.WaitNotPresent(disconnect("Ledgerly")),
	)
	b.api(at, http.MethodGet, "/fdx/v6/accounts", nil, http.StatusUnauthorized)
}

// browserBusiness is what seedBrowserBusiness made.
type browserBusiness struct {
	userID, login, tempPassword string
	groupAccounts               []string // sorted
	outside                     string   // in the business group, not in the account group
}

// seedBrowserBusiness onboards a business with three accounts, an account
// group of two, a read-only accounting software job role and an accounting
// software user awaiting first sign-in; another business has an account too.
func seedBrowserBusiness(t *testing.T, b *bank) browserBusiness {
	t.Helper()
	ctx := t.Context()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("seed: %v", err)
		}
	}
	account := func(bg, le, id, number, nickname, currency string) {
		_, err := b.st.CreateAccount(ctx, store.Account{
			ID: id, BusinessGroupID: bg, LegalEntityID: le, Number: number, Type: store.AccountChecking,
			ProductName: "Business Chequing", Nickname: nickname, Currency: currency,
			Status: store.AccountOpen, OpenedOn: store.MustDate("2025-01-15"),
		})
		must(err)
	}
	for _, g := range []struct{ bg, le, name string }{{"bg_maple", "le_maple", "Maple Holdings"}, {"bg_other", "le_other", "Other Group"}} {
		_, err := b.st.CreateBusinessGroup(ctx, store.BusinessGroup{ID: g.bg, Name: g.name, LegalName: g.name + " Inc."})
		must(err)
		_, err = b.st.CreateLegalEntity(ctx, store.LegalEntity{ID: g.le, BusinessGroupID: g.bg, Name: g.name + " Ops", LegalName: g.name + " Ops Inc."})
		must(err)
	}
	account("bg_maple", "le_maple", "acc_a1", "00012-003-1234321", "Operating account", "CAD")
	account("bg_maple", "le_maple", "acc_a2", "00012-003-1237654", "US dollar account", "USD")
	account("bg_maple", "le_maple", "acc_a3", "00012-003-9999888", "Payroll reserve", "CAD")
	account("bg_other", "le_other", "acc_b1", "00077-003-5555444", "Other operating", "CAD")
	group, err := b.st.CreateAccountGroup(ctx, store.AccountGroup{ID: "ag_books", BusinessGroupID: "bg_maple", Name: "Books", AccountIDs: []string{"acc_a1", "acc_a2"}})
	must(err)
	view := store.Rights(store.RightView)
	role, err := b.st.CreateJobRole(ctx, store.JobRole{ID: "jr_books", BusinessGroupID: "bg_maple", Name: "Accounting software — read only", Grants: store.Grants{
		{Permission: store.PermAccountSummary, Rights: view}, {Permission: store.PermManageStatements, Rights: view}}})
	must(err)
	const temp = "Temp0rary-Pass-77"
	hash, err := store.HashSecret(temp)
	must(err)
	u, err := b.st.CreateUser(ctx, store.User{
		ID: "usr_ledger", BusinessGroupID: "bg_maple", LoginID: "maple.ledger", DisplayName: "Maple ledger sync",
		AccountingSoftware: true, Status: store.UserAwaitingSignIn, MustChangePassword: true, PasswordHash: hash,
	})
	must(err)
	_, err = b.st.PutAssignment(ctx, store.Assignment{ID: store.NewID("asg"), BusinessGroupID: "bg_maple", UserID: u.ID, JobRoleID: role.ID, AccountGroupID: group.ID})
	must(err)
	return browserBusiness{userID: u.ID, login: u.LoginID, tempPassword: temp, groupAccounts: []string{"acc_a1", "acc_a2"}, outside: "acc_a3"}
}

// relyingParty is a vendor's web app on httptest, registered with the bank
// as `bankfeed clients create --secret` does. Like examples/vendor it starts
// at /connect and finishes at /callback, where it checks the issuer and
// state, exchanges the code with the PKCE verifier, verifies the ID token
// and its nonce, and lists the accounts it may read.
type relyingParty struct {
	URL      string
	issuer   string
	conf     oauth2.Config
	verifier *oidc.IDTokenVerifier
	results  chan rpResult

	mu      sync.Mutex
	pending map[string]pkce // state → its verifier and nonce
}

type pkce struct{ verifier, nonce string }

// rpResult is what the relying party made of one callback.
type rpResult struct {
	query    url.Values
	err      error // what the relying party found wrong
	token    *oauth2.Token
	idToken  *oidc.IDToken
	accounts []string // sorted
}

func newRelyingParty(t *testing.T, b *bank, name string) *relyingParty {
	t.Helper()
	// The listener comes first: the redirect URI is registered before the
	// server starts, so its goroutines see the finished relying party.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rp := &relyingParty{URL: "http://" + ln.Addr().String(), issuer: b.URL, results: make(chan rpResult, 4), pending: map[string]pkce{}}
	id, secret := b.client(authz.ClientSpec{Name: name, RedirectURIs: []string{rp.URL + "/callback"}})
	provider, err := oidc.NewProvider(t.Context(), b.URL)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	rp.conf = oauth2.Config{ClientID: id, ClientSecret: secret, Endpoint: provider.Endpoint(), RedirectURL: rp.URL + "/callback",
		Scopes: []string{oidc.ScopeOpenID, "profile", oidc.ScopeOfflineAccess, "accounts.read", "statements.read"}}
	rp.verifier = provider.Verifier(&oidc.Config{ClientID: id})

	mux := http.NewServeMux()
	mux.HandleFunc("GET /connect", rp.connect)
	mux.HandleFunc("GET /callback", func(w http.ResponseWriter, r *http.Request) {
		res := rp.callback(r)
		select {
		case rp.results <- res: // before the page, so the test has it once the page shows
		default:
			http.Error(w, "too many callbacks", http.StatusInternalServerError)
			return
		}
		outcome := "Connected"
		if res.err != nil || res.query.Has("error") {
			outcome = fmt.Sprintf("Not connected: %s %v", res.query.Get("error"), res.err)
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!doctype html><title>%s</title><h1 id=\"vendor-result\">%s</h1>", html.EscapeString(name), html.EscapeString(outcome))
	})
	ts := httptest.NewUnstartedServer(mux)
	ts.Listener.Close()
	ts.Listener = ln
	ts.Start()
	t.Cleanup(ts.Close)
	return rp
}

func (rp *relyingParty) connect(w http.ResponseWriter, r *http.Request) {
	state, p := oauth2.GenerateVerifier(), pkce{verifier: oauth2.GenerateVerifier(), nonce: oauth2.GenerateVerifier()}
	rp.mu.Lock()
	rp.pending[state] = p
	rp.mu.Unlock()
	http.Redirect(w, r, rp.conf.AuthCodeURL(state, oauth2.S256ChallengeOption(p.verifier), oidc.Nonce(p.nonce)), http.StatusSeeOther)
}

func (rp *relyingParty) callback(r *http.Request) rpResult {
	ctx := r.Context()
	q := r.URL.Query()
	res := rpResult{query: q}
	if q.Get("iss") != rp.issuer { // RFC 9207: the bank always says who it is
		res.err = fmt.Errorf("iss %q, want %q", q.Get("iss"), rp.issuer)
		return res
	}
	rp.mu.Lock()
	p, ok := rp.pending[q.Get("state")]
	delete(rp.pending, q.Get("state"))
	rp.mu.Unlock()
	if !ok {
		res.err = errors.New("unknown or reused state")
		return res
	}
	if q.Has("error") {
		return res
	}
	tok, err := rp.conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(p.verifier))
	if err != nil {
		res.err = fmt.Errorf("exchange: %w", err)
		return res
	}
	res.token = tok
	raw, _ := tok.Extra("id_token").(string)
	if res.idToken, err = rp.verifier.Verify(ctx, raw); err != nil {
		res.err = fmt.Errorf("ID token: %w", err)
		return res
	}
	if res.idToken.Nonce != p.nonce {
		res.err = errors.New("ID token nonce does not match")
		return res
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rp.issuer+"/fdx/v6/accounts", nil)
	if err != nil {
		res.err = err
		return res
	}
	resp, err := rp.conf.Client(ctx, tok).Do(req)
	if err != nil {
		res.err = fmt.Errorf("accounts: %w", err)
		return res
	}
	defer resp.Body.Close()
	var list struct {
		Accounts []struct {
			AccountID string `json:"accountId"`
		} `json:"accounts"`
	}
	if resp.StatusCode != http.StatusOK {
		res.err = fmt.Errorf("accounts: %s", resp.Status)
		return res
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		res.err = fmt.Errorf("accounts: %w", err)
		return res
	}
	for _, a := range list.Accounts {
		res.accounts = append(res.accounts, a.AccountID)
	}
	slices.Sort(res.accounts)
	return res
}

// result is the relying party's one callback, which it recorded before
// answering the browser (so it is there once the browser shows its page).
func (rp *relyingParty) result(t *testing.T) rpResult {
	t.Helper()
	select {
	case res := <-rp.results:
		return res
	default:
		t.Fatal("the vendor's page is shown but its callback recorded nothing")
		return rpResult{}
	}
}

// vendorResult is the relying party's page after its callback.
const vendorResult = `//*[@id="vendor-result"]`

// disconnect is the XPath of the Disconnect button in vendor's row.
func disconnect(vendor string) string {
	return fmt.Sprintf(`//tr[td[1][normalize-space()=%q]]//button[normalize-space()="Disconnect"]`, vendor)
}

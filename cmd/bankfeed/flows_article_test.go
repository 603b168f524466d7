package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/bankfeed/bankfeed/authz"
	"github.com/bankfeed/bankfeed/internal/apihttp/openapitest"
	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/store/gormstore"
	"github.com/bankfeed/bankfeed/store/gormstore/gormtest"
)

// bank is the whole bankfeed wiring (newHandler) on a real store (SQLite,
// or PostgreSQL when BANKFEED_TEST_POSTGRES_DSN is set), served by httptest
// with the issuer set to its own URL.
type bank struct {
	t   *testing.T
	URL string
	st  *gormstore.Store
}

func startBank(t *testing.T) *bank {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t)
	cfg.Issuer = "http://" + ln.Addr().String()
	cfg.DataAPI.RateLimitPerMinute = 0
	st := gormtest.OpenStore(t, "cmd_test")
	h, err := newHandler(t.Context(), cfg, deps{Store: st, Logger: slog.New(slog.DiscardHandler), Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	// /admin/v1 and /ops/v1 exchanges are checked against their OpenAPI documents.
	ts := httptest.NewUnstartedServer(openapitest.Wrap(t, h))
	ts.Listener.Close()
	ts.Listener = ln
	ts.Start()
	t.Cleanup(ts.Close)
	return &bank{t: t, URL: cfg.Issuer, st: st}
}

// client registers an OAuth client the way `bankfeed clients create` does.
func (b *bank) client(spec authz.ClientSpec) (id, secret string) {
	b.t.Helper()
	spec.Secret = true
	c, secret, err := authz.CreateClient(b.t.Context(), b.st, spec)
	if err != nil {
		b.t.Fatalf("create client %s: %v", spec.Name, err)
	}
	return c.ID, secret
}

// browser is a user agent with cookies that stops at any redirect leaving
// the bank (to a client's redirect URI).
func (b *bank) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: time.Minute, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if !strings.HasPrefix(req.URL.String(), b.URL) || len(via) > 10 {
			return http.ErrUseLastResponse
		}
		return nil
	}}
}

var (
	csrfField  = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	formAction = regexp.MustCompile(`<form method="post" action="([^"]+)"`)
)

// authorize drives the bank's pages by their fields from authURL until the
// browser is sent back to the client, signing in, completing first sign-in
// when asked, and allowing on the consent page. It returns the callback URL.
// Allow answers with that redirect itself: serve finishes the flow in the
// consent form's request (consent.Config.Resume), with no stop at the
// resume endpoint.
func (b *bank) authorize(br *http.Client, authURL, login, password, newPassword string) *url.URL {
	b.t.Helper()
	res, body := b.do(br, http.MethodGet, authURL, nil)
	for range 6 {
		if res.StatusCode == http.StatusSeeOther || res.StatusCode == http.StatusFound {
			loc, err := res.Location()
			if err != nil {
				b.t.Fatal(err)
			}
			if res.Request.URL.Path != "/consent" {
				b.t.Fatalf("the browser left the bank from %s %s, want the consent page's answer", res.Request.Method, res.Request.URL.Path)
			}
			return loc
		}
		if res.StatusCode != http.StatusOK {
			b.t.Fatalf("%s: %d\n%s", res.Request.URL, res.StatusCode, body)
		}
		csrf, action := find(b.t, csrfField, body), find(b.t, formAction, lastForm(body))
		action = strings.ReplaceAll(action, "&amp;", "&")
		form := url.Values{"csrf": {csrf}}
		switch {
		case strings.Contains(body, ">User ID<") && strings.Contains(body, ">Sign in<"):
			form.Set("user_id", login)
			form.Set("password", password)
		case strings.Contains(body, ">New password<"):
			form.Set("new_password", newPassword)
			form.Set("confirm_password", newPassword)
			form.Set("security_question", store.SecurityQuestions[0])
			form.Set("answer", "Lakeview Elementary")
			password = newPassword
		case strings.Contains(body, ">Allow<"):
			form.Set("decision", "allow")
		default:
			b.t.Fatalf("unexpected page %s:\n%s", res.Request.URL, body)
		}
		res, body = b.do(br, http.MethodPost, b.URL+action, strings.NewReader(form.Encode()))
	}
	b.t.Fatal("too many pages")
	return nil
}

func lastForm(body string) string {
	if i := strings.LastIndex(body, `<form method="post"`); i >= 0 {
		return body[i:]
	}
	return body
}

func find(t *testing.T, re *regexp.Regexp, s string) string {
	t.Helper()
	m := re.FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("no %s in page:\n%s", re, s)
	}
	return m[1]
}

func (b *bank) do(c *http.Client, method, u string, body io.Reader) (*http.Response, string) {
	b.t.Helper()
	req, err := http.NewRequestWithContext(b.t.Context(), method, u, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, u, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return res, string(data)
}

// api calls a JSON API with a bearer token and decodes the answer into a map.
func (b *bank) api(token, method, path string, in any, want int) map[string]any {
	b.t.Helper()
	var body io.Reader
	if in != nil {
		data, _ := json.Marshal(in)
		body = bytes.NewReader(data)
	}
	req, _ := http.NewRequestWithContext(b.t.Context(), method, b.URL+path, body)
	req.Header.Set("Authorization", "Bearer "+token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		b.t.Fatalf("%s %s = %d, want %d: %s", method, path, res.StatusCode, want, data)
	}
	out := map[string]any{}
	if len(data) > 0 && strings.Contains(res.Header.Get("Content-Type"), "json") {
		if err := json.Unmarshal(data, &out); err != nil {
			b.t.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
	return out
}

// userToken signs an ordinary user in to the bank's own online-banking
// client (no consent screen) and returns an admin-scoped access token.
func (b *bank) userToken(clientID, secret, redirect, login, password string) string {
	b.t.Helper()
	return b.firstSignInToken(clientID, secret, redirect, login, password, "")
}

// firstSignInToken is userToken for a user signing in with a temporary
// password: the first sign-in replaces it with newPassword.
func (b *bank) firstSignInToken(clientID, secret, redirect, login, password, newPassword string) string {
	b.t.Helper()
	conf := oauth2.Config{ClientID: clientID, ClientSecret: secret, RedirectURL: redirect, Scopes: []string{"openid", "admin"},
		Endpoint: oauth2.Endpoint{AuthURL: b.URL + "/oauth2/authorize", TokenURL: b.URL + "/oauth2/token", AuthStyle: oauth2.AuthStyleInHeader}}
	v := oauth2.GenerateVerifier()
	cb := b.authorize(b.browser(), conf.AuthCodeURL("online-banking-state", oauth2.S256ChallengeOption(v)), login, password, newPassword)
	tok, err := conf.Exchange(b.t.Context(), cb.Query().Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		b.t.Fatalf("admin token for %s: %v (callback %s)", login, err, cb)
	}
	if !strings.Contains(fmt.Sprint(tok.Extra("scope")), "admin") {
		b.t.Fatalf("admin scope not granted: %v", tok.Extra("scope"))
	}
	return tok.AccessToken
}

func accountIDs(list map[string]any) []string {
	var ids []string
	accts, _ := list["accounts"].([]any)
	for _, a := range accts {
		ids = append(ids, a.(map[string]any)["accountId"].(string))
	}
	slices.Sort(ids)
	return ids
}

// TestArticleEndToEnd is the help article with OAuth instead of a shared
// password, through every real part: the operator feeds accounts with a
// client_credentials token; administrator A (signed in on the bank's pages
// with the online-banking client) makes every request and B approves; the
// accounting software user completes first sign-in and consents to a vendor
// driven by x/oauth2 and go-oidc; the vendor then sees exactly the account
// group, and each later administrator change shows on the very next request.
func TestArticleEndToEnd(t *testing.T) {
	b := startBank(t)
	ctx := t.Context()

	// The bank's systems and clients.
	opsID, opsSecret := b.client(authz.ClientSpec{Name: "Core banking feed", FirstParty: true})
	obID, obSecret := b.client(authz.ClientSpec{Name: "Online banking", FirstParty: true, RedirectURIs: []string{"http://127.0.0.1:7001/cb"}})
	vendorID, vendorSecret := b.client(authz.ClientSpec{Name: "Ledgerly", RedirectURIs: []string{"http://127.0.0.1:9999/callback"}})

	ops := clientcredentials.Config{ClientID: opsID, ClientSecret: opsSecret, TokenURL: b.URL + "/oauth2/token", Scopes: []string{"operator"}}
	opTok, err := ops.Token(ctx)
	if err != nil {
		t.Fatalf("operator token: %v", err)
	}
	op := opTok.AccessToken
	// A vendor can never use client_credentials.
	if _, err := (&clientcredentials.Config{ClientID: vendorID, ClientSecret: vendorSecret, TokenURL: b.URL + "/oauth2/token", Scopes: []string{"operator"}}).Token(ctx); err == nil {
		t.Fatal("vendor got a client_credentials token")
	}

	// The operator onboards the business through /ops/v1 (issue 10 §3): the
	// business group, which comes with its built-in Administrator job role,
	// a legal entity with its service agreement, three accounts, and the
	// business's first two administrators, each answered with a temporary
	// password once.
	bg := b.api(op, http.MethodPost, "/ops/v1/business-groups", map[string]any{"id": "bg_maple", "name": "Maple Leaf Manufacturing", "legalName": "Maple Leaf Manufacturing Inc."}, http.StatusCreated)["id"].(string)
	le := b.api(op, http.MethodPost, "/ops/v1/legal-entities", map[string]any{"businessGroupId": bg, "name": "Maple Ops", "legalName": "Maple Ops Inc."}, http.StatusCreated)["id"].(string)
	b.api(op, http.MethodPost, "/ops/v1/service-agreements", map[string]any{"legalEntityId": le, "number": "SA-2026-000123"}, http.StatusCreated)
	var accts []string
	for i, typ := range []string{"CHECKING", "SAVINGS", "CHECKING"} {
		accts = append(accts, b.api(op, http.MethodPost, "/ops/v1/accounts", map[string]any{
			"legalEntityId": le, "number": fmt.Sprintf("00012-003-10000%02d", i), "type": typ, "currency": "CAD", "openedOn": "2026-01-05",
		}, http.StatusCreated)["id"].(string))
	}
	slices.Sort(accts)
	temps := map[string]string{}
	for _, a := range []struct{ login, name string }{{"admin-a", "Olivia Bennett"}, {"admin-b", "Raj Patel"}} {
		added := b.api(op, http.MethodPost, "/ops/v1/business-groups/"+bg+"/administrators",
			map[string]any{"loginId": a.login, "displayName": a.name, "email": a.login + "@maple.example"}, http.StatusCreated)
		user, _ := added["user"].(map[string]any)
		if temps[a.login], _ = added["temporaryPassword"].(string); temps[a.login] == "" || user["status"] != "AWAITING_FIRST_SIGN_IN" {
			t.Fatalf("administrator %s: %v", a.login, added)
		}
	}
	// Each administrator's first sign-in replaces the temporary password;
	// from then on the business runs its own maker-checker.
	passwords := map[string]string{"admin-a": "Harbour-Lights-2026", "admin-b": "Maple-Syrup-Ledger-77"}
	A := b.firstSignInToken(obID, obSecret, "http://127.0.0.1:7001/cb", "admin-a", temps["admin-a"], passwords["admin-a"])
	B := b.firstSignInToken(obID, obSecret, "http://127.0.0.1:7001/cb", "admin-b", temps["admin-b"], passwords["admin-b"])
	for login, pw := range passwords {
		u, err := b.st.GetUserByLogin(ctx, login)
		if err != nil || u.Status != store.UserActive || u.MustChangePassword || !store.VerifySecret(u.PasswordHash, pw) || store.VerifySecret(u.PasswordHash, temps[login]) {
			t.Fatalf("%s after first sign-in: %+v (%v)", login, u, err)
		}
	}
	approve := func(req string) map[string]any {
		t.Helper()
		return b.api(B, http.MethodPost, "/admin/v1/approvals/"+req+"/approve", map[string]any{}, http.StatusOK)
	}

	// Step 2: A creates the accounting software user; pending until B approves.
	req := b.api(A, http.MethodPost, "/admin/v1/users", map[string]any{"loginId": "ledgerly-sync", "displayName": "Ledgerly sync", "accountingSoftware": true}, http.StatusAccepted)["id"].(string)
	notes := b.api(A, http.MethodGet, "/admin/v1/notifications", nil, http.StatusOK)
	if !strings.Contains(fmt.Sprint(notes), "pending approval") {
		t.Fatalf("A not told the request is pending approval: %v", notes)
	}
	temp, _ := approve(req)["temporaryPassword"].(string)
	if temp == "" {
		t.Fatal("no temporary password on approval")
	}
	asUser, err := b.st.GetUserByLogin(ctx, "ledgerly-sync")
	if err != nil {
		t.Fatal(err)
	}

	// Steps 3-9: the read-only job role, an account group with two of the
	// three accounts, and the assignment — each approved by B.
	roleReq := b.api(A, http.MethodPost, "/admin/v1/job-roles", map[string]any{"name": "Accounting software — read only", "accountingSoftware": true,
		"grants": []map[string]any{{"permission": "account_summary", "rights": []string{"View"}}, {"permission": "manage_statements", "rights": []string{"View"}}}}, http.StatusAccepted)["id"].(string)
	roleID := approve(roleReq)["result"].(map[string]any)["id"].(string)
	groupReq := b.api(A, http.MethodPost, "/admin/v1/account-groups", map[string]any{"name": "Books", "accountIds": accts[:2]}, http.StatusAccepted)["id"].(string)
	groupID := approve(groupReq)["result"].(map[string]any)["id"].(string)
	asgReq := b.api(A, http.MethodPost, "/admin/v1/assignments", map[string]any{"userId": asUser.ID, "jobRoleId": roleID, "accountGroupId": groupID}, http.StatusAccepted)["id"].(string)
	approve(asgReq)

	// Steps 10-11: the vendor sends the user to the bank; first sign-in,
	// consent, and tokens — the vendor never sees a password.
	provider, err := oidc.NewProvider(ctx, b.URL)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	vendor := oauth2.Config{ClientID: vendorID, ClientSecret: vendorSecret, Endpoint: provider.Endpoint(), RedirectURL: "http://127.0.0.1:9999/callback",
		Scopes: []string{oidc.ScopeOpenID, oidc.ScopeOfflineAccess, "accounts.read", "statements.read"}}
	v := oauth2.GenerateVerifier()
	cb := b.authorize(b.browser(), vendor.AuthCodeURL("vendor-state-123", oauth2.S256ChallengeOption(v)), "ledgerly-sync", temp, "Maple-Books-Sync-2026")
	if cb.Query().Get("iss") != b.URL || cb.Query().Get("state") != "vendor-state-123" {
		t.Fatalf("callback %s lacks iss or state", cb)
	}
	tok, err := vendor.Exchange(ctx, cb.Query().Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	idt, err := provider.Verifier(&oidc.Config{ClientID: vendorID}).Verify(ctx, tok.Extra("id_token").(string))
	if err != nil || idt.Subject != asUser.ID {
		t.Fatalf("ID token: %v (sub %v)", err, idt)
	}
	at := tok.AccessToken

	// The vendor sees exactly the account group.
	if got := accountIDs(b.api(at, http.MethodGet, "/fdx/v6/accounts", nil, http.StatusOK)); !slices.Equal(got, accts[:2]) {
		t.Fatalf("vendor sees %v, want %v", got, accts[:2])
	}
	b.api(at, http.MethodGet, "/fdx/v6/accounts/"+accts[2], nil, http.StatusNotFound)
	// The admin API refuses the accounting software user's token, and a vendor
	// token never reaches the operator API.
	b.api(at, http.MethodGet, "/admin/v1/users", nil, http.StatusForbidden)
	b.api(at, http.MethodGet, "/ops/v1/business-groups", nil, http.StatusForbidden)

	// The operator opens a new account: the vendor does not see it.
	newAcct := b.api(op, http.MethodPost, "/ops/v1/accounts", map[string]any{"legalEntityId": le, "number": "00012-003-1000099", "type": "SAVINGS", "currency": "USD", "openedOn": "2026-11-02"}, http.StatusCreated)["id"].(string)
	if got := accountIDs(b.api(at, http.MethodGet, "/fdx/v6/accounts", nil, http.StatusOK)); slices.Contains(got, newAcct) {
		t.Fatal("a new account is visible before anyone added it")
	}
	// A adds it: still invisible until B approves, visible on the next request after.
	addReq := b.api(A, http.MethodPost, "/admin/v1/account-groups/"+groupID+"/accounts", map[string]any{"accountId": newAcct}, http.StatusAccepted)["id"].(string)
	b.api(at, http.MethodGet, "/fdx/v6/accounts/"+newAcct, nil, http.StatusNotFound)
	approve(addReq)
	b.api(at, http.MethodGet, "/fdx/v6/accounts/"+newAcct, nil, http.StatusOK)
	// A removes an account: gone on the next request.
	b.api(at, http.MethodGet, "/fdx/v6/accounts/"+accts[0]+"/transactions", nil, http.StatusOK)
	rmReq := b.api(A, http.MethodDelete, "/admin/v1/account-groups/"+groupID+"/accounts/"+accts[0], nil, http.StatusAccepted)["id"].(string)
	approve(rmReq)
	b.api(at, http.MethodGet, "/fdx/v6/accounts/"+accts[0]+"/transactions", nil, http.StatusNotFound)

	// A refresh still works (the nightly sync), then the administrator revokes
	// the connection: the access token and the refresh token stop at once.
	ts := vendor.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken})
	fresh, err := ts.Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	conns := b.api(A, http.MethodGet, "/admin/v1/connections?active=true", nil, http.StatusOK)["items"].([]any)
	if len(conns) != 1 {
		t.Fatalf("connections = %v", conns)
	}
	cid := conns[0].(map[string]any)["id"].(string)
	b.api(A, http.MethodDelete, "/admin/v1/connections/"+cid, nil, http.StatusNoContent)
	b.api(fresh.AccessToken, http.MethodGet, "/fdx/v6/accounts", nil, http.StatusUnauthorized)
	_, err = vendor.TokenSource(ctx, &oauth2.Token{RefreshToken: fresh.RefreshToken}).Token()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("refresh after revocation: %v", err)
	}
}

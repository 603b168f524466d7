package consent

import (
	"context"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/store/gormstore"
	"github.com/bankfeed/bankfeed/store/gormstore/gormtest"
)

// Passwords of the seeded users; hashes are computed once per test binary
// because argon2id is deliberately slow (more so under -race).
const (
	goodPassword = "Correct-Horse-9-Battery"
	tempPassword = "Temp0rary-Pass-77"
)

var (
	goodHash = sync.OnceValue(func() string { return mustHash(goodPassword) })
	tempHash = sync.OnceValue(func() string { return mustHash(tempPassword) })
)

func mustHash(pw string) string {
	h, err := store.HashSecret(pw)
	if err != nil {
		panic(err)
	}
	return h
}

// clock is a settable clock shared by the store and the pages.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a running server on a fresh SQLite database with two business
// groups, their accounts and account groups, three job roles and a vendor.
type env struct {
	t     *testing.T
	st    *gormstore.Store
	h     *Handler
	e     *echo.Echo
	ts    *httptest.Server
	clock *clock

	bg, bg2                      store.BusinessGroup
	a1, a2, a3, b1               store.Account // a1, a2 in group g1; a3 only in the business group; b1 another group's
	g1, g2                       store.AccountGroup
	roleFull, roleAccts, roleOps store.JobRole
	client                       store.Client
}

const (
	vendorClientID = "vendor-ledgerly"
	vendorName     = "Ledgerly Books"
)

func newEnv(t *testing.T, opts ...func(*Config)) *env {
	t.Helper()
	ctx := t.Context()
	clk := &clock{t: time.Date(2026, 3, 2, 15, 4, 5, 0, time.UTC)}
	st := gormtest.Open(t, "consent_test", gormstore.Config{Now: clk.Now})
	e := echo.New()
	ts := httptest.NewServer(e)
	t.Cleanup(ts.Close)
	cfg := Config{
		Store: st, Issuer: ts.URL, Now: clk.Now,
		Logger:          slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})),
		LockoutDuration: 15 * time.Minute, SessionLifespan: 30 * time.Minute,
	}
	for _, o := range opts {
		o(&cfg)
	}
	h, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.Mount(e)
	en := &env{t: t, st: st, h: h, e: e, ts: ts, clock: clk}
	en.seed(ctx)
	return en
}

// testWriter sends the handler's log to t.Log (shown on failure).
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func (en *env) seed(ctx context.Context) {
	t := en.t
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("seed: %v", err)
		}
	}
	var err error
	en.bg, err = en.st.CreateBusinessGroup(ctx, store.BusinessGroup{ID: "bg_maple", Name: "Maple Holdings", LegalName: "Maple Holdings Inc."})
	must(err)
	en.bg2, err = en.st.CreateBusinessGroup(ctx, store.BusinessGroup{ID: "bg_other", Name: "Other Group", LegalName: "Other Group Ltd."})
	must(err)
	le, err := en.st.CreateLegalEntity(ctx, store.LegalEntity{ID: "le_maple", BusinessGroupID: en.bg.ID, Name: "Maple Ops", LegalName: "Maple Ops Inc."})
	must(err)
	le2, err := en.st.CreateLegalEntity(ctx, store.LegalEntity{ID: "le_other", BusinessGroupID: en.bg2.ID, Name: "Other Ops", LegalName: "Other Ops Ltd."})
	must(err)
	acct := func(id string, le store.LegalEntity, number, nickname, product, currency string) store.Account {
		a, err := en.st.CreateAccount(ctx, store.Account{
			ID: id, BusinessGroupID: le.BusinessGroupID, LegalEntityID: le.ID, Number: number,
			Type: store.AccountChecking, ProductName: product, Nickname: nickname, Currency: currency,
			Status: store.AccountOpen, OpenedOn: store.MustDate("2024-01-15"),
		})
		must(err)
		return a
	}
	en.a1 = acct("acc_a1", le, "00012-003-1234567", "Operating account", "Business Chequing", "CAD")
	en.a2 = acct("acc_a2", le, "00012-003-7654321", "", "US Dollar Business Account", "USD")
	en.a3 = acct("acc_a3", le, "00012-003-9999888", "Payroll reserve", "Business Savings", "CAD")
	en.b1 = acct("acc_b1", le2, "00077-003-5555444", "Other operating", "Business Chequing", "CAD")
	en.g1, err = en.st.CreateAccountGroup(ctx, store.AccountGroup{ID: "ag_feed", BusinessGroupID: en.bg.ID, Name: "Accounting feed", AccountIDs: []string{en.a1.ID, en.a2.ID}})
	must(err)
	en.g2, err = en.st.CreateAccountGroup(ctx, store.AccountGroup{ID: "ag_other", BusinessGroupID: en.bg2.ID, Name: "Other feed", AccountIDs: []string{en.b1.ID}})
	must(err)
	view := store.Rights(store.RightView)
	en.roleFull, err = en.st.CreateJobRole(ctx, store.JobRole{ID: "jr_full", BusinessGroupID: en.bg.ID, Name: "Accounting software", Grants: store.Grants{
		{Permission: store.PermAccountSummary, Rights: view}, {Permission: store.PermManageStatements, Rights: view}}})
	must(err)
	en.roleAccts, err = en.st.CreateJobRole(ctx, store.JobRole{ID: "jr_accts", BusinessGroupID: en.bg.ID, Name: "Balances only", Grants: store.Grants{
		{Permission: store.PermAccountSummary, Rights: view}}})
	must(err)
	en.roleOps, err = en.st.CreateJobRole(ctx, store.JobRole{ID: "jr_ops", BusinessGroupID: en.bg.ID, Name: "Treasury", Grants: store.Grants{
		{Permission: store.PermAccountSummary, Rights: view}, {Permission: store.PermManageStatements, Rights: view},
		{Permission: store.PermTransfers, Rights: store.Rights(store.RightView, store.RightCreate, store.RightExecute)}}})
	must(err)
	en.client, err = en.st.CreateClient(ctx, store.Client{
		ID: vendorClientID, Name: vendorName, SecretHash: store.HashToken("vendor-secret"),
		RedirectURIs:            []string{"http://127.0.0.1:9999/callback"},
		GrantTypes:              []string{"authorization_code", "refresh_token"},
		ResponseTypes:           []string{"code"},
		Scopes:                  []string{"openid", "profile", "offline_access", "accounts.read", "statements.read"},
		TokenEndpointAuthMethod: "client_secret_basic",
		LogoURI:                 "https://vendor.example/logo.png",
	})
	must(err)
}

// userOpts describes a seeded user.
type userOpts struct {
	ordinary bool // not an accounting software user
	status   store.UserStatus
	temp     bool   // awaiting first sign-in with tempPassword
	role     string // job role ID; "" = no assignment
	group    string // account group ID (default g1)
}

func (en *env) user(login string, o userOpts) store.User {
	t := en.t
	t.Helper()
	ctx := t.Context()
	u := store.User{
		ID: "usr_" + login, BusinessGroupID: en.bg.ID, LoginID: login, DisplayName: strings.ToUpper(login[:1]) + login[1:],
		Email: login + "@maple.example", AccountingSoftware: !o.ordinary, Status: store.UserActive, PasswordHash: goodHash(),
	}
	if o.status != "" {
		u.Status = o.status
	}
	if o.temp {
		u.Status = store.UserAwaitingSignIn
		u.MustChangePassword = true
		u.PasswordHash = tempHash()
	}
	u, err := en.st.CreateUser(ctx, u)
	if err != nil {
		t.Fatalf("create user %s: %v", login, err)
	}
	if o.role != "" {
		g := o.group
		if g == "" {
			g = en.g1.ID
		}
		if _, err := en.st.PutAssignment(ctx, store.Assignment{BusinessGroupID: en.bg.ID, UserID: u.ID, JobRoleID: o.role, AccountGroupID: g}); err != nil {
			t.Fatalf("assign %s: %v", login, err)
		}
	}
	return u
}

// flow parks an authorization request the way authz does.
func (en *env) flow(scopes ...string) store.AuthFlow {
	en.t.Helper()
	if len(scopes) == 0 {
		scopes = []string{"openid", "offline_access", "accounts.read", "statements.read"}
	}
	f, err := en.st.CreateAuthFlow(en.t.Context(), store.AuthFlow{
		ID: store.RandomToken(32), ClientID: vendorClientID, RequestedScopes: scopes, Request: []byte(`{}`),
		State: store.FlowLogin, ExpiresAt: en.clock.Now().Add(10 * time.Minute),
	})
	if err != nil {
		en.t.Fatalf("create flow: %v", err)
	}
	return f
}

func (en *env) getFlow(id string) store.AuthFlow {
	en.t.Helper()
	f, err := en.st.GetAuthFlow(en.t.Context(), id)
	if err != nil {
		en.t.Fatalf("get flow: %v", err)
	}
	return f
}

func (en *env) getUser(id string) store.User {
	en.t.Helper()
	u, err := en.st.GetUser(en.t.Context(), id)
	if err != nil {
		en.t.Fatalf("get user: %v", err)
	}
	return u
}

// browser is an http.Client with a cookie jar that follows redirects except
// the hand-back to authz, so tests can read the verifier.
type browser struct {
	t   *testing.T
	en  *env
	c   *http.Client
	hdr http.Header
}

func (en *env) browser() *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		en.t.Fatal(err)
	}
	c := &http.Client{Jar: jar, Timeout: 60 * time.Second, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if req.URL.Path == pathResume || len(via) > 10 {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	return &browser{t: en.t, en: en, c: c, hdr: http.Header{}}
}

// page is a response with its body read.
type page struct {
	*http.Response
	Body string
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	for k, v := range b.hdr {
		req.Header[k] = v
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return page{Response: resp, Body: html.UnescapeString(string(body))}
}

func (b *browser) get(path string) page {
	b.t.Helper()
	req, err := http.NewRequestWithContext(b.t.Context(), http.MethodGet, b.en.ts.URL+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) page {
	b.t.Helper()
	req, err := http.NewRequestWithContext(b.t.Context(), http.MethodPost, b.en.ts.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var (
	csrfRe   = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	actionRe = regexp.MustCompile(`<form method="post" action="([^"]+)"`)
)

// form returns the CSRF token and action of the page's main form (the last
// one on the page; the sign-out form comes first in the header).
func (p page) form(t *testing.T) (csrf, action string) {
	t.Helper()
	cs := csrfRe.FindAllStringSubmatch(p.Body, -1)
	as := actionRe.FindAllStringSubmatch(p.Body, -1)
	if len(cs) == 0 || len(as) == 0 {
		t.Fatalf("no form on page %s (status %d):\n%s", p.Request.URL, p.StatusCode, p.Body)
	}
	return cs[len(cs)-1][1], as[len(as)-1][1]
}

func (p page) mustContain(t *testing.T, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(p.Body, s) {
			t.Errorf("page %s (status %d) lacks %q:\n%s", p.Request.URL.Path, p.StatusCode, s, p.Body)
		}
	}
}

func (p page) mustNotContain(t *testing.T, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if strings.Contains(p.Body, s) {
			t.Errorf("page %s must not contain %q", p.Request.URL.Path, s)
		}
	}
}

func (p page) status(t *testing.T, want int) {
	t.Helper()
	if p.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d:\n%s", p.Request.Method, p.Request.URL, p.StatusCode, want, p.Body)
	}
}

// signIn fills the sign-in form reached from path (e.g. /login?login_challenge=...).
func (b *browser) signIn(path, login, password string) page {
	b.t.Helper()
	p := b.get(path)
	p.status(b.t, http.StatusOK)
	csrf, action := p.form(b.t)
	return b.post(action, url.Values{"csrf": {csrf}, "user_id": {login}, "password": {password}})
}

// resume reads the hand-back redirect to authz and its verifier.
func (p page) resume(t *testing.T) (challenge, verifier string) {
	t.Helper()
	if p.StatusCode != http.StatusSeeOther {
		t.Fatalf("want a 303 to %s, got %d:\n%s", pathResume, p.StatusCode, p.Body)
	}
	u, err := url.Parse(p.Header.Get("Location"))
	if err != nil || u.Path != pathResume {
		t.Fatalf("redirect to %q, want %s", p.Header.Get("Location"), pathResume)
	}
	return u.Query().Get("login_challenge"), u.Query().Get("login_verifier")
}

// regexpFind returns the first group of re in s.
func regexpFind(t *testing.T, s, re string) string {
	t.Helper()
	m := regexp.MustCompile(re).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("no match for %s in:\n%s", re, s)
	}
	return m[1]
}

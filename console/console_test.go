package console_test

import (
	"context"
	"encoding/json"
	"errors"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/admin"
	"github.com/bankfeed/bankfeed/console"
	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/store/gormstore"
	"github.com/bankfeed/bankfeed/store/gormstore/gormtest"
)

// noTokens: the console's tests sign in through browser sessions only; the
// admin server's bearer tokens are not used, so every token is invalid.
type noTokens struct{}

func (noTokens) Verify(context.Context, string) (store.Grant, error) {
	return store.Grant{}, errors.New("no tokens in these tests")
}

func (noTokens) VerifyRequest(*http.Request) (store.Grant, error) {
	return store.Grant{}, errors.New("no tokens in these tests")
}

type env struct {
	t          *testing.T
	st         *gormstore.Store
	ts         *httptest.Server
	bg1, bg2   string
	le1, le2   string
	acc1, acc2 string // bg1: "Exploitation", "Exploitation Nord"
	group1     string // bg1's "Books" with acc1
	group2     string // bg2's
	role2      string // bg2's
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := t.Context()
	st := gormtest.OpenStore(t, "console_test")
	adm, err := admin.New(admin.Config{Store: st, Verifier: noTokens{}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	h, err := console.New(console.Config{Store: st, Admin: adm, Issuer: "http://bank.test"})
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	h.Mount(e)
	ev := &env{t: t, st: st, ts: httptest.NewServer(e)}
	t.Cleanup(ev.ts.Close)
	seed := func(name string) (string, string) {
		g, err := st.CreateBusinessGroup(ctx, store.BusinessGroup{ID: name, Name: name})
		if err != nil {
			t.Fatal(err)
		}
		l, err := st.CreateLegalEntity(ctx, store.LegalEntity{ID: name + "-le", BusinessGroupID: g.ID, Name: name + " Inc."})
		if err != nil {
			t.Fatal(err)
		}
		return g.ID, l.ID
	}
	ev.bg1, ev.le1 = seed("bg1")
	ev.bg2, ev.le2 = seed("bg2")
	ev.acc1 = ev.account(ev.bg1, ev.le1, "00012-003-1000001", "Exploitation")
	ev.acc2 = ev.account(ev.bg1, ev.le1, "00012-003-1008785", "Exploitation Nord")
	acc3 := ev.account(ev.bg2, ev.le2, "00012-003-2000001", "Other")
	g, err := st.CreateAccountGroup(ctx, store.AccountGroup{BusinessGroupID: ev.bg1, Name: "Books", AccountIDs: []string{ev.acc1}})
	if err != nil {
		t.Fatal(err)
	}
	ev.group1 = g.ID
	g, err = st.CreateAccountGroup(ctx, store.AccountGroup{BusinessGroupID: ev.bg2, Name: "Theirs", AccountIDs: []string{acc3}})
	if err != nil {
		t.Fatal(err)
	}
	ev.group2 = g.ID
	r, err := st.CreateJobRole(ctx, store.JobRole{BusinessGroupID: ev.bg2, Name: "Their role", Grants: store.AdminGrants()})
	if err != nil {
		t.Fatal(err)
	}
	ev.role2 = r.ID
	return ev
}

func (ev *env) account(bg, le, number, nickname string) string {
	ev.t.Helper()
	a, err := ev.st.CreateAccount(ev.t.Context(), store.Account{ID: store.NewID("acc"), BusinessGroupID: bg, LegalEntityID: le,
		Number: number, DisplayNumber: store.MaskAccountNumber(number), Type: store.AccountChecking, Currency: "CAD",
		Status: store.AccountOpen, OpenedOn: "2024-01-02", Nickname: nickname})
	if err != nil {
		ev.t.Fatal(err)
	}
	return a.ID
}

// browser is a signed-in browser: the bank's session cookie and the
// session's CSRF token, as package consent makes them at sign-in.
type browser struct {
	ev     *env
	userID string
	cookie string
	csrf   string
	lang   string
}

// signIn seeds an active user of bg holding grants and a browser session.
func (ev *env) signIn(bg, login string, grants store.Grants, opts ...func(*store.User)) *browser {
	ev.t.Helper()
	ctx := ev.t.Context()
	u := store.User{BusinessGroupID: bg, LoginID: login, DisplayName: login, Status: store.UserActive}
	for _, o := range opts {
		o(&u)
	}
	u, err := ev.st.CreateUser(ctx, u)
	if err != nil {
		ev.t.Fatal(err)
	}
	r, err := ev.st.CreateJobRole(ctx, store.JobRole{BusinessGroupID: bg, Name: "role of " + login, Grants: grants})
	if err != nil {
		ev.t.Fatal(err)
	}
	grp := ev.group1
	if bg == ev.bg2 {
		grp = ev.group2
	}
	if _, err := ev.st.PutAssignment(ctx, store.Assignment{BusinessGroupID: bg, UserID: u.ID, JobRoleID: r.ID, AccountGroupID: grp}); err != nil {
		ev.t.Fatal(err)
	}
	v := store.RandomToken(32)
	s := store.BrowserSession{ID: store.HashToken(v), UserID: u.ID, AuthTime: time.Now(), CSRFToken: store.RandomToken(32),
		ExpiresAt: time.Now().Add(time.Hour), CreatedAt: time.Now()}
	if err := ev.st.CreateBrowserSession(ctx, s); err != nil {
		ev.t.Fatal(err)
	}
	return &browser{ev: ev, userID: u.ID, cookie: "bankfeed_session=" + v, csrf: s.CSRFToken, lang: "en"}
}

type page struct {
	Status   int
	Location string
	Body     string
}

// has reports whether the page shows text (HTML entities decoded).
func (p page) has(text string) bool { return strings.Contains(html.UnescapeString(p.Body), text) }

func (b *browser) do(method, path string, form url.Values) page {
	b.ev.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(b.ev.t.Context(), method, b.ev.ts.URL+path, body)
	if err != nil {
		b.ev.t.Fatal(err)
	}
	if b.cookie != "" {
		req.Header.Set("Cookie", b.cookie+"; bankfeed_lang="+b.lang)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		b.ev.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		b.ev.t.Fatal(err)
	}
	return page{Status: res.StatusCode, Location: res.Header.Get("Location"), Body: string(raw)}
}

func (b *browser) get(path string) page { b.ev.t.Helper(); return b.do(http.MethodGet, path, nil) }

// post sends a form with the session's CSRF token.
func (b *browser) post(path string, form url.Values) page {
	b.ev.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", b.csrf)
	}
	return b.do(http.MethodPost, path, form)
}

func (b *browser) must(want int, p page) page {
	b.ev.t.Helper()
	if p.Status != want {
		b.ev.t.Fatalf("status %d, want %d: %s", p.Status, want, p.Body)
	}
	return p
}

func (ev *env) pending() []store.ApprovalRequest {
	ev.t.Helper()
	st := store.ApprovalPending
	rs, _, err := ev.st.ListApprovals(ev.t.Context(), store.ApprovalFilter{BusinessGroupID: ev.bg1, Status: &st}, store.Page{Limit: 100})
	if err != nil {
		ev.t.Fatal(err)
	}
	return rs
}

func onlyView(perms ...store.Permission) store.Grants {
	var g store.Grants
	for _, p := range perms {
		g = append(g, store.PermissionGrant{Permission: p, Rights: store.Rights(store.RightView)})
	}
	return g.Normalize()
}

// TestNavigation: the menu shows, in order, only what the job role allows;
// a page it does not allow is a 403 naming the missing permission and right
// in the user's language.
func TestNavigation(t *testing.T) {
	ev := newEnv(t)
	a := ev.signIn(ev.bg1, "admin-a", store.AdminGrants())
	p := a.must(http.StatusOK, a.get("/business/"))
	labels := []string{">Users<", ">Job roles<", ">Account groups<", ">Approvals<", ">Notifications<", ">Connected applications<", ">Audit log<"}
	at := 0
	for _, l := range labels {
		i := strings.Index(p.Body[at:], l)
		if i < 0 {
			t.Fatalf("menu lacks %s after position %d: %s", l, at, p.Body)
		}
		at += i
	}

	// View on users (Manage permissions' View also reads the audit log).
	v := ev.signIn(ev.bg1, "viewer", onlyView(store.PermManageUsersInAgreements, store.PermManagePermissions))
	p = v.must(http.StatusOK, v.get("/business/users"))
	if !p.has(">Users<") || p.has(">Job roles<") || p.has(">Account groups<") || !p.has(">Audit log<") {
		t.Fatalf("viewer's menu: %s", p.Body)
	}
	// The first of the job roles page's requirements the viewer lacks.
	var missing *store.RightError
	if !errors.As(store.Check(onlyView(store.PermManageUsersInAgreements, store.PermManagePermissions),
		store.OpViewJobRoles.Requirements()...), &missing) || missing.Right != store.RightView {
		t.Fatalf("viewer lacks %v", missing)
	}
	p = v.must(http.StatusForbidden, v.get("/business/job-roles"))
	if !p.has("You need the View right on the " + missing.Permission.TitleIn("en") + " permission") {
		t.Fatalf("403 does not name the missing right: %s", p.Body)
	}
	v.lang = "fr"
	p = v.must(http.StatusForbidden, v.get("/business/job-roles"))
	if !p.has("Il vous faut le droit Consulter sur l'autorisation "+missing.Permission.TitleIn("fr")) || !p.has(">Utilisateurs<") {
		t.Fatalf("403 in French: %s", p.Body)
	}
	// A form the role does not allow is refused the same way, and makes nothing.
	p = v.must(http.StatusForbidden, v.post("/business/job-roles", url.Values{"name": {"X"}, "g.account_summary.View": {"on"}}))
	if !p.has("Il vous faut le droit") || len(ev.pending()) != 0 {
		t.Fatalf("refused form: %d pending, %s", len(ev.pending()), p.Body)
	}
}

// TestSignInRequired: no session goes to the sign-in page, a pending first
// sign-in to it, and an accounting software user to its own page.
func TestSignInRequired(t *testing.T) {
	ev := newEnv(t)
	anon := &browser{ev: ev}
	if p := anon.get("/business/users"); p.Status != http.StatusSeeOther || p.Location != "/login" {
		t.Fatalf("no session: %d %q", p.Status, p.Location)
	}
	f := ev.signIn(ev.bg1, "newbie", store.AdminGrants(), func(u *store.User) { u.Status, u.MustChangePassword = store.UserAwaitingSignIn, true })
	if p := f.get("/business/"); p.Status != http.StatusSeeOther || p.Location != "/login/first" {
		t.Fatalf("first sign-in: %d %q", p.Status, p.Location)
	}
	s := ev.signIn(ev.bg1, "books-app", store.AccountingSoftwareReadOnlyGrants(), func(u *store.User) { u.AccountingSoftware = true })
	if p := s.get("/business/"); p.Status != http.StatusSeeOther || p.Location != "/account/connections" {
		t.Fatalf("software user: %d %q", p.Status, p.Location)
	}
	n := ev.signIn(ev.bg1, "no-rights", store.Grants{})
	if p := n.get("/business/users"); p.Status != http.StatusSeeOther || p.Location != "/account/connections" {
		t.Fatalf("user without rights: %d %q", p.Status, p.Location)
	}
}

// TestAddUserApproved: the article through the pages — A adds an
// accounting software user with a job role and an account group; it is
// pending until B approves in Pending approvals, which shows the temporary
// password once. The same form sent twice makes one request.
func TestAddUserApproved(t *testing.T) {
	ev := newEnv(t)
	ctx := t.Context()
	a := ev.signIn(ev.bg1, "admin-a", store.AdminGrants())
	b := ev.signIn(ev.bg1, "admin-b", store.AdminGrants())
	ro, err := ev.st.CreateJobRole(ctx, store.JobRole{BusinessGroupID: ev.bg1, Name: "Read-only books", Grants: store.AccountingSoftwareReadOnlyGrants()})
	if err != nil {
		t.Fatal(err)
	}

	// The box offers only the roles rule 3 allows.
	p := a.must(http.StatusOK, a.get("/business/users?software=1"))
	if !p.has(">Read-only books</option>") || p.has(">role of admin-a</option>") {
		t.Fatalf("roles offered with the box: %s", p.Body)
	}
	form := url.Values{"first_name": {"QuickBooks"}, "last_name": {"Sync"}, "login": {"qbo-sync"}, "email": {""},
		"software": {"on"}, "entity": {ev.le1}, "role": {ro.ID}, "group": {ev.group1}, "nonce": {"form-1"}}
	p = a.must(http.StatusOK, a.post("/business/users", form))
	if !p.has("Submitted and pending approval") {
		t.Fatalf("after submitting: %s", p.Body)
	}
	// Sent again (a double click): one request.
	p = a.must(http.StatusOK, a.post("/business/users", form))
	if !p.has("Submitted and pending approval") || len(ev.pending()) != 1 {
		t.Fatalf("double submission: %d pending, %s", len(ev.pending()), p.Body)
	}
	if _, err := ev.st.GetUserByLogin(ctx, "qbo-sync"); err == nil {
		t.Fatal("user exists before approval")
	}
	// A may not decide it; it is in A's requests, with Cancel.
	p = a.must(http.StatusOK, a.get("/business/approvals"))
	if !p.has("Nothing awaits your decision.") || !p.has("creates the user QuickBooks Sync (qbo-sync), Accounting software with job role Read-only books and account group Books") {
		t.Fatalf("A's approvals: %s", p.Body)
	}
	p = b.must(http.StatusOK, b.get("/business/approvals"))
	id := ev.pending()[0].ID
	if !p.has("/business/approvals/"+id+"/approve") || !p.has("Asked by: admin-a") || !p.has("1 pending") {
		t.Fatalf("B's pending approvals: %s", p.Body)
	}
	p = b.must(http.StatusOK, b.post("/business/approvals/"+id+"/approve", nil))
	m := regexp.MustCompile(`<code class="secret">([^<]+)</code>`).FindStringSubmatch(p.Body)
	if m == nil || !p.has("Temporary password for qbo-sync") {
		t.Fatalf("no temporary password shown: %s", p.Body)
	}
	u, err := ev.st.GetUserByLogin(ctx, "qbo-sync")
	if err != nil || !u.AccountingSoftware || !store.VerifySecret(u.PasswordHash, html.UnescapeString(m[1])) {
		t.Fatalf("created user = %+v, %v", u, err)
	}
	if as, err := ev.st.UserAssignment(ctx, u.ID, ""); err != nil || as.JobRoleID != ro.ID || as.AccountGroupID != ev.group1 {
		t.Fatalf("assignment = %+v, %v", as, err)
	}
	// Deciding it again lost the race: said, and nothing changes.
	p = b.must(http.StatusConflict, b.post("/business/approvals/"+id+"/approve", nil))
	if !p.has("Nothing was changed") {
		t.Fatalf("second approval: %s", p.Body)
	}
	p = a.must(http.StatusOK, a.get("/business/users"))
	if !p.has("qbo-sync") || !p.has("Awaiting first sign-in") || !p.has("Read-only books") {
		t.Fatalf("users table: %s", p.Body)
	}
}

// TestGroupChangeInWords: removing an account from a group reads, in
// Pending approvals, as what it does; rejecting needs a reason.
func TestGroupChangeInWords(t *testing.T) {
	ev := newEnv(t)
	a := ev.signIn(ev.bg1, "admin-a", store.AdminGrants())
	b := ev.signIn(ev.bg1, "admin-b", store.AdminGrants())
	a.must(http.StatusOK, a.post("/business/account-groups/"+ev.group1,
		url.Values{"name": {"Books"}, "account": {ev.acc2}, "nonce": {"g1"}}))
	p := b.must(http.StatusOK, b.get("/business/approvals"))
	if !p.has("adds Exploitation Nord (****8785) to account group Books") || !p.has("removes Exploitation (****0001) from account group Books") {
		t.Fatalf("words: %s", p.Body)
	}
	b.lang = "fr"
	p = b.must(http.StatusOK, b.get("/business/approvals"))
	if !p.has("ajoute Exploitation Nord (****8785) au groupe de comptes Books") {
		t.Fatalf("French words: %s", p.Body)
	}
	id := ev.pending()[0].ID
	b.must(http.StatusUnprocessableEntity, b.post("/business/approvals/"+id+"/reject", url.Values{"reason": {" "}}))
	b.must(http.StatusOK, b.post("/business/approvals/"+id+"/reject", url.Values{"reason": {"not this one"}}))
	if len(ev.pending()) != 0 {
		t.Fatal("rejected request still pending")
	}
	// Cancelling one's own request.
	a.must(http.StatusOK, a.post("/business/job-roles", url.Values{"name": {"Clerks"}, "g.account_summary.View": {"on"}, "nonce": {"r1"}}))
	id = ev.pending()[0].ID
	var got store.Grants
	if err := jsonGrants(ev.pending()[0].Payload, &got); err != nil || !got.Rights(store.PermAccountSummary).Has(store.RightView) {
		t.Fatalf("grid read back as %v, %v", got, err)
	}
	p = a.must(http.StatusOK, a.get("/business/approvals"))
	if !p.has("creates the job role Clerks: Account summary (View)") {
		t.Fatalf("my requests: %s", p.Body)
	}
	a.must(http.StatusOK, a.post("/business/approvals/"+id+"/cancel", nil))
	if len(ev.pending()) != 0 {
		t.Fatal("cancelled request still pending")
	}
}

// TestCSRFRefused: a form without the session's token, or with another,
// changes nothing.
func TestCSRFRefused(t *testing.T) {
	ev := newEnv(t)
	a := ev.signIn(ev.bg1, "admin-a", store.AdminGrants())
	form := url.Values{"first_name": {"X"}, "last_name": {"Y"}, "login": {"xy-user"}, "entity": {""}}
	for _, tok := range []string{"", "not-the-token-" + strings.Repeat("x", 30)} {
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		f.Set("csrf", tok)
		p := a.must(http.StatusForbidden, a.do(http.MethodPost, "/business/users", f))
		if !p.has("Nothing was changed") {
			t.Fatalf("CSRF page: %s", p.Body)
		}
	}
	// A cross-site POST (the browser says so) is refused even with the token.
	if len(ev.pending()) != 0 {
		t.Fatalf("a refused form made %d requests", len(ev.pending()))
	}
}

// TestOtherBusinessIs404: another business group's records are not found,
// exactly like missing ones, on every page and form that names an ID.
func TestOtherBusinessIs404(t *testing.T) {
	ev := newEnv(t)
	ctx := t.Context()
	a := ev.signIn(ev.bg1, "admin-a", store.AdminGrants())
	other := ev.signIn(ev.bg2, "their-admin", store.AdminGrants())
	other.must(http.StatusOK, other.post("/business/job-roles/"+ev.role2, url.Values{"name": {"Renamed"}, "nonce": {"x"}}))
	st := store.ApprovalPending
	theirs, _, err := ev.st.ListApprovals(ctx, store.ApprovalFilter{BusinessGroupID: ev.bg2, Status: &st}, store.Page{})
	if err != nil || len(theirs) != 1 {
		t.Fatalf("bg2's request: %v, %v", theirs, err)
	}
	for _, c := range []struct{ method, path string }{
		{http.MethodGet, "/business/job-roles/" + ev.role2},
		{http.MethodGet, "/business/account-groups/" + ev.group2},
		{http.MethodPost, "/business/job-roles/" + ev.role2},
		{http.MethodPost, "/business/account-groups/" + ev.group2},
		{http.MethodPost, "/business/users/" + other.userID + "/lock"},
		{http.MethodPost, "/business/approvals/" + theirs[0].ID + "/approve"},
		{http.MethodPost, "/business/approvals/" + theirs[0].ID + "/reject"},
		{http.MethodPost, "/business/approvals/" + theirs[0].ID + "/cancel"},
	} {
		var p page
		if c.method == http.MethodGet {
			p = a.get(c.path)
		} else {
			p = a.post(c.path, url.Values{"name": {"Mine now"}, "reason": {"no"}})
		}
		if p.Status != http.StatusNotFound || !p.has("Not found") {
			t.Errorf("%s %s = %d: %s", c.method, c.path, p.Status, p.Body)
		}
	}
	if r, err := ev.st.GetApproval(ctx, theirs[0].ID); err != nil || r.Status != store.ApprovalPending {
		t.Fatalf("bg2's request = %+v, %v", r, err)
	}
	if len(ev.pending()) != 0 {
		t.Fatal("bg1 made requests on bg2's records")
	}
}

// missingMessage is how a missing catalogue key shows ("!key"; not "<!doctype").
var missingMessage = regexp.MustCompile(`(^|[^<])![a-z][a-z_]+`)

func jsonGrants(payload []byte, g *store.Grants) error {
	var p struct {
		Grants store.Grants `json:"grants"`
	}
	err := json.Unmarshal(payload, &p)
	*g = p.Grants
	return err
}

// TestPagesRender: every page renders in both languages with the issue's
// labels, and Notifications' "Mark all as read" marks them.
func TestPagesRender(t *testing.T) {
	ev := newEnv(t)
	a := ev.signIn(ev.bg1, "admin-a", store.AdminGrants())
	a.must(http.StatusOK, a.post("/business/users/"+a.userID+"/reset-password", url.Values{"nonce": {"n"}}))
	want := map[string][]string{
		"/business/users":                       {"Add user", "First name", "Last name", "User ID", "Email", "Accounting software", "Legal entity", "Job role", "Account group", "Submit for approval", ">Reset password<"},
		"/business/job-roles":                   {"Create job role", "Self-approved", "Name", ">View<", ">Create<", ">Edit<", ">Delete<", ">Approve<", ">Execute<", ">Sign<"},
		"/business/account-groups":              {"Create account group", "Exploitation Nord (****8785) — bg1 Inc., Chequing, CAD"},
		"/business/account-groups/" + ev.group1: {"Edit account group"},
		"/business/approvals":                   {"Pending approvals", "My requests", ">Cancel<", "resets the password of the user admin-a (admin-a)"},
		"/business/notifications":               {"Mark all as read", "Unread"},
		"/business/audit":                       {"user.reset_password.submitted", "Who", "From", "To"},
		"/business/connections":                 {"Connected applications", "No application is connected."},
	}
	for path, labels := range want {
		p := a.must(http.StatusOK, a.get(path))
		for _, l := range labels {
			if !p.has(l) {
				t.Errorf("%s lacks %q", path, l)
			}
		}
		if m := missingMessage.FindString(p.Body); m != "" {
			t.Errorf("%s has a missing message %s", path, m)
		}
	}
	a.lang = "fr"
	for path := range want {
		p := a.must(http.StatusOK, a.get(path))
		if m := missingMessage.FindString(p.Body); m != "" {
			t.Errorf("%s (fr) has a missing message %s", path, m)
		}
	}
	a.lang = "en"
	a.must(http.StatusOK, a.post("/business/notifications/read", nil))
	if p := a.must(http.StatusOK, a.get("/business/notifications")); p.has(">Unread<") {
		t.Fatalf("still unread: %s", p.Body)
	}
	if p := a.must(http.StatusOK, a.get("/business/audit?what=approval.&who="+a.userID)); p.has("user.reset_password.submitted") {
		t.Fatalf("audit filter ignored: %s", p.Body)
	}
}

// TestConnections: the business's connected applications — application,
// user, what it can see, which accounts, since, last used — and Disconnect,
// which revokes the connection at once; another business's connection is
// a 404, and a role without Edit on users sees no Disconnect.
func TestConnections(t *testing.T) {
	ev := newEnv(t)
	ctx := t.Context()
	a := ev.signIn(ev.bg1, "admin-a", store.AdminGrants())
	app := ev.signIn(ev.bg1, "books-app", store.AccountingSoftwareReadOnlyGrants(), func(u *store.User) { u.AccountingSoftware = true })
	them := ev.signIn(ev.bg2, "their-app", store.AccountingSoftwareReadOnlyGrants(), func(u *store.User) { u.AccountingSoftware = true })
	if _, err := ev.st.CreateClient(ctx, store.Client{ID: "ledgerly", Name: "Ledgerly"}); err != nil {
		t.Fatal(err)
	}
	mine, err := ev.st.CreateConsent(ctx, store.Consent{ID: store.NewID("cns"), UserID: app.userID, ClientID: "ledgerly",
		Scopes: []string{"openid", "accounts.read", "statements.read"}, GrantedAt: time.Date(2026, 3, 1, 17, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := ev.st.CreateConsent(ctx, store.Consent{ID: store.NewID("cns"), UserID: them.userID, ClientID: "ledgerly",
		Scopes: []string{"accounts.read"}, GrantedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	p := a.must(http.StatusOK, a.get("/business/connections"))
	for _, want := range []string{">Connected applications<", "Ledgerly", "books-app", "account balances and transactions",
		"statements and their documents", "Exploitation (****0001)", "2026-03-01", "Never", "Disconnect"} {
		if !p.has(want) {
			t.Errorf("connections page lacks %q", want)
		}
	}
	if p.has("their-app") || p.has("Exploitation Nord") {
		t.Fatalf("another business's connection, or an account outside the group, is listed: %s", p.Body)
	}
	a.must(http.StatusNotFound, a.post("/business/connections/"+theirs.ID+"/disconnect", nil))
	v := ev.signIn(ev.bg1, "viewer", onlyView(store.PermManageUsersInAgreements, store.PermManagePermissions))
	if p := v.must(http.StatusOK, v.get("/business/connections")); !p.has("Ledgerly") || p.has(">Disconnect<") {
		t.Fatalf("viewer's connections: %s", p.Body)
	}
	v.must(http.StatusForbidden, v.post("/business/connections/"+mine.ID+"/disconnect", nil))

	p = a.must(http.StatusOK, a.post("/business/connections/"+mine.ID+"/disconnect", nil))
	if c, err := ev.st.GetConsent(ctx, mine.ID); err != nil || c.RevokedAt.IsZero() {
		t.Fatalf("consent after Disconnect = %+v, %v", c, err)
	}
	if c, err := ev.st.GetConsent(ctx, theirs.ID); err != nil || !c.RevokedAt.IsZero() {
		t.Fatalf("the other business's consent = %+v, %v", c, err)
	}
	if p.has(">Disconnect<") {
		t.Fatalf("a revoked connection still offers Disconnect: %s", p.Body)
	}
}

// TestEntityContext: an administrator whose job role is assigned in one
// legal entity's context (none in the overview) administers in that
// context: the users page opens, showing only that entity's users.
func TestEntityContext(t *testing.T) {
	ev := newEnv(t)
	ctx := t.Context()
	e := ev.signIn(ev.bg1, "entity-admin", store.AdminGrants(), func(u *store.User) { u.LegalEntityID = ev.le1 })
	as, err := ev.st.UserAssignment(ctx, e.userID, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := ev.st.DeleteAssignment(ctx, as.ID); err != nil {
		t.Fatal(err)
	}
	as.ID, as.LegalEntityID, as.Version = store.NewID("asg"), ev.le1, 0
	if _, err := ev.st.PutAssignment(ctx, as); err != nil {
		t.Fatal(err)
	}
	ev.signIn(ev.bg1, "group-level", store.AdminGrants()) // a user of the overview, outside le1's context
	p := e.must(http.StatusOK, e.get("/business/users"))
	if !p.has(">entity-admin</td>") || p.has(">group-level</td>") {
		t.Fatalf("users in le1's context: %s", p.Body)
	}
	// The audit log is the business group's, read in the overview only.
	if p.has(">Audit log<") {
		t.Fatalf("the menu offers the audit log in an entity's context: %s", p.Body)
	}
}

package admin_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/consent"
	"github.com/bankfeed/bankfeed/store"
)

// The tests of this file drive the bank's sign-in page (the real consent
// handler, on its own server over the same store) next to the
// administration API: what one does to a user must not get in the way of
// the other. Only this test file imports consent; the packages do not
// depend on each other.

// signInPage serves consent's pages on e's store.
type signInPage struct {
	t   *testing.T
	url string
}

func (e *env) signInPage() *signInPage {
	e.t.Helper()
	ech := echo.New()
	ts := httptest.NewServer(ech)
	e.t.Cleanup(ts.Close)
	h, err := consent.New(consent.Config{Store: e.st, Issuer: ts.URL})
	if err != nil {
		e.t.Fatalf("consent.New: %v", err)
	}
	h.Mount(ech)
	return &signInPage{t: e.t, url: ts.URL}
}

var signInCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// signIn fills the sign-in form with login and password in a fresh browser
// and returns the answer's status and body.
func (p *signInPage) signIn(login, password string) (int, string) {
	p.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(req *http.Request) (int, string) {
		p.t.Helper()
		res, err := c.Do(req)
		if err != nil {
			p.t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	req, _ := http.NewRequestWithContext(p.t.Context(), http.MethodGet, p.url+"/login", nil)
	_, body := get(req)
	m := signInCSRF.FindStringSubmatch(body)
	if m == nil {
		p.t.Fatalf("no sign-in form:\n%s", body)
	}
	form := url.Values{"csrf": {m[1]}, "user_id": {login}, "password": {password}}
	req, _ = http.NewRequestWithContext(p.t.Context(), http.MethodPost, p.url+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return get(req)
}

// TestFinding2FailedSignInKeepsPendingChangesApprovable: a failed sign-in
// only counts (failures, lockout); it is no change of what an
// administrator's pending lock, unlock, password reset or deletion changes,
// so each is still approved. Before, the failure bumped the user's version
// and every such request answered 409 "the user changed": a compromised
// account kept itself from being locked by failing one sign-in.
func TestFinding2FailedSignInKeepsPendingChangesApprovable(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	maker := e.newUser(e.bg1, "maker", store.AdminGrants())
	checker := e.newUser(e.bg1, "checker", store.AdminGrants())
	page := e.signInPage()
	hash, err := store.HashSecret("Right-Password-42")
	if err != nil {
		t.Fatal(err)
	}
	seed := func(login string, status store.UserStatus) store.User {
		t.Helper()
		u, err := e.st.CreateUser(ctx, store.User{BusinessGroupID: e.bg1, LoginID: login, DisplayName: login,
			AccountingSoftware: true, Status: status, PasswordHash: hash})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	failOnce := func(u store.User) {
		t.Helper()
		if st, body := page.signIn(u.LoginID, "wrong password"); st != http.StatusUnauthorized {
			t.Fatalf("wrong password for %s: %d\n%s", u.LoginID, st, body)
		}
		if got, err := e.st.GetUser(ctx, u.ID); err != nil || got.FailedAttempts == 0 {
			t.Fatalf("the failure was not counted: %+v, %v", got, err)
		}
	}
	for _, tc := range []struct {
		name, action string
		status       store.UserStatus
		want         store.UserStatus
	}{
		{"lock", "/lock", store.UserActive, store.UserLocked},
		{"unlock", "/unlock", store.UserLocked, store.UserActive},
		{"reset-password", "/reset-password", store.UserActive, store.UserAwaitingSignIn},
		{"delete", "", store.UserActive, store.UserDeleted},
	} {
		u := seed("app-"+tc.name, tc.status)
		method := http.MethodPost
		if tc.action == "" {
			method = http.MethodDelete
		}
		id := e.submit(maker, method, "/admin/v1/users/"+u.ID+tc.action, nil)
		failOnce(u)
		e.approve(checker, id)
		got, err := e.st.GetUser(ctx, u.ID)
		if err != nil || got.Status != tc.want {
			t.Fatalf("%s: after approval: %+v, %v; want status %s", tc.name, got, err, tc.want)
		}
	}
	// A change of what the request changes still makes it stale.
	changed := seed("app-changed", store.UserActive)
	lock := e.submit(maker, http.MethodPost, "/admin/v1/users/"+changed.ID+"/lock", nil)
	e.approve(checker, e.submit(maker, http.MethodPost, "/admin/v1/users/"+changed.ID+"/reset-password", nil))
	e.refused(checker, lock, http.StatusConflict, "changed")
	// The locked user, with the right password: locked by the administrator.
	if st, body := page.signIn("app-lock", "Right-Password-42"); st != http.StatusForbidden {
		t.Fatalf("the locked user signing in: %d\n%s", st, body)
	}
}

// TestFinding7bLoginIDOfAnotherBusinessRevealsNothing: submitting a user
// whose login ID another business group holds is answered as for a free
// ID (before: 409 "already taken", which told the maker that the ID exists
// at the bank). Login IDs are typed alone on the sign-in page, so they are
// unique bank-wide and the approval must refuse it; it does so with the one
// message it also gives when the ID went to a user of this business group
// meanwhile — nothing names or distinguishes the other business.
func TestFinding7bLoginIDOfAnotherBusinessRevealsNothing(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	maker := e.newUser(e.bg1, "maker", store.AdminGrants())
	checker := e.newUser(e.bg1, "checker", store.AdminGrants())
	elsewhere := e.newUser(e.bg2, "elsewhere.books", store.AdminGrants())
	create := func(login string) resp {
		return e.call(maker.Token, http.MethodPost, "/admin/v1/users", map[string]any{"loginId": login, "displayName": "Books"})
	}
	free, taken := create("free.books"), create("ELSEWHERE.books")
	if free.Status != http.StatusAccepted || taken.Status != free.Status || taken.Str("kind") != free.Str("kind") || taken.Str("status") != free.Str("status") {
		t.Fatalf("a free ID: %d %s\nanother business's ID: %d %s", free.Status, free.Raw, taken.Status, taken.Raw)
	}
	// Held in this business group: the maker can list it, so it may be said.
	own := create("checker")
	if own.Status != http.StatusConflict || !strings.Contains(own.Str("detail"), "your business group") {
		t.Fatalf("this business's ID: %d %s", own.Status, own.Raw)
	}

	// At approval, one message for another business's ID and for this one's.
	race := e.submit(maker, http.MethodPost, "/admin/v1/users", map[string]any{"loginId": "race.books", "displayName": "Books"})
	if _, err := e.st.CreateUser(ctx, store.User{BusinessGroupID: e.bg1, LoginID: "race.books", DisplayName: "Won", Status: store.UserActive}); err != nil {
		t.Fatal(err)
	}
	there := e.refused(checker, taken.Str("id"), http.StatusConflict, "another user ID")
	here := e.refused(checker, race, http.StatusConflict, "another user ID")
	if a, b := strings.ReplaceAll(there.Str("detail"), "ELSEWHERE.books", "X"), strings.ReplaceAll(here.Str("detail"), "race.books", "X"); a != b {
		t.Fatalf("another business's ID: %q\nthis business's: %q", a, b)
	}
	for _, leak := range []string{e.bg2, elsewhere.ID, "bg2"} {
		if strings.Contains(string(there.Raw), leak) {
			t.Errorf("the refusal names %q: %s", leak, there.Raw)
		}
	}
	if u, err := e.st.GetUserByLogin(ctx, "elsewhere.books"); err != nil || u.ID != elsewhere.ID {
		t.Fatalf("the other business's user = %+v, %v", u, err)
	}
}

// TestFinding7cDeletedUsersLoginIDReused: the article's "delete the user
// and create it again" with the same login ID works (before: 409, the
// deleted user held the ID for ever), and the new user is a new record
// that revives nothing of the old one: not its ID, password, security
// answer, assignment, consents or tokens.
func TestFinding7cDeletedUsersLoginIDReused(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	maker := e.newUser(e.bg1, "maker", store.AdminGrants())
	checker := e.newUser(e.bg1, "checker", store.AdminGrants())
	page := e.signInPage()
	const oldPassword = "Old-Password-1234"
	hash, err := store.HashSecret(oldPassword)
	if err != nil {
		t.Fatal(err)
	}
	old, err := e.st.CreateUser(ctx, store.User{BusinessGroupID: e.bg1, LoginID: "books", DisplayName: "Books", AccountingSoftware: true,
		Status: store.UserActive, PasswordHash: hash, SecurityQuestion: store.SecurityQuestions[0], SecurityAnswerHash: hash})
	if err != nil {
		t.Fatal(err)
	}
	role := e.seedRole("Books", store.AccountingSoftwareReadOnlyGrants())
	if _, err := e.st.PutAssignment(ctx, store.Assignment{BusinessGroupID: e.bg1, UserID: old.ID, JobRoleID: role.ID, AccountGroupID: e.adminGroup1}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.CreateClient(ctx, store.Client{ID: "ledgerly", Name: "Ledgerly"}); err != nil {
		t.Fatal(err)
	}
	cns, err := e.st.CreateConsent(ctx, store.Consent{ID: store.NewID("cns"), UserID: old.ID, ClientID: "ledgerly", Scopes: []string{"accounts.read"}, GrantedAt: e.now})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.CreateToken(ctx, store.TokenRecord{Kind: store.TokenRefresh, Signature: "old-refresh", RequestID: cns.ID, ClientID: "ledgerly",
		Subject: old.ID, Active: true, ExpiresAt: time.Now().Add(time.Hour), Request: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}

	e.approve(checker, e.submit(maker, http.MethodDelete, "/admin/v1/users/"+old.ID, nil))
	id := e.submit(maker, http.MethodPost, "/admin/v1/users", map[string]any{"loginId": "Books", "displayName": "Books again", "accountingSoftware": false})
	res := e.approve(checker, id)
	nu, err := e.st.GetUser(ctx, res.Str("result.id"))
	if err != nil || nu.ID == old.ID || nu.LoginID != "Books" || nu.Status != store.UserAwaitingSignIn || !nu.MustChangePassword ||
		nu.AccountingSoftware || nu.SecurityQuestion != "" || nu.SecurityAnswerHash != "" || nu.PasswordHash == old.PasswordHash || nu.FailedAttempts != 0 {
		t.Fatalf("the new user = %+v, %v; old %s", nu, err, old.ID)
	}
	if _, err := e.st.UserAssignment(ctx, nu.ID, ""); err == nil {
		t.Error("the new user has an assignment")
	}
	if cs, err := e.st.ListConsents(ctx, nu.ID); err != nil || len(cs) != 0 {
		t.Errorf("the new user's consents = %+v, %v", cs, err)
	}
	if c, err := e.st.GetConsent(ctx, cns.ID); err != nil || c.UserID != old.ID || c.RevokedAt.IsZero() {
		t.Errorf("the old consent = %+v, %v", c, err)
	}
	if tr, err := e.st.GetToken(ctx, store.TokenRefresh, "old-refresh"); err != nil || tr.Active || tr.Subject != old.ID {
		t.Errorf("the old token = %+v, %v", tr, err)
	}
	if got, err := e.st.GetUser(ctx, old.ID); err != nil || got.Status != store.UserDeleted || got.PasswordHash != hash || got.SecurityAnswerHash != hash {
		t.Errorf("the deleted record = %+v, %v", got, err)
	}
	if got, err := e.st.GetUserByLogin(ctx, "books"); err != nil || got.ID != nu.ID {
		t.Errorf("the login ID names %+v, %v; want the new user", got, err)
	}
	// The old password opens nothing; the new temporary one starts the
	// first sign-in of the new user.
	if st, body := page.signIn("books", oldPassword); st != http.StatusUnauthorized {
		t.Errorf("the old password: %d\n%s", st, body)
	}
	if st, _ := page.signIn("books", res.Str("temporaryPassword")); st != http.StatusSeeOther {
		t.Errorf("the temporary password: %d, want 303 to the first sign-in", st)
	}
	// Both records are listed.
	if logins := e.loginsOf(maker.Token, "/admin/v1/users?includeDeleted=true"); strings.Count(strings.ToLower(strings.Join(logins, ",")), "books") != 2 {
		t.Errorf("users listed: %v", logins)
	}
}

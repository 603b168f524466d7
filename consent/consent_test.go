package consent

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/store"
)

func TestSignInWithoutChallengeLandsOnConnections(t *testing.T) {
	en := newEnv(t)
	en.user("alice", userOpts{role: en.roleFull.ID})
	b := en.browser()
	p := b.signIn(pathLogin, "ALICE", goodPassword) // user IDs are case-insensitive
	p.status(t, http.StatusOK)
	if p.Request.URL.Path != pathConnections {
		t.Fatalf("landed on %s, want %s", p.Request.URL.Path, pathConnections)
	}
	p.mustContain(t, "Connected applications", "Signed in as Alice", "No application is connected.", "Sign out")
	// Signed in: the sign-in page sends the browser on.
	if p := b.get(pathLogin); p.Request.URL.Path != pathConnections {
		t.Errorf("GET /login while signed in landed on %s", p.Request.URL.Path)
	}
}

func TestSecurityHeadersAndCookies(t *testing.T) {
	en := newEnv(t)
	en.user("alice", userOpts{role: en.roleFull.ID})
	b := en.browser()
	b.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	p := b.get(pathLogin)
	p.status(t, http.StatusOK)
	want := map[string]string{
		"Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self' " + en.ts.URL + "; frame-ancestors 'none'; base-uri 'none'",
		"X-Frame-Options":         "DENY",
		"Referrer-Policy":         "no-referrer",
		"Cache-Control":           "no-store",
		"Content-Type":            "text/html; charset=UTF-8",
	}
	for k, v := range want {
		if got := p.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if strings.Contains(p.Body, "<script") || strings.Contains(p.Body, "style=") || strings.Contains(p.Body, "<img") {
		t.Error("page has inline script, inline style or an image")
	}
	// Every field has a visible label.
	for _, id := range []string{"user_id", "password"} {
		p.mustContain(t, `<label for="`+id+`">`, `id="`+id+`"`)
	}
	csrf, action := p.form(t)
	p = b.post(action, url.Values{"csrf": {csrf}, "user_id": {"alice"}, "password": {goodPassword}})
	p.status(t, http.StatusSeeOther)
	if p.Header.Get("Content-Security-Policy") == "" || p.Header.Get("Cache-Control") != "no-store" {
		t.Error("redirect lacks the security headers")
	}
	var sess *http.Cookie
	for _, c := range p.Cookies() {
		if c.Name == SessionCookie {
			sess = c
		}
	}
	if sess == nil {
		t.Fatal("no session cookie")
	}
	if !sess.HttpOnly || sess.SameSite != http.SameSiteLaxMode || sess.Path != "/" || sess.Secure {
		t.Errorf("session cookie attributes: %+v (http issuer: not Secure)", sess)
	}
	// The store keeps only the hash of the cookie value.
	s, err := en.st.GetBrowserSession(t.Context(), store.HashToken(sess.Value))
	if err != nil || s.UserID != "usr_alice" || !s.ExpiresAt.Equal(en.clock.Now().Add(30*time.Minute)) {
		t.Errorf("stored session %+v, %v", s, err)
	}
	if _, err := en.st.GetBrowserSession(t.Context(), sess.Value); err == nil {
		t.Error("session stored under the raw cookie value")
	}
	css := b.get(pathCSS)
	css.status(t, http.StatusOK)
	if !strings.HasPrefix(css.Header.Get("Content-Type"), "text/css") {
		t.Errorf("stylesheet content type %q", css.Header.Get("Content-Type"))
	}
}

func TestSecureCookiesWithHTTPSIssuer(t *testing.T) {
	h, err := New(Config{Store: nil, Issuer: "https://bank.example"})
	if err == nil || h != nil {
		t.Fatal("New without a store must fail")
	}
	en := newEnv(t)
	h, err = New(Config{Store: en.st, Issuer: "https://bank.example"})
	if err != nil {
		t.Fatal(err)
	}
	if !h.secure || !strings.Contains(h.csp(), "form-action 'self' https://bank.example;") {
		t.Errorf("https issuer: secure=%v csp=%q", h.secure, h.csp())
	}
	e := echo.New()
	h.Mount(e)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, pathLogin, nil))
	if sc := rec.Header().Get("Set-Cookie"); !strings.Contains(sc, "; Secure") || !strings.Contains(sc, "; HttpOnly") || !strings.Contains(sc, "; SameSite=Lax") {
		t.Errorf("https issuer: cookie %q", sc)
	}
	if _, err := New(Config{Store: en.st, Issuer: "bank.example"}); err == nil {
		t.Error("a relative issuer must be refused")
	}
}

func TestWrongCredentialsGetOneGenericMessage(t *testing.T) {
	en := newEnv(t)
	en.user("alice", userOpts{role: en.roleFull.ID})
	en.user("gone", userOpts{role: en.roleFull.ID, status: store.UserDeleted})
	en.user("waiting", userOpts{role: en.roleFull.ID, status: store.UserPendingApproval})
	const generic = "The user ID or password is incorrect."
	for _, tc := range []struct{ name, login, password string }{
		{"wrong password", "alice", "Wrong-Password-1"},
		{"unknown user", "nobody", goodPassword},
		{"empty password", "alice", ""},
		{"deleted user", "gone", goodPassword},
		{"pending approval", "waiting", goodPassword},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := en.browser()
			p := b.signIn(pathLogin, tc.login, tc.password)
			p.status(t, http.StatusUnauthorized)
			p.mustContain(t, generic)
			p.mustNotContain(t, "locked", "Connected applications")
		})
	}
	if got := en.getUser("usr_alice").FailedAttempts; got != 1 {
		t.Errorf("alice FailedAttempts = %d, want 1 (the empty password is not an attempt)", got)
	}
}

func TestLockoutAfterFiveFailures(t *testing.T) {
	en := newEnv(t)
	en.user("alice", userOpts{role: en.roleFull.ID})
	b := en.browser()
	for i := 1; i <= 4; i++ {
		p := b.signIn(pathLogin, "alice", "Wrong-Password-1")
		p.status(t, http.StatusUnauthorized)
		if u := en.getUser("usr_alice"); u.FailedAttempts != i || !u.LockedUntil.IsZero() {
			t.Fatalf("after %d failures: attempts=%d lockedUntil=%v", i, u.FailedAttempts, u.LockedUntil)
		}
	}
	p := b.signIn(pathLogin, "alice", "Wrong-Password-1")
	p.status(t, http.StatusForbidden)
	p.mustContain(t, "Too many failed attempts: your access is locked.")
	u := en.getUser("usr_alice")
	if want := en.clock.Now().Add(15 * time.Minute); !u.LockedUntil.Equal(want) {
		t.Fatalf("LockedUntil = %v, want %v", u.LockedUntil, want)
	}
	// Even the right password is refused while locked.
	p = b.signIn(pathLogin, "alice", goodPassword)
	p.status(t, http.StatusForbidden)
	p.mustContain(t, "your access is locked")

	en.clock.Advance(16 * time.Minute)
	p = b.signIn(pathLogin, "alice", goodPassword)
	p.status(t, http.StatusOK)
	if p.Request.URL.Path != pathConnections {
		t.Fatalf("after the lock: landed on %s", p.Request.URL.Path)
	}
	if u := en.getUser("usr_alice"); u.FailedAttempts != 0 || !u.LockedUntil.IsZero() {
		t.Errorf("success must reset the counter: attempts=%d lockedUntil=%v", u.FailedAttempts, u.LockedUntil)
	}
}

func TestSuccessResetsFailureCount(t *testing.T) {
	en := newEnv(t)
	en.user("alice", userOpts{role: en.roleFull.ID})
	b := en.browser()
	b.signIn(pathLogin, "alice", "nope-nope-nope").status(t, http.StatusUnauthorized)
	b.signIn(pathLogin, "alice", "nope-nope-nope").status(t, http.StatusUnauthorized)
	b.signIn(pathLogin, "alice", goodPassword).status(t, http.StatusOK)
	if got := en.getUser("usr_alice").FailedAttempts; got != 0 {
		t.Errorf("FailedAttempts = %d after success", got)
	}
}

func TestAdminLockedUserCannotSignIn(t *testing.T) {
	en := newEnv(t)
	en.user("frozen", userOpts{role: en.roleFull.ID, status: store.UserLocked})
	b := en.browser()
	p := b.signIn(pathLogin, "frozen", "Wrong-Password-1")
	p.status(t, http.StatusUnauthorized)
	p.mustContain(t, "The user ID or password is incorrect.")
	p = b.signIn(pathLogin, "frozen", goodPassword)
	p.status(t, http.StatusForbidden)
	p.mustContain(t, "Your access is locked. Contact your administrator.")
}

func TestFirstSignIn(t *testing.T) {
	en := newEnv(t)
	en.user("bob", userOpts{role: en.roleFull.ID, temp: true})
	b := en.browser()
	p := b.signIn(pathLogin, "bob", tempPassword)
	p.status(t, http.StatusOK)
	if p.Request.URL.Path != pathFirst {
		t.Fatalf("landed on %s, want %s", p.Request.URL.Path, pathFirst)
	}
	for _, id := range []string{"new_password", "confirm_password", "security_question", "answer"} {
		p.mustContain(t, `<label for="`+id+`">`)
	}
	p.mustContain(t, "New password", "Confirm new password", "Security question", "Answer", ">Continue<",
		"What was the name of your first pet?")
	// Nothing else works before first sign-in.
	if q := b.get(pathConnections); q.Request.URL.Path != pathFirst {
		t.Errorf("connections before first sign-in landed on %s", q.Request.URL.Path)
	}
	csrf, action := p.form(t)
	good := url.Values{"csrf": {csrf}, "new_password": {"Maple-Syrup-2026"}, "confirm_password": {"Maple-Syrup-2026"},
		"security_question": {"first_pet"}, "answer": {"  Rex  The DOG "}}
	with := func(k, v string) url.Values {
		f := url.Values{}
		for kk, vv := range good {
			f[kk] = slices.Clone(vv)
		}
		f.Set(k, v)
		if k == "new_password" {
			f.Set("confirm_password", v)
		}
		return f
	}
	before := en.getUser("usr_bob")
	for _, tc := range []struct {
		name string
		form url.Values
		want string
	}{
		{"too short", with("new_password", "Short-1a"), "The new password must have at least 12 characters."},
		{"user ID", with("new_password", "Bob-Is-Here-2026"), "The new password must not contain your user ID."},
		{"temporary", with("new_password", tempPassword), "The new password must not be your temporary password."},
		{"too simple", with("new_password", "alllowercaseletters"), "The new password must mix at least three kinds of characters"},
		{"mismatch", with("confirm_password", "Maple-Syrup-2027"), "The two new passwords are not the same."},
		{"no question", with("security_question", ""), "Choose a security question."},
		{"unknown question", with("security_question", "mothers_maiden_name"), "Choose a security question."},
		{"short answer", with("answer", " x "), "Enter an answer of at least 3 characters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := b.post(action, tc.form)
			p.status(t, http.StatusUnprocessableEntity)
			p.mustContain(t, tc.want, "Please correct the following:")
			if u := en.getUser("usr_bob"); u.Version != before.Version || u.PasswordHash != before.PasswordHash {
				t.Error("a refused first sign-in changed the user")
			}
		})
	}
	p = b.post(action, good)
	p.status(t, http.StatusOK)
	if p.Request.URL.Path != pathConnections {
		t.Fatalf("after first sign-in landed on %s", p.Request.URL.Path)
	}
	u := en.getUser("usr_bob")
	if u.Status != store.UserActive || u.MustChangePassword || u.SecurityQuestion != "first_pet" {
		t.Errorf("user after first sign-in: status=%s must=%v question=%q", u.Status, u.MustChangePassword, u.SecurityQuestion)
	}
	if !store.VerifySecret(u.PasswordHash, "Maple-Syrup-2026") || store.VerifySecret(u.PasswordHash, tempPassword) {
		t.Error("password not replaced with an argon2id hash of the new one")
	}
	if !strings.HasPrefix(u.SecurityAnswerHash, "$argon2id$") || !store.VerifySecret(u.SecurityAnswerHash, "rex the dog") {
		t.Error("security answer not stored as the hash of the normalized answer")
	}
	if u.Version != before.Version+1 {
		t.Errorf("first sign-in took %d updates, want one", u.Version-before.Version)
	}
	// The old password no longer works, the new one does.
	b2 := en.browser()
	b2.signIn(pathLogin, "bob", tempPassword).status(t, http.StatusUnauthorized)
	b2.signIn(pathLogin, "bob", "Maple-Syrup-2026").status(t, http.StatusOK)
}

func TestFirstSignInThenConsent(t *testing.T) {
	en := newEnv(t)
	en.user("bob", userOpts{role: en.roleFull.ID, temp: true})
	f := en.flow()
	b := en.browser()
	p := b.signIn(pathLogin+"?login_challenge="+f.ID, "bob", tempPassword)
	if p.Request.URL.Path != pathFirst || p.Request.URL.Query().Get("login_challenge") != f.ID {
		t.Fatalf("landed on %s", p.Request.URL)
	}
	if got := en.getFlow(f.ID); got.State != store.FlowLogin {
		t.Fatalf("flow moved to %s before first sign-in", got.State)
	}
	csrf, action := p.form(t)
	p = b.post(action, url.Values{"csrf": {csrf}, "new_password": {"Maple-Syrup-2026"}, "confirm_password": {"Maple-Syrup-2026"},
		"security_question": {"birth_city"}, "answer": {"Trois-Rivières"}})
	p.status(t, http.StatusOK)
	if p.Request.URL.Path != pathConsent {
		t.Fatalf("landed on %s, want the consent page", p.Request.URL.Path)
	}
	p.mustContain(t, "Connect "+vendorName)
	if got := en.getFlow(f.ID); got.State != store.FlowConsent || got.UserID != "usr_bob" {
		t.Errorf("flow %s user %q", got.State, got.UserID)
	}
}

func TestConsentShowsExactlyTheGroupsAccounts(t *testing.T) {
	en := newEnv(t)
	en.user("alice", userOpts{role: en.roleFull.ID})
	f := en.flow()
	b := en.browser()
	p := b.signIn(pathLogin+"?login_challenge="+f.ID, "alice", goodPassword)
	p.status(t, http.StatusOK)
	if p.Request.URL.Path != pathConsent {
		t.Fatalf("landed on %s", p.Request.URL.Path)
	}
	p.mustContain(t, "Connect "+vendorName, vendorName+" wants to read information from your business accounts.",
		"account balances and transactions", "statements and their documents",
		"It can never make or sign transactions.",
		"Operating account", "****4567", "US Dollar Business Account", "****4321", "CAD", "USD",
		"Access lasts until you disconnect it in Connected applications.",
		`value="allow">Allow</button>`, `value="deny" class="secondary">Deny</button>`)
	p.mustNotContain(t, "Payroll reserve", "****9888", "Other operating", "****5444",
		"1234567", "vendor.example/logo.png", "<img")
	if n := strings.Count(p.Body, `<tr class="account">`); n != 2 {
		t.Errorf("%d account rows, want 2", n)
	}
	// The form may post back to the vendor's redirect origin (browsers apply
	// form-action to the redirects after Allow).
	if csp := p.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' "+en.ts.URL+" http://127.0.0.1:9999;") {
		t.Errorf("consent CSP %q", csp)
	}
}

func TestConsentLifespanIsShown(t *testing.T) {
	en := newEnv(t, func(c *Config) { c.ConsentLifespan = 90 * 24 * time.Hour })
	en.user("alice", userOpts{role: en.roleFull.ID})
	f := en.flow()
	p := en.browser().signIn(pathLogin+"?login_challenge="+f.ID, "alice", goodPassword)
	p.mustContain(t, "Access lasts until 2026-05-31, unless you disconnect it earlier")
}

func TestAllowRecordsTheDecision(t *testing.T) {
	en := newEnv(t)
	en.user("alice", userOpts{role: en.roleFull.ID})
	f := en.flow("openid", "profile", "offline_access", "accounts.read", "statements.read", "admin")
	b := en.browser()
	p := b.signIn(pathLogin+"?login_challenge="+f.ID, "alice", goodPassword)
	p.mustContain(t, "It can keep reading while you are away", "your name and user ID")
	csrf, action := p.form(t)
	signedInAt := en.clock.Now()
	en.clock.Advance(time.Minute)
	p = b.post(action, url.Values{"csrf": {csrf}, "decision": {"allow"}})
	ch, v := p.resume(t)
	if ch != f.ID || v == "" {
		t.Fatalf("resume challenge %q verifier %q", ch, v)
	}
	got := en.getFlow(f.ID)
	if got.State != store.FlowDecided || got.Denied || got.UserID != "usr_alice" || !got.AuthTime.Equal(signedInAt) {
		t.Errorf("flow: state=%s denied=%v user=%q authTime=%v", got.State, got.Denied, got.UserID, got.AuthTime)
	}
	if !store.VerifyToken(got.VerifierHash, v) {
		t.Error("VerifierHash does not match the redirect's verifier")
	}
	want := []string{"openid", "profile", "offline_access", "accounts.read", "statements.read"} // never admin
	if !slices.Equal(got.GrantedScopes, want) {
		t.Errorf("GrantedScopes = %v, want %v", got.GrantedScopes, want)
	}
	// Single decision: a second post changes nothing.
	p = b.post(action, url.Values{"csrf": {csrf}, "decision": {"deny"}})
	p.status(t, http.StatusConflict)
	p.mustContain(t, "This request has already been answered")
	if again := en.getFlow(f.ID); again.Denied || again.VerifierHash != got.VerifierHash {
		t.Error("a second decision changed the flow")
	}
	// The consent page of a decided flow says so too.
	b.get(pathConsent+"?login_challenge="+f.ID).status(t, http.StatusConflict)
}

func TestDenyRecordsDenied(t *testing.T) {
	en := newEnv(t)
	en.user("alice", userOpts{role: en.roleFull.ID})
	f := en.flow()
	b := en.browser()
	p := b.signIn(pathLogin+"?login_challenge="+f.ID, "alice", goodPassword)
	csrf, action := p.form(t)
	_, v := b.post(action, url.Values{"csrf": {csrf}, "decision": {"deny"}}).resume(t)
	got := en.getFlow(f.ID)
	if got.State != store.FlowDecided || !got.Denied || got.DenyReason != reasonUserDenied || len(got.GrantedScopes) != 0 {
		t.Errorf("flow after Deny: %+v", got)
	}
	if !store.VerifyToken(got.VerifierHash, v) {
		t.Error("VerifierHash does not match")
	}
}

func TestScopesCutByRole(t *testing.T) {
	en := newEnv(t)
	en.user("dave", userOpts{role: en.roleAccts.ID})
	f := en.flow()
	b := en.browser()
	p := b.signIn(pathLogin+"?login_challenge="+f.ID, "dave", goodPassword)
	p.status(t, http.StatusOK)
	p.mustContain(t, "account balances and transactions")
	p.mustNotContain(t, "statements and their documents")
	csrf, action := p.form(t)
	b.post(action, url.Values{"csrf": {csrf}, "decision": {"allow"}}).resume(t)
	got := en.getFlow(f.ID)
	if want := []string{"openid", "offline_access", "accounts.read"}; !slices.Equal(got.GrantedScopes, want) {
		t.Errorf("GrantedScopes = %v, want %v", got.GrantedScopes, want)
	}
}

func TestOrdinaryUserIsRefused(t *testing.T) {
	en := newEnv(t)
	en.user("carol", userOpts{ordinary: true, role: en.roleOps.ID})
	f := en.flow()
	b := en.browser()
	p := b.signIn(pathLogin+"?login_challenge="+f.ID, "carol", goodPassword)
	p.status(t, http.StatusForbidden)
	p.mustContain(t, "Only an accounting software user can connect accounting software.", "Return to "+vendorName)
	p.mustNotContain(t, ">Allow<", "Operating account")
	got := en.getFlow(f.ID)
	if got.State != store.FlowDecided || !got.Denied || got.DenyReason != reasonNotAccountingSoftware {
		t.Errorf("flow: %+v", got)
	}
	link := strings.ReplaceAll(regexpFind(t, p.Body, `class="button" href="([^"]+)"`), "&amp;", "&")
	u, err := url.Parse(link)
	if err != nil || u.Path != pathResume || !store.VerifyToken(got.VerifierHash, u.Query().Get("login_verifier")) {
		t.Errorf("return link %q does not carry the recorded verifier", link)
	}
}

// The bank's own online-banking application gets no consent screen, for an
// ordinary user too: the decision carries the requested scopes (authz bounds
// them) and the browser goes straight back to authz.
func TestFirstPartyClientSkipsConsentScreen(t *testing.T) {
	en := newEnv(t)
	if _, err := en.st.CreateClient(t.Context(), store.Client{
		ID: "online-banking", Name: "Online banking", SecretHash: store.HashToken("fp-secret"), FirstParty: true,
		RedirectURIs: []string{"https://bank.example/cb"}, GrantTypes: []string{"authorization_code"}, ResponseTypes: []string{"code"},
		Scopes: []string{"openid", "admin"}, TokenEndpointAuthMethod: "client_secret_basic",
	}); err != nil {
		t.Fatal(err)
	}
	en.user("carol", userOpts{ordinary: true, role: en.roleOps.ID})
	f, err := en.st.CreateAuthFlow(t.Context(), store.AuthFlow{
		ID: store.RandomToken(32), ClientID: "online-banking", RequestedScopes: []string{"openid", "admin"}, Request: []byte(`{}`),
		State: store.FlowLogin, ExpiresAt: en.clock.Now().Add(10 * time.Minute),
	})
	if err != nil {
		t.Fatal(err)
	}
	b := en.browser()
	p := b.signIn(pathLogin+"?login_challenge="+f.ID, "carol", goodPassword)
	p.mustNotContain(t, ">Allow<")
	_, verifier := p.resume(t)
	got := en.getFlow(f.ID)
	if got.State != store.FlowDecided || got.Denied || !store.VerifyToken(got.VerifierHash, verifier) ||
		strings.Join(got.GrantedScopes, " ") != "openid admin" {
		t.Fatalf("flow: %+v", got)
	}
}

func TestNoDataScopeIsRefused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		role   string
		scopes []string
	}{
		{"no assignment", "", nil},
		{"only identity scopes requested", "jr_full", []string{"openid", "offline_access"}},
		{"role lacks the requested scope", "jr_accts", []string{"openid", "statements.read"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			en := newEnv(t)
			en.user("erin", userOpts{role: tc.role})
			f := en.flow(tc.scopes...)
			p := en.browser().signIn(pathLogin+"?login_challenge="+f.ID, "erin", goodPassword)
			p.status(t, http.StatusForbidden)
			p.mustContain(t, "Your job role does not allow "+vendorName+" to see")
			got := en.getFlow(f.ID)
			if got.State != store.FlowDecided || !got.Denied || got.DenyReason != reasonNoDataScope {
				t.Errorf("flow: %+v", got)
			}
		})
	}
}

func TestSessionIsReusedForTheNextFlow(t *testing.T) {
	en := newEnv(t)
	en.user("alice", userOpts{role: en.roleFull.ID})
	b := en.browser()
	b.signIn(pathLogin, "alice", goodPassword).status(t, http.StatusOK)
	f := en.flow()
	p := b.get(pathLogin + "?login_challenge=" + f.ID)
	p.status(t, http.StatusOK)
	if p.Request.URL.Path != pathConsent {
		t.Fatalf("with a session: landed on %s", p.Request.URL.Path)
	}
	if got := en.getFlow(f.ID); got.State != store.FlowConsent || got.UserID != "usr_alice" {
		t.Errorf("flow %+v", got)
	}
	// A locked user's session stops working.
	if _, err := en.st.UpdateUser(t.Context(), "usr_alice", func(u store.User) (store.User, error) {
		u.Status = store.UserLocked
		return u, nil
	}); err != nil {
		t.Fatal(err)
	}
	if p := b.get(pathConnections); p.Request.URL.Path != pathLogin {
		t.Errorf("locked user's session reached %s", p.Request.URL.Path)
	}
}

func TestExpiredOrUnknownChallenge(t *testing.T) {
	en := newEnv(t)
	en.user("alice", userOpts{role: en.roleFull.ID})
	b := en.browser()
	b.hdr.Set(echo.HeaderXRequestID, "req-123")
	p := b.get(pathLogin + "?login_challenge=not-a-challenge")
	p.status(t, http.StatusNotFound)
	p.mustContain(t, "This request has expired", "Go back to your accounting software and connect again.", "Reference: req-123")
	p.mustNotContain(t, "not found", "consent:")
	b.hdr.Del(echo.HeaderXRequestID)
	f := en.flow()
	en.clock.Advance(11 * time.Minute)
	b.get(pathLogin+"?login_challenge="+f.ID).status(t, http.StatusNotFound)
	b.signIn(pathLogin, "alice", goodPassword).status(t, http.StatusOK)
	b.get(pathConsent+"?login_challenge=").status(t, http.StatusNotFound)
	b.get(pathConsent+"?login_challenge="+f.ID).status(t, http.StatusNotFound)
}

func TestCSRFMissingIsRefusedAndChangesNothing(t *testing.T) {
	en := newEnv(t)
	en.user("alice", userOpts{role: en.roleFull.ID})
	en.user("bob", userOpts{role: en.roleFull.ID, temp: true})

	t.Run("sign in", func(t *testing.T) {
		b := en.browser()
		p := b.get(pathLogin)
		csrf, _ := p.form(t)
		for _, form := range []url.Values{
			{"user_id": {"alice"}, "password": {"Wrong-1-wrong"}},
			{"csrf": {csrf + "x"}, "user_id": {"alice"}, "password": {"Wrong-1-wrong"}},
		} {
			b.post(pathLogin, form).status(t, http.StatusForbidden)
		}
		// Cross-site: the browser sends the token but not the SameSite cookie.
		other := en.browser()
		other.post(pathLogin, url.Values{"csrf": {csrf}, "user_id": {"alice"}, "password": {goodPassword}}).status(t, http.StatusForbidden)
		// And a cross-origin post is refused even with both.
		b.hdr.Set("Sec-Fetch-Site", "cross-site")
		b.post(pathLogin, url.Values{"csrf": {csrf}, "user_id": {"alice"}, "password": {goodPassword}}).status(t, http.StatusForbidden)
		if u := en.getUser("usr_alice"); u.FailedAttempts != 0 {
			t.Errorf("refused posts counted %d failures", u.FailedAttempts)
		}
		if p := other.get(pathConnections); p.Request.URL.Path != pathLogin {
			t.Error("a refused sign-in started a session")
		}
	})

	t.Run("first sign-in", func(t *testing.T) {
		b := en.browser()
		p := b.signIn(pathLogin, "bob", tempPassword)
		_, action := p.form(t)
		before := en.getUser("usr_bob")
		b.post(action, url.Values{"new_password": {"Maple-Syrup-2026"}, "confirm_password": {"Maple-Syrup-2026"},
			"security_question": {"first_pet"}, "answer": {"rex"}}).status(t, http.StatusForbidden)
		if u := en.getUser("usr_bob"); u.Version != before.Version {
			t.Error("first sign-in without CSRF changed the user")
		}
	})

	t.Run("consent and disconnect", func(t *testing.T) {
		f := en.flow()
		b := en.browser()
		p := b.signIn(pathLogin+"?login_challenge="+f.ID, "alice", goodPassword)
		_, action := p.form(t)
		p = b.post(action, url.Values{"decision": {"allow"}})
		p.status(t, http.StatusForbidden)
		p.mustContain(t, "This form has expired")
		if got := en.getFlow(f.ID); got.State != store.FlowConsent || got.VerifierHash != "" {
			t.Errorf("consent without CSRF changed the flow: %+v", got)
		}
		c := en.consent("usr_alice")
		b.post(pathConnections+"/"+c.ID+"/disconnect", url.Values{"csrf": {"forged"}}).status(t, http.StatusForbidden)
		b.post(pathLogout, url.Values{}).status(t, http.StatusForbidden)
		if got, _ := en.st.GetConsent(t.Context(), c.ID); !got.RevokedAt.IsZero() {
			t.Error("disconnect without CSRF revoked the consent")
		}
	})
}

// consent stores an allowed consent with an access and a refresh token, as
// authz would.
// It is of vendorClientID unless clientID says which.
func (en *env) consent(userID string, clientID ...string) store.Consent {
	en.t.Helper()
	ctx := en.t.Context()
	now := en.clock.Now()
	client := vendorClientID
	if len(clientID) > 0 {
		client = clientID[0]
	}
	c, err := en.st.CreateConsent(ctx, store.Consent{ID: store.NewID("cns"), UserID: userID, ClientID: client,
		Scopes: []string{"openid", "offline_access", "accounts.read", "statements.read"}, GrantedAt: now.Add(-48 * time.Hour)})
	if err != nil {
		en.t.Fatalf("create consent: %v", err)
	}
	for _, k := range []store.TokenKind{store.TokenAccess, store.TokenRefresh} {
		if err := en.st.CreateToken(ctx, store.TokenRecord{Kind: k, Signature: string(k) + "-" + c.ID, RequestID: c.ID, ClientID: vendorClientID,
			Subject: userID, Active: true, RequestedAt: now, ExpiresAt: now.Add(time.Hour), TokenType: "bearer", Request: []byte(`{}`)}); err != nil {
			en.t.Fatalf("create token: %v", err)
		}
	}
	return c
}

func TestConnectionsListAndDisconnect(t *testing.T) {
	en := newEnv(t)
	en.user("alice", userOpts{role: en.roleFull.ID})
	en.user("mallory", userOpts{role: en.roleFull.ID})
	// A user has one standing consent per application: the revoked one
	// first, and the used one of a second application.
	revoked := en.consent("usr_alice")
	if err := en.st.RevokeConsent(t.Context(), revoked.ID, en.clock.Now()); err != nil {
		t.Fatal(err)
	}
	c := en.consent("usr_alice")
	second, err := en.st.CreateClient(t.Context(), store.Client{ID: "vendor-second", Name: vendorName,
		RedirectURIs: []string{"http://127.0.0.1:9999/callback"}, Scopes: en.client.Scopes})
	if err != nil {
		t.Fatal(err)
	}
	used := en.consent("usr_alice", second.ID)
	if err := en.st.TouchConsent(t.Context(), used.ID, en.clock.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	b := en.browser()
	p := b.signIn(pathLogin, "alice", goodPassword)
	p.status(t, http.StatusOK)
	if n := strings.Count(p.Body, `<tr class="connection">`); n != 2 {
		t.Fatalf("%d connections listed, want 2 (the revoked one is hidden):\n%s", n, p.Body)
	}
	p.mustContain(t, vendorName, "account balances and transactions", "statements and their documents",
		"2026-02-28", "Never", "2026-03-02 09:04 EST", ">Disconnect</button>", `aria-label="Disconnect `+vendorName+`"`)

	// Another user cannot disconnect alice's application.
	mb := en.browser()
	mp := mb.signIn(pathLogin, "mallory", goodPassword)
	mcsrf, _ := mp.form(t)
	mb.post(pathConnections+"/"+c.ID+"/disconnect", url.Values{"csrf": {mcsrf}}).status(t, http.StatusNotFound)
	if got, _ := en.st.GetConsent(t.Context(), c.ID); !got.RevokedAt.IsZero() {
		t.Fatal("another user revoked the consent")
	}

	csrf, _ := p.form(t)
	p = b.post(pathConnections+"/"+c.ID+"/disconnect", url.Values{"csrf": {csrf}})
	p.status(t, http.StatusOK)
	p.mustContain(t, "The application is disconnected")
	if n := strings.Count(p.Body, `<tr class="connection">`); n != 1 {
		t.Errorf("%d connections after disconnect, want 1", n)
	}
	got, err := en.st.GetConsent(t.Context(), c.ID)
	if err != nil || got.RevokedAt.IsZero() {
		t.Fatalf("consent after disconnect: %+v, %v", got, err)
	}
	for _, k := range []store.TokenKind{store.TokenAccess, store.TokenRefresh} {
		tok, err := en.st.GetToken(t.Context(), k, string(k)+"-"+c.ID)
		if err != nil || tok.Active {
			t.Errorf("%s after disconnect: active=%v err=%v", k, tok.Active, err)
		}
	}
	if tok, _ := en.st.GetToken(t.Context(), store.TokenAccess, string(store.TokenAccess)+"-"+used.ID); !tok.Active {
		t.Error("disconnecting one application revoked another's tokens")
	}
}

func TestSignOut(t *testing.T) {
	en := newEnv(t)
	en.user("alice", userOpts{role: en.roleFull.ID})
	b := en.browser()
	p := b.signIn(pathLogin, "alice", goodPassword)
	csrf := regexpFind(t, p.Body, `action="/logout"[^>]*>\s*<input type="hidden" name="csrf" value="([^"]+)"`)
	p = b.post(pathLogout, url.Values{"csrf": {csrf}})
	p.status(t, http.StatusOK)
	p.mustContain(t, "You are signed out.", "User ID")
	if p := b.get(pathConnections); p.Request.URL.Path != pathLogin {
		t.Errorf("after sign-out reached %s", p.Request.URL.Path)
	}
}

func TestFrench(t *testing.T) {
	en := newEnv(t)
	en.user("alice", userOpts{role: en.roleFull.ID})
	b := en.browser()
	b.hdr.Set("Accept-Language", "fr-CA,fr;q=0.9,en;q=0.5")
	f := en.flow()
	p := b.get(pathLogin + "?login_challenge=" + f.ID)
	p.status(t, http.StatusOK)
	p.mustContain(t, `<html lang="fr">`, "Code d'utilisateur", "Mot de passe", ">Se connecter<", vendorName+" demande l'accès",
		`hreflang="en">English</a>`)
	p.mustNotContain(t, "User ID")
	csrf, action := p.form(t)
	p = b.post(action, url.Values{"csrf": {csrf}, "user_id": {"alice"}, "password": {goodPassword}})
	p.status(t, http.StatusOK)
	p.mustContain(t, "Connecter "+vendorName, "les soldes et les opérations des comptes", "les relevés et leurs documents",
		"Il ne pourra jamais effectuer ni signer d'opérations.", ">Autoriser<", ">Refuser<", "Devise")
	// The switch: ?lang=en is remembered in a cookie over Accept-Language.
	p = b.get(pathConsent + "?login_challenge=" + f.ID + "&lang=en")
	p.mustContain(t, `<html lang="en">`, "It can never make or sign transactions.", `hreflang="fr">Français</a>`)
	p = b.get(pathConnections)
	p.mustContain(t, "Connected applications")
	p = b.get(pathConnections + "?lang=fr")
	p.mustContain(t, "Applications connectées", "Aucune application n'est connectée.")
}

func TestNegotiate(t *testing.T) {
	for _, tc := range []struct{ header, want string }{
		{"", "en"}, {"fr", "fr"}, {"fr-CA", "fr"}, {"en-CA,fr;q=0.9", "en"}, {"de,fr;q=0.5", "fr"},
		{"en;q=0.2,fr;q=0.8", "fr"}, {"fr;q=0", "en"}, {"*", "en"}, {"es", "en"}, {"fr;q=abc,en;q=0.1", "en"},
	} {
		if got := negotiate(tc.header); got != tc.want {
			t.Errorf("negotiate(%q) = %q, want %q", tc.header, got, tc.want)
		}
	}
}

func TestCataloguesMatch(t *testing.T) {
	for k := range messagesEN {
		if _, ok := messagesFR[k]; !ok {
			t.Errorf("French lacks %q", k)
		}
	}
	for k := range messagesFR {
		if _, ok := messagesEN[k]; !ok {
			t.Errorf("English lacks %q", k)
		}
	}
	for _, q := range store.SecurityQuestions {
		if _, ok := messagesEN["q_"+q]; !ok {
			t.Errorf("no text for security question %q", q)
		}
	}
	for _, code := range []string{store.PasswordTooShort, store.PasswordIsUserID, store.PasswordIsTemporary, store.PasswordTooSimple, store.PasswordMismatch, store.PasswordTooLong} {
		if _, ok := messagesEN["pw_"+code]; !ok {
			t.Errorf("no text for password problem %q", code)
		}
	}
}

func TestOfferedScopes(t *testing.T) {
	for _, tc := range []struct {
		requested, allowed, want []string
	}{
		{[]string{"openid", "accounts.read", "statements.read"}, []string{"accounts.read", "statements.read"}, []string{"openid", "accounts.read", "statements.read"}},
		{[]string{"accounts.read", "statements.read", "offline_access"}, []string{"accounts.read"}, []string{"accounts.read", "offline_access"}},
		{[]string{"admin", "operator", "accounts.read", "accounts.read"}, []string{"accounts.read"}, []string{"accounts.read"}},
		{[]string{"openid", "profile"}, nil, []string{"openid", "profile"}},
	} {
		if got := offeredScopes(tc.requested, tc.allowed); !slices.Equal(got, tc.want) {
			t.Errorf("offeredScopes(%v, %v) = %v, want %v", tc.requested, tc.allowed, got, tc.want)
		}
	}
}

// TestSignedInBrowserConsentsAtOnce: authz starts the flow of a browser
// holding the session cookie at the consent page (issue 15). With a session
// that stands, the page moves the flow to consent for the session's user
// and shows itself — no redirect, and its form decides the flow; without
// one it sends the browser to sign in, in the language asked for, and
// leaves the flow as it was; a user still to complete the first sign-in
// goes there first.
func TestSignedInBrowserConsentsAtOnce(t *testing.T) {
	en := newEnv(t)
	en.user("alice", userOpts{role: en.roleFull.ID})
	en.user("bob", userOpts{role: en.roleFull.ID, temp: true})
	noFollow := func(b *browser) *browser {
		b.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		return b
	}

	b := en.browser()
	b.signIn(pathLogin, "alice", goodPassword).status(t, http.StatusOK)
	noFollow(b)
	f := en.flow()
	p := b.get(pathConsent + "?login_challenge=" + f.ID)
	p.status(t, http.StatusOK)
	p.mustContain(t, "Connect "+vendorName, `value="allow">Allow</button>`)
	if got := en.getFlow(f.ID); got.State != store.FlowConsent || got.UserID != "usr_alice" || got.AuthTime.IsZero() {
		t.Fatalf("flow after the consent page: %+v", got)
	}
	csrf, action := p.form(t)
	allow := b.post(action, url.Values{"csrf": {csrf}, "decision": {"allow"}})
	allow.status(t, http.StatusSeeOther)
	if got := en.getFlow(f.ID); got.State != store.FlowDecided || len(got.GrantedScopes) == 0 {
		t.Errorf("flow after Allow: %+v", got)
	}

	// Another signed-in user, sent to the consent page of a flow already at
	// consent for alice (authz sends every cookie holder there), or with an
	// unknown challenge: the expired page, and the flow stays alice's.
	en.user("carol", userOpts{role: en.roleFull.ID})
	carol := en.browser()
	carol.signIn(pathLogin, "carol", goodPassword).status(t, http.StatusOK)
	noFollow(carol)
	f3 := en.flow()
	b.get(pathConsent+"?login_challenge="+f3.ID).status(t, http.StatusOK)
	carol.get(pathConsent+"?login_challenge="+f3.ID).status(t, http.StatusNotFound)
	carol.get(pathConsent+"?login_challenge=no-such-flow").status(t, http.StatusNotFound)
	if got := en.getFlow(f3.ID); got.State != store.FlowConsent || got.UserID != "usr_alice" {
		t.Errorf("flow after another user's visit: %+v", got)
	}

	anon := noFollow(en.browser())
	f2 := en.flow()
	p = anon.get(pathConsent + "?login_challenge=" + f2.ID + "&ui_locales=fr-CA")
	p.status(t, http.StatusSeeOther)
	loc, err := url.Parse(p.Header.Get("Location"))
	if err != nil || loc.Path != pathLogin || loc.Query().Get("login_challenge") != f2.ID || loc.Query().Get("ui_locales") != "fr-CA" {
		t.Errorf("without a session: Location %q, want the sign-in page with the challenge and ui_locales", p.Header.Get("Location"))
	}
	if got := en.getFlow(f2.ID); got.State != store.FlowLogin || got.UserID != "" {
		t.Errorf("flow moved without a session: %+v", got)
	}
	// An overlong ui_locales is dropped, not passed on.
	long := strings.Repeat("fr ", store.MaxUILocales/3+1)
	p = anon.get(pathConsent + "?login_challenge=" + f2.ID + "&ui_locales=" + url.QueryEscape(long))
	if loc, err := url.Parse(p.Header.Get("Location")); err != nil || loc.Path != pathLogin || loc.Query().Has("ui_locales") {
		t.Errorf("an overlong ui_locales: Location %q, want the sign-in page without it", p.Header.Get("Location"))
	}

	first := en.browser()
	first.signIn(pathLogin, "bob", tempPassword).status(t, http.StatusOK)
	noFollow(first)
	p = first.get(pathConsent + "?login_challenge=" + f2.ID)
	p.status(t, http.StatusSeeOther)
	if loc, err := url.Parse(p.Header.Get("Location")); err != nil || loc.Path != pathFirst {
		t.Errorf("before the first sign-in: Location %q, want %s", p.Header.Get("Location"), pathFirst)
	}
	if got := en.getFlow(f2.ID); got.State != store.FlowLogin {
		t.Errorf("flow moved before the first sign-in: %+v", got)
	}
}

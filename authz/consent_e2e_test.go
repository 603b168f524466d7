package authz_test

import (
	"encoding/json"
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/authz"
	"github.com/bankfeed/bankfeed/consent"
	"github.com/bankfeed/bankfeed/internal/scopewords"
	"github.com/bankfeed/bankfeed/store"
)

// TestCodeFlowThroughConsentPages runs the flow through the bank's real
// pages (package consent), found by their visible labels.
func TestCodeFlowThroughConsentPages(t *testing.T) {
	e := newEnv(t, envOpts{})
	b, u, password := e.withPages(t)

	verifier := oauth2.GenerateVerifier()
	q := e.authorizeParams(e.vendor.ID, oauth2.S256ChallengeFromVerifier(verifier))
	loc := b.expectRedirect(b.do(http.MethodGet, e.iss+"/oauth2/authorize?"+q.Encode(), nil))
	page := b.do(http.MethodGet, loc, nil)
	f := parseForm(t, page, loc, "Sign in")
	f.fill("User ID", u.LoginID)
	f.fill("Password", password)
	loc = b.expectRedirect(f.submit(b, "Sign in"))
	cb := b.toCallback(loc, "Allow")
	got := cb.Query()
	if !strings.HasPrefix(cb.String(), redirectURI) || got.Get("code") == "" || got.Get("iss") != e.iss || got.Get("state") != "state-1234567890" {
		t.Fatalf("callback %s", cb)
	}
	tr := e.token(url.Values{"grant_type": {"authorization_code"}, "code": {got.Get("code")}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}, e.vendor.ID, e.secret)
	if tr.Status != http.StatusOK || tr.IDToken == "" {
		t.Fatalf("token: %+v", tr)
	}
}

// TestAllowAnswersWithTheVendorsRedirect: wired as serve wires them
// (consent.Config.Resume), the consent form's Allow finishes the flow in
// its own request and sends the browser straight to the vendor with the
// code, the state and iss, without a stop at /oauth2/authorize/resume, and
// the code exchanges for tokens with an ID token; Deny sends the browser
// straight back with access_denied; with response_mode=form_post.jwt Allow
// answers the page that posts the signed response, under that page's own
// CSP rather than the consent pages' (issue 15).
func TestAllowAnswersWithTheVendorsRedirect(t *testing.T) {
	e := newEnv(t, envOpts{})
	b, u, password := e.withPages(t)
	// decide runs a flow through the pages and presses button on the
	// consent page: the answer to that press.
	decide := func(button string, q url.Values) page {
		t.Helper()
		loc := b.expectRedirect(b.do(http.MethodGet, e.iss+"/oauth2/authorize?"+q.Encode(), nil))
		return b.consentAnswer(loc, u.LoginID, password, button)
	}
	vendorRedirect := func(button string, p page) url.Values {
		t.Helper()
		cb, err := url.Parse(b.expectRedirect(p))
		must(t, err)
		if !strings.HasPrefix(cb.String(), redirectURI) {
			t.Fatalf("%s answered with a redirect to %s, want the vendor's %s", button, cb, redirectURI)
		}
		return cb.Query()
	}

	verifier := oauth2.GenerateVerifier()
	got := vendorRedirect("Allow", decide("Allow", e.authorizeParams(e.vendor.ID, oauth2.S256ChallengeFromVerifier(verifier))))
	if got.Get("code") == "" || got.Get("iss") != e.iss || got.Get("state") != "state-1234567890" {
		t.Fatalf("callback %v", got)
	}
	tr := e.token(url.Values{"grant_type": {"authorization_code"}, "code": {got.Get("code")}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}, e.vendor.ID, e.secret)
	if tr.Status != http.StatusOK || tr.AccessToken == "" || tr.IDToken == "" {
		t.Fatalf("token: %+v", tr)
	}

	got = vendorRedirect("Deny", decide("Deny", e.authorizeParams(e.vendor.ID, oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier()))))
	if got.Get("error") != "access_denied" || got.Get("iss") != e.iss || got.Get("code") != "" {
		t.Fatalf("denied callback %v", got)
	}

	q := e.authorizeParams(e.vendor.ID, oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier()))
	q.Set("response_mode", "form_post.jwt")
	p := decide("Allow", q)
	token := jarmForm(t, &http.Response{StatusCode: p.status, Header: p.header, Body: io.NopCloser(strings.NewReader(p.body))})
	if c := e.verifyJARM(token, e.vendor.ID); c.Code == "" || c.State != "state-1234567890" {
		t.Fatalf("response claims %+v", c)
	}
}

// TestAllowRecordsTheDecisionWithTheFinish: Allow and Deny record the
// decision with the statement that finishes the flow (authz.Server.Finish):
// a denial sticks (the flow done, denied, with its reason) though its
// transaction rolls back; a form sent again after its flow finished is
// refused with nothing issued; and a flow changed between the form's read
// and the finish (store.ErrConflict, nothing answered) is decided again on
// the flow as it is and finished by the resume, as without Finish.
func TestAllowRecordsTheDecisionWithTheFinish(t *testing.T) {
	e := newEnv(t, envOpts{})
	var (
		mu      sync.Mutex
		bump    bool
		finishe []error
	)
	b, u, password := e.withPages(t, func(c *consent.Config) {
		c.Finish = func(ec echo.Context, read store.AuthFlow, access store.Access, d store.FlowDecision) error {
			mu.Lock()
			defer mu.Unlock()
			if bump {
				// Another request writes the flow meanwhile (same state).
				_, err := e.st.UpdateAuthFlow(e.ctx, read.ID, func(f store.AuthFlow) (store.AuthFlow, error) { return f, nil })
				must(t, err)
			}
			err := e.srv.Finish(ec, read, access, d)
			finishe = append(finishe, err)
			return err
		}
	})
	// consentForm runs a flow through the pages up to its consent form:
	// the form and its flow's ID.
	consentForm := func(verifier string) (*htmlForm, string) {
		t.Helper()
		q := e.authorizeParams(e.vendor.ID, oauth2.S256ChallengeFromVerifier(verifier))
		f, loc := b.consentForm(b.expectRedirect(b.do(http.MethodGet, e.iss+"/oauth2/authorize?"+q.Encode(), nil)), u.LoginID, password, "Allow")
		at, err := url.Parse(loc)
		must(t, err)
		return f, at.Query().Get("login_challenge")
	}
	lastFinish := func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(finishe) == 0 {
			t.Fatal("Finish was not called")
		}
		return finishe[len(finishe)-1]
	}
	callback := func(p page) url.Values {
		t.Helper()
		cb, err := url.Parse(b.expectRedirect(p))
		must(t, err)
		if !strings.HasPrefix(cb.String(), redirectURI) {
			t.Fatalf("answered with a redirect to %s, want the vendor's %s", cb, redirectURI)
		}
		return cb.Query()
	}

	// Deny: access_denied, and the flow done with the denial recorded.
	f, flowID := consentForm(oauth2.GenerateVerifier())
	if got := callback(f.submit(b, "Deny")); got.Get("error") != "access_denied" || got.Get("code") != "" {
		t.Fatalf("denied callback %v", got)
	}
	if err := lastFinish(); err != nil {
		t.Fatalf("Finish(deny) = %v", err)
	}
	if fl, err := e.st.GetAuthFlow(e.ctx, flowID); err != nil || fl.State != store.FlowDone || !fl.Denied || fl.DenyReason == "" || len(fl.GrantedScopes) != 0 {
		t.Fatalf("denied flow: %s denied=%v %q %v, %v; want done and denied", fl.State, fl.Denied, fl.DenyReason, fl.GrantedScopes, err)
	}

	// Allow, then the same form again: refused, no second code.
	verifier := oauth2.GenerateVerifier()
	f, _ = consentForm(verifier)
	code := callback(f.submit(b, "Allow")).Get("code")
	if code == "" {
		t.Fatal("Allow: no code")
	}
	if again := f.submit(b, "Allow"); again.status != http.StatusConflict || strings.Contains(again.header.Get("Location"), "code=") {
		t.Fatalf("the form sent again: %d %s, want 409 and no code", again.status, again.header.Get("Location"))
	}
	tr := e.token(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}, e.vendor.ID, e.secret)
	if tr.Status != http.StatusOK || tr.AccessToken == "" {
		t.Fatalf("token: %+v", tr)
	}

	// A flow changed since the form's read: decided again, finished by
	// the resume.
	mu.Lock()
	bump = true
	mu.Unlock()
	verifier = oauth2.GenerateVerifier()
	f, flowID = consentForm(verifier)
	got := callback(f.submit(b, "Allow"))
	if err := lastFinish(); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("Finish(a flow changed since read) = %v, want ErrConflict", err)
	}
	tr = e.token(url.Values{"grant_type": {"authorization_code"}, "code": {got.Get("code")}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}, e.vendor.ID, e.secret)
	if tr.Status != http.StatusOK || tr.AccessToken == "" || got.Get("iss") != e.iss {
		t.Fatalf("after a flow changed since read: callback %v, token %+v", got, tr)
	}
	if fl, err := e.st.GetAuthFlow(e.ctx, flowID); err != nil || fl.State != store.FlowDone || fl.VerifierHash == "" {
		t.Fatalf("flow changed since read: %s, verifier hash %q, %v; want done through the resume (a verifier)", fl.State, fl.VerifierHash, err)
	}
}

// TestConcurrentAllowsKeepOneConsent: eight consent forms of one user and
// vendor, allowed at once through the pages wired as serve wires them. On
// PostgreSQL some Allows find another authorization under way and take the
// transaction instead of the one statement (AllowReadAuthFlow). Every Allow
// is answered with a code and one consent of the pair stands at the end:
// the last one granted, whose code alone is exchanged.
func TestConcurrentAllowsKeepOneConsent(t *testing.T) {
	e := newEnv(t, envOpts{})
	b, u, password := e.withPages(t)
	const n = 8
	forms := make([]*htmlForm, n)
	verifiers := make([]string, n)
	for i := range n {
		verifiers[i] = oauth2.GenerateVerifier()
		q := e.authorizeParams(e.vendor.ID, oauth2.S256ChallengeFromVerifier(verifiers[i]))
		forms[i], _ = b.consentForm(b.expectRedirect(b.do(http.MethodGet, e.iss+"/oauth2/authorize?"+q.Encode(), nil)), u.LoginID, password, "Allow")
	}
	pages := make([]page, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { pages[i] = forms[i].submit(b, "Allow") })
	}
	wg.Wait()
	codes := make([]string, n)
	for i, p := range pages {
		cb, err := url.Parse(p.header.Get("Location"))
		if err != nil || !strings.HasPrefix(cb.String(), redirectURI) || cb.Query().Get("code") == "" {
			t.Fatalf("Allow %d: %d to %q, want the vendor's redirect with a code\n%s", i, p.status, p.header.Get("Location"), p.body)
		}
		codes[i] = cb.Query().Get("code")
	}
	cs, err := e.st.ListConsents(e.ctx, u.ID)
	must(t, err)
	var standing []store.Consent
	for _, c := range cs {
		if c.ClientID == e.vendor.ID && c.RevokedAt.IsZero() {
			standing = append(standing, c)
		}
	}
	if len(standing) != 1 || len(cs) != n {
		t.Fatalf("%d consents of %d allowed, %d standing; want %d and 1", len(cs), n, len(standing), n)
	}
	exchanged := 0
	for i, code := range codes {
		tr := e.token(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI},
			"code_verifier": {verifiers[i]}}, e.vendor.ID, e.secret)
		if tr.Status == http.StatusOK {
			exchanged++
		}
	}
	if exchanged != 1 {
		t.Errorf("%d codes exchanged, want 1 (the standing consent's)", exchanged)
	}
}

// TestAllowGrantsOnlyWhatTheJobRoleAllows: through the pages wired as
// serve wires them (Allow finishing the flow in its own request), a vendor
// asking for accounts.read and statements.read of a user whose job role
// allows only the account summary gets tokens for accounts.read alone, and
// cannot widen them at refresh; a role that allows no data sends the
// browser back with access_denied and no code.
func TestAllowGrantsOnlyWhatTheJobRoleAllows(t *testing.T) {
	e := newEnv(t, envOpts{})
	b, u, password := e.withPages(t)
	setGrants := func(g store.Grants) {
		t.Helper()
		_, err := e.st.UpdateJobRole(e.ctx, e.role.ID, func(r store.JobRole) (store.JobRole, error) {
			r.Grants = g
			return r, nil
		})
		must(t, err)
	}
	setGrants(store.Grants{{Permission: store.PermAccountSummary, Rights: store.Rights(store.RightView)}})
	verifier := oauth2.GenerateVerifier()
	q := e.authorizeParams(e.vendor.ID, oauth2.S256ChallengeFromVerifier(verifier))
	loc := b.expectRedirect(b.do(http.MethodGet, e.iss+"/oauth2/authorize?"+q.Encode(), nil))
	cb := b.toCallback(b.expectRedirect(b.consentAnswer(loc, u.LoginID, password, "Allow")), "Allow")
	tr := e.token(url.Values{"grant_type": {"authorization_code"}, "code": {cb.Query().Get("code")}, "redirect_uri": {redirectURI},
		"code_verifier": {verifier}}, e.vendor.ID, e.secret)
	if tr.Status != http.StatusOK || !slices.Contains(strings.Fields(tr.Scope), "accounts.read") || slices.Contains(strings.Fields(tr.Scope), "statements.read") {
		t.Fatalf("token %+v: want accounts.read without statements.read", tr)
	}
	wide := e.postForm("/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken},
		"scope": {"accounts.read statements.read"}}, e.vendor.ID, e.secret)
	if wide.StatusCode == http.StatusOK {
		t.Fatalf("a refresh widened the grant to statements.read: %s", readBody(wide))
	}

	setGrants(store.Grants{})
	q = e.authorizeParams(e.vendor.ID, oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier()))
	loc = b.expectRedirect(b.do(http.MethodGet, e.iss+"/oauth2/authorize?"+q.Encode(), nil))
	for range 4 {
		if strings.HasPrefix(loc, redirectURI) {
			break
		}
		p := b.do(http.MethodGet, loc, nil)
		if p.status != http.StatusSeeOther && p.status != http.StatusFound {
			// The refusal page: its link back to the vendor.
			m := regexp.MustCompile(`href="([^"]*login_verifier[^"]*)"`).FindStringSubmatch(p.body)
			if m == nil {
				t.Fatalf("a role without data: page %d without a way back:\n%s", p.status, p.body)
			}
			loc = e.iss + html.UnescapeString(m[1])
			continue
		}
		loc = b.expectRedirect(p)
	}
	cb, err := url.Parse(loc)
	must(t, err)
	if got := cb.Query(); !strings.HasPrefix(loc, redirectURI) || got.Get("error") != "access_denied" || got.Get("code") != "" {
		t.Fatalf("a role without data: callback %s, want access_denied without a code", loc)
	}
}

type browser struct {
	t testing.TB
	c *http.Client
}

type page struct {
	url    *url.URL
	status int
	header http.Header
	body   string
}

func (b *browser) do(method, u string, form url.Values) page {
	b.t.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req, err := http.NewRequest(method, u, body)
	must(b.t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.c.Do(req)
	must(b.t, err)
	resp = buffered(b.t, resp)
	return page{url: req.URL, status: resp.StatusCode, header: resp.Header, body: readBody(resp)}
}

// consentAnswer follows the bank's pages from loc, signing in as login with
// password when the sign-in page comes, until a page with another form
// (the consent page), presses button on it and returns the answer.
func (b *browser) consentAnswer(loc, login, password, button string) page {
	b.t.Helper()
	f, _ := b.consentForm(loc, login, password, button)
	return f.submit(b, button)
}

// consentForm is consentAnswer without the press: the consent page's form
// with button, and the page's address.
func (b *browser) consentForm(loc, login, password, button string) (*htmlForm, string) {
	b.t.Helper()
	for range 4 {
		p := b.do(http.MethodGet, loc, nil)
		switch {
		case p.status == http.StatusSeeOther || p.status == http.StatusFound:
			loc = b.expectRedirect(p)
		case strings.Contains(p.body, ">Sign in<"):
			f := parseForm(b.t, p, loc, "Sign in")
			f.fill("User ID", login)
			f.fill("Password", password)
			loc = b.expectRedirect(f.submit(b, "Sign in"))
		default:
			return parseForm(b.t, p, loc, button), loc
		}
	}
	b.t.Fatalf("no consent page after %s", loc)
	return nil, ""
}

// toCallback follows the bank's pages from loc, pressing button on each
// form, until the browser is sent to the vendor's redirect URI, and
// returns that address. Redirects on the way (the consent page's own step,
// the resume endpoint of pages wired without consent.Config.Resume) are
// followed.
func (b *browser) toCallback(loc, button string) *url.URL {
	b.t.Helper()
	for range 8 {
		if strings.HasPrefix(loc, redirectURI) {
			u, err := url.Parse(loc)
			must(b.t, err)
			return u
		}
		p := b.do(http.MethodGet, loc, nil)
		if p.status == http.StatusSeeOther || p.status == http.StatusFound {
			loc = b.expectRedirect(p)
			continue
		}
		loc = b.expectRedirect(parseForm(b.t, p, loc, button).submit(b, button))
	}
	b.t.Fatalf("no redirect to %s after the pages (last at %s)", redirectURI, loc)
	return nil
}

func (b *browser) expectRedirect(p page) string {
	b.t.Helper()
	if p.status != http.StatusSeeOther && p.status != http.StatusFound {
		b.t.Fatalf("status %d, want a redirect: %s", p.status, p.body)
	}
	loc, err := p.url.Parse(p.header.Get("Location"))
	must(b.t, err)
	return loc.String()
}

// htmlForm is the first form of a page, with fields found by label text.
type htmlForm struct {
	t       testing.TB
	action  string
	values  url.Values
	labels  map[string]string // label text → field name
	buttons map[string][2]string
}

var (
	reForm   = regexp.MustCompile(`(?s)<form([^>]*)>(.*?)</form>`)
	reAttr   = regexp.MustCompile(`([a-z-]+)="([^"]*)"`)
	reInput  = regexp.MustCompile(`<input([^>]*)>`)
	reLabel  = regexp.MustCompile(`<label for="([^"]+)">([^<]+)</label>`)
	reButton = regexp.MustCompile(`<button([^>]*)>([^<]+)</button>`)
)

func attrs(s string) map[string]string {
	m := map[string]string{}
	for _, a := range reAttr.FindAllStringSubmatch(s, -1) {
		m[a[1]] = html.UnescapeString(a[2])
	}
	return m
}

// parseForm returns the page's form that has the button.
func parseForm(t testing.TB, p page, base, button string) *htmlForm {
	t.Helper()
	if p.status != http.StatusOK {
		t.Fatalf("page status %d: %s", p.status, p.body)
	}
	for _, m := range reForm.FindAllStringSubmatch(p.body, -1) {
		if f := formFrom(t, m, base); f.buttons[button] != ([2]string{}) || strings.Contains(m[2], ">"+button+"<") {
			return f
		}
	}
	t.Fatalf("no form with a %q button in page: %s", button, p.body)
	return nil
}

func formFrom(t testing.TB, m []string, base string) *htmlForm {
	bu, err := url.Parse(base)
	must(t, err)
	au, err := bu.Parse(attrs(m[1])["action"])
	must(t, err)
	f := &htmlForm{t: t, action: au.String(), values: url.Values{}, labels: map[string]string{}, buttons: map[string][2]string{}}
	ids := map[string]string{}
	for _, in := range reInput.FindAllStringSubmatch(m[2], -1) {
		a := attrs(in[1])
		if a["id"] != "" {
			ids[a["id"]] = a["name"]
		}
		if a["type"] == "hidden" {
			f.values.Set(a["name"], a["value"])
		}
	}
	for _, l := range reLabel.FindAllStringSubmatch(m[2], -1) {
		f.labels[strings.TrimSpace(html.UnescapeString(l[2]))] = ids[l[1]]
	}
	for _, bt := range reButton.FindAllStringSubmatch(m[2], -1) {
		a := attrs(bt[1])
		f.buttons[strings.TrimSpace(html.UnescapeString(bt[2]))] = [2]string{a["name"], a["value"]}
	}
	return f
}

func (f *htmlForm) fill(label, value string) {
	f.t.Helper()
	name, ok := f.labels[label]
	if !ok || name == "" {
		f.t.Fatalf("no field labelled %q (have %v)", label, f.labels)
	}
	f.values.Set(name, value)
}

func (f *htmlForm) submit(b *browser, button string) page {
	f.t.Helper()
	bt, ok := f.buttons[button]
	if !ok {
		f.t.Fatalf("no button %q (have %v)", button, f.buttons)
	}
	if bt[0] != "" {
		f.values.Set(bt[0], bt[1])
	}
	return b.do(http.MethodPost, f.action, f.values)
}

// newEnvAsServed is an env with the bank's pages (withPages) wired as
// bankfeed serve wires them: a signed-in browser's authorization request is
// answered with the consent page (Config.SessionCookie, StartConsent,
// ConsentPage).
func newEnvAsServed(t *testing.T) (*env, *browser, store.User, string) {
	t.Helper()
	var e *env
	e = newEnv(t, envOpts{cfg: func(c *authz.Config) {
		c.SessionCookie = consent.SessionCookie
		c.StartConsent = func(c echo.Context, f store.AuthFlow, cl store.Client, ui string) (bool, error) {
			return e.pages.StartConsent(c, f, cl, ui)
		}
		c.ConsentPage = func(c echo.Context, challenge, ui string) error { return e.pages.ShowConsent(c, challenge, ui) }
	}})
	b, u, password := e.withPages(t)
	return e, b, u, password
}

// withPages mounts the bank's real pages (package consent) on e, gives e's
// user a known password with first sign-in done, and returns a browser that
// keeps cookies and shows each redirect, with the user and the password.
// Each of tweaks changes the pages' configuration first.
func (e *env) withPages(t *testing.T, tweaks ...func(*consent.Config)) (*browser, store.User, string) {
	t.Helper()
	// As serve wires them: Allow decides and finishes the flow in its own
	// request.
	cfg := consent.Config{Store: e.st, Issuer: e.iss, Now: e.clock.Now, Resume: e.srv.Resume, Finish: e.srv.Finish}
	for _, tweak := range tweaks {
		tweak(&cfg)
	}
	h, err := consent.New(cfg)
	must(t, err)
	h.Mount(e.echo)
	e.pages = h
	const password = "Correct-Horse-9-battery"
	return e.newBrowser(), e.withPassword(e.user, password), password
}

// withPassword gives u password, with its first sign-in done.
func (e *env) withPassword(u store.User, password string) store.User {
	e.t.Helper()
	hash, err := store.HashSecret(password)
	must(e.t, err)
	u, err = e.st.UpdateUser(e.ctx, u.ID, func(u store.User) (store.User, error) {
		u.PasswordHash, u.MustChangePassword = hash, false
		return u, nil
	})
	must(e.t, err)
	return u
}

// signIn signs b in at the sign-in page of iss, without a flow.
func (b *browser) signIn(iss, login, password string) {
	b.t.Helper()
	f := parseForm(b.t, b.do(http.MethodGet, iss+"/login", nil), iss+"/login", "Sign in")
	f.fill("User ID", login)
	f.fill("Password", password)
	b.expectRedirect(f.submit(b, "Sign in"))
}

// newBrowser is a browser that keeps cookies, starting with cookies (of
// e's server), and shows each redirect.
func (e *env) newBrowser(cookies ...*http.Cookie) *browser {
	e.t.Helper()
	jar, err := cookiejar.New(nil)
	must(e.t, err)
	iss, err := url.Parse(e.iss)
	must(e.t, err)
	jar.SetCookies(iss, cookies)
	return &browser{t: e.t, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// TestSignedInBrowserStartsAtTheConsentPage: with Config.SessionCookie set
// (as bankfeed serve sets it) a browser holding the bank's session cookie
// is sent from /oauth2/authorize to the consent page, which shows itself at
// once for a session that stands (issue 15: one request fewer per flow); a
// browser without the cookie, or with one whose session does not stand,
// signs in first, in the language asked for. The code is exchanged either
// way. Without SessionCookie every flow starts at the sign-in page.
func TestSignedInBrowserStartsAtTheConsentPage(t *testing.T) {
	e := newEnv(t, envOpts{cfg: func(c *authz.Config) { c.SessionCookie = consent.SessionCookie }})
	b, u, password := e.withPages(t)
	start := func(b *browser, extra url.Values) (loc, verifier string) {
		t.Helper()
		verifier = oauth2.GenerateVerifier()
		q := e.authorizeParams(e.vendor.ID, oauth2.S256ChallengeFromVerifier(verifier))
		for k, v := range extra {
			q[k] = v
		}
		return b.expectRedirect(b.do(http.MethodGet, e.iss+"/oauth2/authorize?"+q.Encode(), nil)), verifier
	}
	finish := func(b *browser, loc, verifier, allow string) {
		t.Helper()
		cb := b.toCallback(loc, allow)
		tr := e.token(url.Values{"grant_type": {"authorization_code"}, "code": {cb.Query().Get("code")}, "redirect_uri": {redirectURI},
			"code_verifier": {verifier}}, e.vendor.ID, e.secret)
		if tr.Status != http.StatusOK || tr.AccessToken == "" {
			t.Fatalf("token: %+v", tr)
		}
	}
	path := func(loc string) string {
		t.Helper()
		u, err := url.Parse(loc)
		must(t, err)
		return u.Path
	}

	// No cookie yet: the sign-in page.
	loc, verifier := start(b, nil)
	if path(loc) != "/login" {
		t.Fatalf("without a session: authorize sent the browser to %s", loc)
	}
	f := parseForm(t, b.do(http.MethodGet, loc, nil), loc, "Sign in")
	f.fill("User ID", u.LoginID)
	f.fill("Password", password)
	finish(b, b.expectRedirect(f.submit(b, "Sign in")), verifier, "Allow")

	// Signed in: the consent page, shown at once, in the language asked for.
	loc, verifier = start(b, url.Values{"ui_locales": {"fr-CA"}})
	if path(loc) != "/consent" {
		t.Fatalf("signed in: authorize sent the browser to %s", loc)
	}
	p := b.do(http.MethodGet, loc, nil)
	if p.status != http.StatusOK || !strings.Contains(p.body, `<html lang="fr"`) {
		t.Fatalf("consent page: status %d, want 200 in French: %.300s", p.status, p.body)
	}
	finish(b, loc, verifier, "Autoriser")

	// An overlong ui_locales is not passed on to the pages.
	loc, _ = start(b, url.Values{"ui_locales": {strings.Repeat("fr ", store.MaxUILocales/3+1)}})
	if l, err := url.Parse(loc); err != nil || l.Path != "/consent" || l.Query().Has("ui_locales") {
		t.Errorf("an overlong ui_locales: sent to %s, want the consent page without it", loc)
	}

	// A cookie whose session does not stand: the consent page sends the
	// browser to sign in, with the language.
	stale := e.newBrowser(&http.Cookie{Name: consent.SessionCookie, Value: "not-a-session", Path: "/"})
	loc, _ = start(stale, url.Values{"ui_locales": {"fr"}})
	loc = stale.expectRedirect(stale.do(http.MethodGet, loc, nil))
	if l, err := url.Parse(loc); err != nil || l.Path != "/login" || l.Query().Get("ui_locales") != "fr" || l.Query().Get("login_challenge") == "" {
		t.Fatalf("a session that does not stand: sent to %s, want the sign-in page", loc)
	}

	// Without SessionCookie, a signed-in browser still starts at sign-in.
	plain := newEnv(t, envOpts{})
	pb, pu, ppw := plain.withPages(t)
	verifier = oauth2.GenerateVerifier()
	q := plain.authorizeParams(plain.vendor.ID, oauth2.S256ChallengeFromVerifier(verifier))
	loc = pb.expectRedirect(pb.do(http.MethodGet, plain.iss+"/oauth2/authorize?"+q.Encode(), nil))
	f = parseForm(t, pb.do(http.MethodGet, loc, nil), loc, "Sign in")
	f.fill("User ID", pu.LoginID)
	f.fill("Password", ppw)
	pb.expectRedirect(f.submit(pb, "Sign in"))
	if loc = pb.expectRedirect(pb.do(http.MethodGet, plain.iss+"/oauth2/authorize?"+q.Encode(), nil)); path(loc) != "/login" {
		t.Errorf("without SessionCookie: a signed-in browser was sent to %s", loc)
	}
}

// TestAuthorizeShowsTheConsentPage: with Config.StartConsent and
// Config.ConsentPage (as bankfeed serve wires them) the authorization
// request of a browser holding the session cookie is answered with the
// consent page itself (issue 15: a
// request per flow fewer), with the consent page's security headers and
// the language asked for, its form posting to the consent page's route;
// Allow ends at the client with a code that is exchanged. Without the
// cookie the browser signs in first, as before; with a cookie whose
// session does not stand it is sent to sign in. Reloading the page of a
// pushed request shows it again to its user (RFC 9126 §7.3) and to nobody
// else; a pushed request whose flow waits at sign-in, or is decided, is
// used.
func TestAuthorizeShowsTheConsentPage(t *testing.T) {
	e, b, u, password := newEnvAsServed(t)
	signIn := func(b *browser, login, password string) { b.signIn(e.iss, login, password) }
	exchange := func(cb *url.URL, verifier string) {
		t.Helper()
		tr := e.token(url.Values{"grant_type": {"authorization_code"}, "code": {cb.Query().Get("code")}, "redirect_uri": {redirectURI},
			"code_verifier": {verifier}}, e.vendor.ID, e.secret)
		if tr.Status != http.StatusOK || tr.AccessToken == "" {
			t.Fatalf("token: %+v", tr)
		}
	}
	// authorizeURL is a pushed request's authorization URL.
	authorizeURL := func(extra url.Values) (string, string) {
		t.Helper()
		verifier := oauth2.GenerateVerifier()
		q := e.authorizeParams(e.vendor.ID, oauth2.S256ChallengeFromVerifier(verifier))
		for k, v := range extra {
			q[k] = v
		}
		resp := e.postForm("/oauth2/par", q, e.vendor.ID, e.secret)
		defer resp.Body.Close()
		var par struct {
			RequestURI string `json:"request_uri"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&par); err != nil || resp.StatusCode != http.StatusCreated {
			t.Fatalf("par: status %d, %v", resp.StatusCode, err)
		}
		return e.iss + "/oauth2/authorize?" + url.Values{"client_id": {e.vendor.ID}, "request_uri": {par.RequestURI}}.Encode(), verifier
	}

	// No cookie: the sign-in page, as before.
	authURL, _ := authorizeURL(nil)
	if loc := b.expectRedirect(b.do(http.MethodGet, authURL, nil)); !strings.HasPrefix(loc, e.iss+"/login?") {
		t.Fatalf("without a session: authorize sent the browser to %s", loc)
	}
	signIn(b, u.LoginID, password)
	// That request's flow waits at sign-in, shown to nobody: its
	// request_uri stays used, even for a browser signed in since.
	if used := b.do(http.MethodGet, authURL, nil); used.status != http.StatusBadRequest || strings.Contains(used.body, `value="allow"`) {
		t.Errorf("a request_uri whose flow is at sign-in, again: %d, want refused as used: %.300s", used.status, used.body)
	}

	// The user's account group holds one account of the business group
	// and names, by mistake, another business group's; the business group
	// has one more, outside the account group.
	otherBG, err := e.st.CreateBusinessGroup(e.ctx, store.BusinessGroup{ID: store.NewID("bg"), Name: "Other", LegalName: "Other Inc."})
	must(t, err)
	account := func(bg, nickname, number string) store.Account {
		le, err := e.st.CreateLegalEntity(e.ctx, store.LegalEntity{ID: store.NewID("le"), BusinessGroupID: bg, Name: nickname + " Ltd", LegalName: nickname + " Ltd."})
		must(t, err)
		a, err := e.st.CreateAccount(e.ctx, store.Account{ID: store.NewID("acc"), BusinessGroupID: bg, LegalEntityID: le.ID, Number: number,
			Nickname: nickname, Type: store.AccountChecking, Currency: "CAD", Status: store.AccountOpen, OpenedOn: store.MustDate("2024-01-15")})
		must(t, err)
		return a
	}
	inGroup, outside, otherGroups := account(e.group.ID, "Group operating", "00011-001-1111111"),
		account(e.group.ID, "Business savings", "00011-001-2222222"), account(otherBG.ID, "Other operating", "00011-001-3333333")
	access, err := e.st.UserAccess(e.ctx, u.ID)
	must(t, err)
	_, err = e.st.UpdateAccountGroup(e.ctx, access.Group.ID, func(g store.AccountGroup) (store.AccountGroup, error) {
		g.AccountIDs = []string{inGroup.ID, otherGroups.ID}
		return g, nil
	})
	must(t, err)

	// Signed in: the consent page in the authorization request's answer,
	// listing the account group's account of the user's business group
	// only.
	authURL, verifier := authorizeURL(url.Values{"ui_locales": {"fr-CA"}})
	p := b.do(http.MethodGet, authURL, nil)
	if p.status != http.StatusOK || !strings.Contains(p.body, `<html lang="fr"`) || !strings.Contains(p.body, `value="allow"`) {
		t.Fatalf("signed in: authorize answered %d, want the consent page in French: %.300s", p.status, p.body)
	}
	if !strings.Contains(p.body, inGroup.Nickname) || strings.Contains(p.body, outside.Nickname) || strings.Contains(p.body, otherGroups.Nickname) {
		t.Errorf("the page lists accounts outside the user's account group or business group: %s", p.body)
	}
	for h, want := range map[string]string{"X-Frame-Options": "DENY", "Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
		"X-Content-Type-Options": "nosniff"} {
		if got := p.header.Get(h); got != want {
			t.Errorf("the page's %s = %q, want %q", h, got, want)
		}
	}
	if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "form-action 'self'") {
		t.Errorf("the page's Content-Security-Policy = %q", csp)
	}
	f := parseForm(t, p, authURL, "Autoriser")
	if !strings.HasPrefix(f.action, e.iss+"/consent?login_challenge=") {
		t.Fatalf("the page's form posts to %s, want the consent page's route", f.action)
	}

	// A reload shows the same page to its user; another signed-in user
	// reloading it is refused, and the flow stays the first user's.
	again := b.do(http.MethodGet, authURL, nil)
	if again.status != http.StatusOK || parseForm(t, again, authURL, "Autoriser").action != f.action {
		t.Fatalf("a reload: %d, want the same consent page: %.300s", again.status, again.body)
	}
	other := e.withPassword(e.newUser(true, e.role), password)
	ob := e.newBrowser()
	signIn(ob, other.LoginID, password)
	if op := ob.do(http.MethodGet, authURL, nil); op.status != http.StatusNotFound || strings.Contains(op.body, `value="allow"`) {
		t.Errorf("another user's reload: %d, want the consent page's refusal: %.300s", op.status, op.body)
	}
	cb := b.toCallback(b.expectRedirect(f.submit(b, "Autoriser")), "Autoriser")
	exchange(cb, verifier)
	if used := b.do(http.MethodGet, authURL, nil); used.status != http.StatusBadRequest || strings.Contains(used.body, `value="allow"`) {
		t.Errorf("a reload once decided: %d, want the request_uri refused as used: %.300s", used.status, used.body)
	}

	// A cookie whose session does not stand: sent to sign in, with the
	// language, from the authorization request itself.
	stale := e.newBrowser(&http.Cookie{Name: consent.SessionCookie, Value: "not-a-session", Path: "/"})
	authURL, _ = authorizeURL(url.Values{"ui_locales": {"fr"}})
	loc := stale.expectRedirect(stale.do(http.MethodGet, authURL, nil))
	if l, err := url.Parse(loc); err != nil || l.Path != "/login" || l.Query().Get("ui_locales") != "fr" || l.Query().Get("login_challenge") == "" {
		t.Fatalf("a session that does not stand: sent to %s, want the sign-in page", loc)
	}
}

// TestAuthorizeStartsTheFlowAtConsent: as bankfeed serve wires it
// (Config.StartConsent), the authorization request of a signed-in browser
// stores its flow at consent, bound to the session's user from the start,
// and answers with its page; every later step works on that flow as
// stored: Allow ends with a code, a user who may share nothing is refused
// and the client gets access_denied, a user whose job role allows fewer
// scopes than asked gets no more, a first-party client gets its code
// without a page. A user who must make a first sign-in is sent to sign in,
// the flow stored at sign-in, and from there to the first sign-in.
func TestAuthorizeStartsTheFlowAtConsent(t *testing.T) {
	e, b, u, password := newEnvAsServed(t)
	b.signIn(e.iss, u.LoginID, password)
	authorize := func(b *browser, clientID string) page {
		t.Helper()
		q := e.authorizeParams(clientID, oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier()))
		return b.do(http.MethodGet, e.iss+"/oauth2/authorize?"+q.Encode(), nil)
	}
	challengeOf := func(loc string) string {
		t.Helper()
		l, err := url.Parse(loc)
		must(t, err)
		return l.Query().Get("login_challenge")
	}

	p := authorize(b, e.vendor.ID)
	f := parseForm(t, p, e.iss+"/oauth2/authorize", "Allow")
	flow, err := e.st.GetAuthFlow(e.ctx, challengeOf(f.action))
	must(t, err)
	if flow.State != store.FlowConsent || flow.UserID != u.ID || flow.AuthTime.IsZero() || flow.ClientID != e.vendor.ID {
		t.Fatalf("the flow as the authorization request stored it: %s for %q of %q at %v, want at consent for %s", flow.State, flow.UserID, flow.ClientID, flow.AuthTime, u.ID)
	}
	if cb := b.toCallback(b.expectRedirect(f.submit(b, "Allow")), "Allow"); cb.Query().Get("code") == "" {
		t.Fatalf("Allow: %s, want a code", cb)
	}

	// Nothing to share: refused on the page, access_denied at the client.
	clerk := e.withPassword(e.newUser(false, e.role), password)
	cb := e.newBrowser()
	cb.signIn(e.iss, clerk.LoginID, password)
	refused := authorize(cb, e.vendor.ID)
	back := regexp.MustCompile(`href="(/oauth2/authorize/resume\?[^"]+)"`).FindStringSubmatch(refused.body)
	if refused.status != http.StatusForbidden || back == nil {
		t.Fatalf("a user who may not connect accounting software: %d, want the refusal with a way back: %.400s", refused.status, refused.body)
	}
	denied := cb.toCallback(e.iss+html.UnescapeString(back[1]), "")
	if denied.Query().Get("error") != "access_denied" {
		t.Errorf("the refusal's way back: %s, want access_denied", denied)
	}

	// A job role allowing balances only: the page offers, and the token
	// carries, no scope beyond it.
	balances, err := e.st.CreateJobRole(e.ctx, store.JobRole{ID: store.NewID("role"), BusinessGroupID: e.group.ID, Name: "Balances only",
		Grants: store.Grants{{Permission: store.PermAccountSummary, Rights: store.Rights(store.RightView)}}})
	must(t, err)
	viewer := e.withPassword(e.newUser(true, balances), password)
	vb := e.newBrowser()
	vb.signIn(e.iss, viewer.LoginID, password)
	v := oauth2.GenerateVerifier()
	q := e.authorizeParams(e.vendor.ID, oauth2.S256ChallengeFromVerifier(v))
	authURL := e.iss + "/oauth2/authorize?" + q.Encode()
	vp := vb.do(http.MethodGet, authURL, nil)
	sees, notSees := scopewords.Describe("en", []string{store.ScopeAccountsRead}), scopewords.Describe("en", []string{store.ScopeStatementsRead})
	if len(sees) != 1 || len(notSees) != 1 || !strings.Contains(vp.body, html.EscapeString(sees[0])) || strings.Contains(vp.body, html.EscapeString(notSees[0])) {
		t.Errorf("a role allowing balances only: the page offers %q or not %q: %s", notSees, sees, vp.body)
	}
	code := vb.toCallback(vb.expectRedirect(parseForm(t, vp, authURL, "Allow").submit(vb, "Allow")), "Allow").Query().Get("code")
	tr := e.token(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {v}},
		e.vendor.ID, e.secret)
	if tr.Status != http.StatusOK || tr.Scope != "openid profile offline_access accounts.read" {
		t.Errorf("a role allowing balances only: token %d with scope %q, want accounts.read and the identity scopes only", tr.Status, tr.Scope)
	}

	// A first-party client: its code at once.
	bank, _, err := authz.CreateClient(e.ctx, e.st, authz.ClientSpec{Name: "Online banking", RedirectURIs: []string{redirectURI}, Secret: true, FirstParty: true})
	must(t, err)
	if fp := b.toCallback(b.expectRedirect(authorize(b, bank.ID)), ""); fp.Query().Get("code") == "" {
		t.Errorf("a first-party client: %s, want a code", fp)
	}

	// A first sign-in to make: sent to sign in, then on to the first sign-in.
	_, err = e.st.UpdateUser(e.ctx, u.ID, func(x store.User) (store.User, error) { x.MustChangePassword = true; return x, nil })
	must(t, err)
	loc := b.expectRedirect(authorize(b, e.vendor.ID))
	if !strings.HasPrefix(loc, e.iss+"/login?") {
		t.Fatalf("a user who must make a first sign-in: sent to %s, want the sign-in page", loc)
	}
	flow, err = e.st.GetAuthFlow(e.ctx, challengeOf(loc))
	must(t, err)
	if flow.State != store.FlowLogin || flow.UserID != "" {
		t.Errorf("that flow as stored: %s for %q, want at sign-in for nobody yet", flow.State, flow.UserID)
	}
	if next := b.expectRedirect(b.do(http.MethodGet, loc, nil)); !strings.HasPrefix(next, e.iss+"/login/first?") || challengeOf(next) != flow.ID {
		t.Errorf("the sign-in page sent the signed-in browser to %s, want the first sign-in of flow %s", next, flow.ID)
	}
}

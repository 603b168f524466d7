package consent

import (
	"bytes"
	"context"
	"crypto/subtle"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/internal/admission"
	"github.com/bankfeed/bankfeed/internal/branding"
	"github.com/bankfeed/bankfeed/metrics"
	"github.com/bankfeed/bankfeed/store"
)

//go:embed templates/*.html static/consent.css
var assets embed.FS

// Cookie names. The session cookie (SessionCookie) holds a random value
// whose hash is the store.BrowserSession ID; the CSRF cookie is the
// double-submit token of the sign-in form (before any session exists).
const (
	csrfCookie = "bankfeed_csrf"
	langCookie = "bankfeed_lang"
)

// SessionCookie names the sign-in session's cookie, for authz
// (authz.Config.SessionCookie): a browser that carries it starts a flow at
// the consent page, which judges the session (loadConsentStep).
const SessionCookie = "bankfeed_session"

// Paths this package serves and the one it hands back to.
const (
	pathLogin       = "/login"
	pathFirst       = "/login/first"
	pathConsent     = "/consent"
	pathConnections = "/account/connections"
	pathLogout      = "/logout"
	pathCSS         = "/assets/consent.css"
	pathLogo        = branding.LogoPath // branding.logo when it is a file
	pathResume      = "/oauth2/authorize/resume"
)

// maxFormBytes caps form bodies: the largest field is a 256-character password.
const maxFormBytes = 64 << 10

// Config is what the pages need. Zero values get the documented defaults.
type Config struct {
	Store  store.Store
	Issuer string // public base URL; https makes cookies Secure
	Logger *slog.Logger
	Now    func() time.Time // defaults to time.Now
	// MaxFailedAttempts in a row lock the user (default 5).
	MaxFailedAttempts int
	// LockoutDuration is how long such a lock lasts (default 15 minutes).
	LockoutDuration time.Duration
	// FailureWindow ends a run of failures when none came for that long
	// (default 24 hours), so that the failures of a login ID nobody holds
	// can be forgotten and a user's are forgotten the same way.
	FailureWindow time.Duration
	// LoginKeySecret keys the digests of login IDs nobody holds, under which
	// their failures are counted; empty: an unkeyed SHA-256.
	LoginKeySecret []byte
	// SessionLifespan bounds a browser session (default 30 minutes).
	SessionLifespan time.Duration
	// ConsentLifespan is how long a granted access lasts, shown on the consent
	// page; 0 means until disconnected or revoked.
	ConsentLifespan time.Duration
	// Metrics counts sign-ins and lockouts; nil: none.
	Metrics *metrics.Metrics
	// Admission, when set, admits the consent page's requests (GET and
	// POST): package admission's gate. The sign-in pages pass by it: a
	// password's hash waits in its own bounded queue (store's hashing
	// bound), and must not hold a slot meanwhile. A request the gate turns
	// away gets the "please try again" page with 503 and Retry-After.
	Admission *admission.Gate
	// RateLimitPerAddress and RateLimitPerLoginID are the sign-in attempts
	// per minute a client address and a typed login ID may make in this
	// process (token buckets); beyond, 429. 0 disables a limit.
	RateLimitPerAddress int
	RateLimitPerLoginID int
	// Home is where a browser signed in outside an OAuth flow goes
	// (default /account/connections); serve sets the administrators'
	// console, /business/, which sends users who administer nothing on to
	// the connected applications.
	Home string
	// Branding is the bank's name, logo, colour and support contact on
	// every page (branding.New).
	Branding branding.Branding
	// TemplatesDir overrides the embedded templates and stylesheet with
	// the files under TemplatesDir/consent (UIFiles); "": embedded only.
	TemplatesDir string
	// Resume, when set, finishes a decided flow in the request that
	// decided it and answers it (authz.Server.Resume, as serve wires it):
	// the browser goes straight to the vendor. nil: the browser is
	// redirected to the authorization server's resume endpoint.
	Resume func(c echo.Context, challenge, verifier string) error
	// Finish, when set, records Allow or Deny on the flow as the form's
	// request read it and finishes it, answering that request
	// (authz.Server.Finish, as serve wires it): one statement fewer than
	// deciding, then Resume. access is the flow's user's, read with it. It
	// answers store.ErrConflict, having answered nothing, when the flow
	// changed since read: the flow is then decided and resumed as without
	// it.
	Finish func(c echo.Context, read store.AuthFlow, access store.Access, d store.FlowDecision) error
}

// Handler serves the bank's pages; build it with New and Mount it.
type Handler struct {
	cfg       Config
	store     store.Store
	log       *slog.Logger
	now       func() time.Time
	pages     map[string]*template.Template
	pageEcho  *echo.Echo // contexts for pages rendered outside the router (AuthorizeErrorPage)
	css       []byte
	secure    bool
	issuer    string // scheme://host[:port] of the issuer, for form-action
	dummyHash string // verified for unknown users so timing does not tell them apart
	lockout   store.Lockout
	verify    func(ctx context.Context, hash, secret string) (bool, error) // store.VerifySecretContext; a seam for tests
	cop       *http.CrossOriginProtection
	// perAddress and perLoginID limit sign-in attempts (nil: no limit).
	perAddress, perLoginID *keyedLimiter
}

// pageNames are the templates that must exist (checked at start, like dex).
var pageNames = []string{"login", "first", "consent", "refused", "connections", "error"}

// New checks the configuration and parses the embedded templates.
func New(cfg Config) (*Handler, error) {
	if cfg.Store == nil {
		return nil, errors.New("consent: Config.Store is required")
	}
	u, err := url.Parse(cfg.Issuer)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("consent: Config.Issuer %q must be an absolute http(s) URL", cfg.Issuer)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxFailedAttempts <= 0 {
		cfg.MaxFailedAttempts = 5
	}
	if cfg.LockoutDuration <= 0 {
		cfg.LockoutDuration = 15 * time.Minute
	}
	if cfg.FailureWindow <= 0 {
		cfg.FailureWindow = 24 * time.Hour
	}
	if cfg.SessionLifespan <= 0 {
		cfg.SessionLifespan = 30 * time.Minute
	}
	if cfg.ConsentLifespan < 0 {
		return nil, errors.New("consent: Config.ConsentLifespan must not be negative")
	}
	if cfg.RateLimitPerAddress < 0 || cfg.RateLimitPerLoginID < 0 {
		return nil, errors.New("consent: sign-in rate limits must not be negative")
	}
	h := &Handler{
		cfg:      cfg,
		store:    cfg.Store,
		log:      cfg.Logger,
		now:      cfg.Now,
		pages:    map[string]*template.Template{},
		pageEcho: echo.New(),
		secure:   u.Scheme == "https",
		issuer:   u.Scheme + "://" + u.Host,
		cop:      http.NewCrossOriginProtection(),
		verify:   store.VerifySecretContext,
		lockout:  store.Lockout{MaxFailures: cfg.MaxFailedAttempts, Duration: cfg.LockoutDuration, Window: cfg.FailureWindow},

		perAddress: newKeyedLimiter(cfg.RateLimitPerAddress, cfg.Now),
		perLoginID: newKeyedLimiter(cfg.RateLimitPerLoginID, cfg.Now),
	}
	files, err := branding.UIFiles(cfg.TemplatesDir, "consent", assets)
	if err != nil {
		return nil, err
	}
	for _, name := range pageNames {
		t, err := template.New(name).ParseFS(files, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("consent: parse template %s: %w", name, err)
		}
		h.pages[name] = t
	}
	if h.css, err = fs.ReadFile(files, "static/consent.css"); err != nil {
		return nil, fmt.Errorf("consent: read stylesheet: %w", err)
	}
	h.css = cfg.Branding.Stylesheet(h.css)
	if h.dummyHash, err = store.HashSecret(store.RandomToken(16)); err != nil {
		return nil, fmt.Errorf("consent: dummy hash: %w", err)
	}
	return h, nil
}

// Mount registers the pages on e.
func (h *Handler) Mount(e *echo.Echo) { h.routes(e) }

// routes is the table of contents of the bank's pages.
func (h *Handler) routes(e *echo.Echo) {
	mw := []echo.MiddlewareFunc{h.headers}
	e.GET(pathLogin, h.handleLogin, mw...)
	e.POST(pathLogin, h.handleLoginPost, mw...)
	e.GET(pathFirst, h.handleFirst, mw...)
	e.POST(pathFirst, h.handleFirstPost, mw...)
	admitted := h.cfg.Admission.First(h.headers(h.busy), mw...)
	e.GET(pathConsent, h.handleConsent, admitted...)
	e.POST(pathConsent, h.handleConsentPost, admitted...)
	e.GET(pathConnections, h.handleConnections, mw...)
	e.POST(pathConnections+"/:id/disconnect", h.handleDisconnect, mw...)
	e.POST(pathLogout, h.handleLogout, mw...)
	e.GET(pathCSS, h.handleCSS, mw...)
	if logo, _ := h.cfg.Branding.LogoFile(); logo != nil {
		e.GET(pathLogo, h.handleLogo, mw...)
	}
}

// ShowConsent answers c, a request to another route (authz's authorization
// request reloading the page StartConsent showed, authz.Config.ConsentPage),
// with what the consent page answers at
// pathConsent?login_challenge=challenge&ui_locales=uiLocales: the same
// page, headers and judgments, as if the browser had been redirected
// there. The request was admitted by its own route's gate. The page's
// links and form name pathConsent, so a language switch or the form's
// post land on the consent page's own route.
func (h *Handler) ShowConsent(c echo.Context, challenge, uiLocales string) error {
	return h.asConsentRoute(c, challenge, uiLocales, h.handleConsent)
}

// StartConsent answers c, the authorization request of a browser that
// carries the session cookie (authz.Config.StartConsent), with the consent
// page of its new flow f (of client cl, as authz read it): when the
// session stands and its user may consent now, f is stored at consent for
// that user, with the accounts the page lists read by the same step
// (store.FlowStore.CreateAuthFlowAccounts), and the page is what
// ShowConsent would answer for it; the flow's first viewer is its user
// from the start. Where the page would send the browser elsewhere (no
// session that stands, a first sign-in to make), nothing is answered or
// stored (shown false, nil): the caller stores f and sends the browser to
// sign in, whose page sends a signed-in browser on. An error with shown
// false is the store's, nothing answered (store.ErrConflict: f's ID is
// used).
func (h *Handler) StartConsent(c echo.Context, f store.AuthFlow, cl store.Client, uiLocales string) (shown bool, err error) {
	s, access, ok, err := h.sessionAccess(c)
	if err != nil || !ok || needsFirstSignIn(access.User) {
		return false, err
	}
	if cl, err = vendorOf(f.ClientID, cl); err != nil {
		return false, err
	}
	if f, err = h.toConsent(s)(f); err != nil {
		return false, err
	}
	f, accounts, entities, err := h.store.CreateAuthFlowAccounts(c.Request().Context(), f, access.User.BusinessGroupID, access.Group.AccountIDs)
	if err != nil {
		return false, fmt.Errorf("consent: create flow at consent: %w", err)
	}
	st := consentStep{s: s, u: access.User, access: access, flow: f, client: cl, listed: &listedAccounts{accounts: accounts, entities: entities}}
	return true, h.asConsentRoute(c, f.ID, uiLocales, func(c echo.Context) error { return h.showStep(c, st) })
}

// asConsentRoute runs next, with the consent route's headers, on c
// rewritten as GET pathConsent?login_challenge=challenge&ui_locales=uiLocales.
func (h *Handler) asConsentRoute(c echo.Context, challenge, uiLocales string, next echo.HandlerFunc) error {
	q := url.Values{"login_challenge": {challenge}}
	if uiLocales != "" {
		q.Set("ui_locales", uiLocales)
	}
	r := c.Request().Clone(c.Request().Context())
	r.Method, r.Body, r.Form, r.PostForm = http.MethodGet, http.NoBody, nil, nil
	r.URL = &url.URL{Path: pathConsent, RawQuery: q.Encode()}
	r.RequestURI = r.URL.RequestURI()
	// A context of its own: echo's keeps the query it parsed first.
	return h.headers(next)(c.Echo().NewContext(r, c.Response()))
}

// busy answers a consent page request the admission gate turned away (too
// many waiting): nothing was read or changed.
func (h *Handler) busy(c echo.Context) error {
	c.Response().Header().Set("Retry-After", admission.RetryAfter)
	return h.renderError(c, http.StatusServiceUnavailable, errBusy, admission.ErrBusy)
}

// csp is the page policy; extra form-action sources are the vendor's
// redirect origins on the consent page, because browsers apply form-action to
// the redirects that follow a form post (Allow → [resume →] vendor).
func (h *Handler) csp(formAction ...string) string {
	return h.cfg.Branding.CSP(h.issuer, formAction...)
}

// headers sets the security headers on every response of these routes and
// caps form bodies.
func (h *Handler) headers(next echo.HandlerFunc) echo.HandlerFunc {
	return branding.Secure(func() string { return h.csp() }, maxFormBytes)(next)
}

func (h *Handler) handleCSS(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "public, max-age=3600")
	return c.Blob(http.StatusOK, "text/css; charset=utf-8", h.css)
}

// handleLogo serves branding.logo's file from our origin.
func (h *Handler) handleLogo(c echo.Context) error {
	logo, typ := h.cfg.Branding.LogoFile()
	c.Response().Header().Set("Cache-Control", "public, max-age=3600")
	return c.Blob(http.StatusOK, typ, logo)
}

// base is what every page template gets.
type base struct {
	Brand       branding.Branding
	L           msgs
	Lang        string
	Title       string
	SwitchHref  string
	SwitchLang  string
	SwitchLabel string
	CSRF        string // the token for this page's forms
	User        string // display name when signed in (shows the sign-out form)
	SessionCSRF string // token of the sign-out form
	Links       bool   // show the Connected applications link
}

// newBase prepares the language (remembering an explicit ?lang= choice in a
// cookie) and the switch link to the same page in the other language.
func (h *Handler) newBase(c echo.Context, titleKey string) base {
	r := c.Request()
	lang, fromQuery := languageOf(r)
	if fromQuery {
		h.setCookie(c, langCookie, lang, 365*24*time.Hour)
	}
	other := langFR
	if lang == langFR {
		other = langEN
	}
	q := url.Values{}
	if ch := r.URL.Query().Get("login_challenge"); ch != "" {
		q.Set("login_challenge", ch)
	}
	q.Set("lang", other)
	path := pathForSwitch(r.URL.Path)
	l := catalogue(lang)
	return base{
		Brand: h.cfg.Branding, L: l, Lang: lang, Title: l.T(titleKey),
		SwitchHref: path + "?" + q.Encode(), SwitchLang: other, SwitchLabel: l.T("other_lang"),
	}
}

// pathForSwitch is the page (by GET) that shows what a request path shows.
func pathForSwitch(p string) string {
	switch p {
	case pathLogin, pathFirst, pathConsent:
		return p
	}
	if strings.HasPrefix(p, pathConnections) {
		return pathConnections
	}
	return pathLogin
}

func (h *Handler) withSession(b base, s store.BrowserSession, u store.User) base {
	b.User = u.DisplayName
	if b.User == "" {
		b.User = u.LoginID
	}
	b.SessionCSRF = s.CSRFToken
	b.Links = true
	return b
}

// render executes a page into a buffer first so that a failure never leaves
// half a page; it sends the page with status.
func (h *Handler) render(c echo.Context, status int, name string, data any) error {
	var buf bytes.Buffer
	t, ok := h.pages[name]
	if !ok {
		return h.fatal(c, fmt.Errorf("consent: no template %q", name))
	}
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		return h.fatal(c, fmt.Errorf("consent: render %s: %w", name, err))
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// fatal is the last resort when even the error page cannot be rendered.
func (h *Handler) fatal(c echo.Context, err error) error {
	h.log.ErrorContext(c.Request().Context(), "consent: page failed", "request_id", requestID(c), "err", err)
	return c.String(http.StatusInternalServerError, "Internal error / Erreur interne. "+requestID(c))
}

// errKind selects the text of an error page.
type errKind int

const (
	errInternal errKind = iota
	errExpired
	errAnswered
	errCSRF
	errNotFound
	errBadRequest
	errBusy
	errUnavailable // the database is unavailable: 503, try again later
)

// unavailableRetryAfter is the Retry-After (seconds) of a page answered
// while the database is unavailable.
const unavailableRetryAfter = "5"

type errorPage struct {
	base
	Body      string
	Code      string // an OAuth error code, for the application's support
	Reference string
}

// renderError is the one way error pages are shown: generic text for the
// user, the detail in the log with the request ID.
func (h *Handler) renderError(c echo.Context, status int, kind errKind, err error) error {
	ctx := c.Request().Context()
	rid := requestID(c)
	if errors.Is(err, store.ErrUnavailable) {
		// A database outage (issue 11, finding 2) is no one's mistake and
		// refused nothing: whatever the caller made of the error, the page
		// says to try again, with 503 and Retry-After.
		status, kind = http.StatusServiceUnavailable, errUnavailable
		c.Response().Header().Set("Retry-After", unavailableRetryAfter)
	}
	title, body := "error_title", "error_generic"
	switch kind {
	case errExpired:
		title, body = "expired_title", "expired_body"
	case errAnswered:
		title, body = "answered_title", "answered_body"
	case errCSRF:
		title, body = "csrf_title", "csrf_body"
	case errNotFound:
		title, body = "not_found_title", "not_found_body"
	case errBadRequest:
		body = "bad_request_body"
	case errBusy:
		title, body = "busy_title", "signin_busy"
	case errUnavailable:
		title, body = "busy_title", "unavailable_body"
	}
	level := slog.LevelInfo
	// A client gone (net/http cancelled the request when its connection
	// closed) made the page fail, not the server (issue 15); a refusal
	// under load (errBusy) is no failure either: the metrics count those.
	if status >= 500 && kind != errBusy && !errors.Is(ctx.Err(), context.Canceled) {
		level = slog.LevelError
	}
	h.log.Log(ctx, level, "consent: error page", "request_id", rid, "status", status, "path", c.Request().URL.Path, "err", err)
	b := h.newBase(c, title)
	p := errorPage{base: b, Body: b.L.T(body)}
	if rid != "" {
		p.Reference = b.L.F("error_reference", rid)
	}
	return h.render(c, status, "error", p)
}

// requestID is the ID echo's RequestID middleware put on the response (or
// the one the client sent), for matching a page to the log.
func requestID(c echo.Context) string {
	if id := c.Response().Header().Get(echo.HeaderXRequestID); id != "" {
		return id
	}
	return c.Request().Header.Get(echo.HeaderXRequestID)
}

// setCookie writes a cookie with the house attributes; maxAge 0 makes a
// browser-session cookie, negative deletes it.
func (h *Handler) setCookie(c echo.Context, name, value string, maxAge time.Duration) {
	ck := &http.Cookie{
		Name: name, Value: value, Path: "/",
		HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteLaxMode,
	}
	switch {
	case maxAge < 0:
		ck.MaxAge = -1
	case maxAge > 0:
		ck.MaxAge = int(maxAge / time.Second)
	}
	c.SetCookie(ck)
}

// preCSRF returns the double-submit token for the sign-in form, setting its
// cookie when the browser has none yet.
func (h *Handler) preCSRF(c echo.Context) string {
	if ck, err := c.Cookie(csrfCookie); err == nil && len(ck.Value) >= 32 && len(ck.Value) <= 64 {
		return ck.Value
	}
	v := store.RandomToken(32)
	h.setCookie(c, csrfCookie, v, 0)
	return v
}

// checkPreCSRF verifies the sign-in form's token against its cookie.
func (h *Handler) checkPreCSRF(c echo.Context) bool {
	if h.cop.Check(c.Request()) != nil {
		return false
	}
	ck, err := c.Cookie(csrfCookie)
	if err != nil || len(ck.Value) < 32 {
		return false
	}
	return tokensEqual(ck.Value, c.FormValue("csrf"))
}

// checkSessionCSRF verifies a signed-in form's token against the session.
func (h *Handler) checkSessionCSRF(c echo.Context, s store.BrowserSession) bool {
	if h.cop.Check(c.Request()) != nil {
		return false
	}
	return s.CSRFToken != "" && tokensEqual(s.CSRFToken, c.FormValue("csrf"))
}

func tokensEqual(a, b string) bool {
	return b != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// session returns the browser's valid session and its user, ok=false when
// there is none (or it expired, or the user may no longer sign in).
func (h *Handler) session(c echo.Context) (store.BrowserSession, store.User, bool, error) {
	s, a, ok, err := h.sessionAccess(c)
	return s, a.User, ok, err
}

// sessionAccess is session with the user's own assignment, job role and
// account group (entitlementOf's records), read in the same statement: the
// consent page needs both, and reading them one at a time cost the flow
// four round trips on each of its GET and POST (issue 15).
func (h *Handler) sessionAccess(c echo.Context) (store.BrowserSession, store.Access, bool, error) {
	ctx := c.Request().Context()
	id, ok := sessionCookieID(c)
	if !ok {
		return store.BrowserSession{}, store.Access{}, false, nil
	}
	s, a, err := h.store.SessionAccess(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.BrowserSession{}, store.Access{}, false, nil
	}
	if err != nil {
		return store.BrowserSession{}, store.Access{}, false, fmt.Errorf("consent: get browser session: %w", err)
	}
	return h.judgeSession(ctx, id, s, a)
}

// sessionCookieID is the store ID of the browser's session cookie, if it
// sent one that could be ours.
func sessionCookieID(c echo.Context) (string, bool) {
	ck, err := c.Cookie(SessionCookie)
	if err != nil || ck.Value == "" || len(ck.Value) > 128 {
		return "", false
	}
	return store.HashToken(ck.Value), true
}

// judgeSession is whether the session read under id (zero when there is
// none) stands: unexpired, its user there and still allowed to sign in.
// A session whose user may no longer sign in is deleted.
func (h *Handler) judgeSession(ctx context.Context, id string, s store.BrowserSession, a store.Access) (store.BrowserSession, store.Access, bool, error) {
	now := h.now()
	if s.ID == "" || !now.Before(s.ExpiresAt) {
		return store.BrowserSession{}, store.Access{}, false, nil
	}
	if a.User.ID == "" || !a.User.CanSignIn(now) {
		// Deleted, locked or gone: the session ends here.
		if derr := h.store.DeleteBrowserSession(ctx, id); derr != nil && !errors.Is(derr, store.ErrNotFound) {
			return store.BrowserSession{}, store.Access{}, false, fmt.Errorf("consent: delete browser session: %w", derr)
		}
		return store.BrowserSession{}, store.Access{}, false, nil
	}
	return s, a, true, nil
}

// sessionFlow is what the consent page and its form read: the browser's
// session (judged as sessionAccess judges it) and the flow with its client
// (judged by judgeFlow, flowErr its refusal).
type sessionFlow struct {
	s        store.BrowserSession
	access   store.Access
	signedIn bool
	flow     store.AuthFlow
	client   store.Client
	flowErr  error
}

// sessionAccessFlow reads the session and the flow in one statement
// (store.AccessStore.SessionAccessFlow; the consent page and its form read
// them one after the other, issue 15). Without a session cookie nothing
// is read: the page sends the browser to sign in without its flow.
func (h *Handler) sessionAccessFlow(c echo.Context, challenge string) (sessionFlow, error) {
	ctx := c.Request().Context()
	id, ok := sessionCookieID(c)
	if !ok {
		return sessionFlow{}, nil
	}
	if !validChallenge(challenge) {
		challenge = ""
	}
	r, err := h.store.SessionAccessFlow(ctx, id, challenge)
	if err != nil {
		return sessionFlow{}, fmt.Errorf("consent: get browser session and flow: %w", err)
	}
	var out sessionFlow
	if out.s, out.access, out.signedIn, err = h.judgeSession(ctx, id, r.Session, r.Access); err != nil {
		return sessionFlow{}, err
	}
	out.flow, out.client, out.flowErr = h.judgeFlow(r.Flow, r.Client)
	return out, nil
}

// startSession signs the browser in as u with a fresh session (any previous
// one of this browser is dropped, so a planted cookie is never promoted).
func (h *Handler) startSession(c echo.Context, u store.User) (store.BrowserSession, error) {
	ctx := c.Request().Context()
	if ck, err := c.Cookie(SessionCookie); err == nil && ck.Value != "" && len(ck.Value) <= 128 {
		if err := h.store.DeleteBrowserSession(ctx, store.HashToken(ck.Value)); err != nil && !errors.Is(err, store.ErrNotFound) {
			return store.BrowserSession{}, fmt.Errorf("consent: drop old session: %w", err)
		}
	}
	now := h.now()
	v := store.RandomToken(32)
	s := store.BrowserSession{
		ID:        store.HashToken(v),
		UserID:    u.ID,
		AuthTime:  now,
		CSRFToken: store.RandomToken(32),
		ExpiresAt: now.Add(h.cfg.SessionLifespan),
		CreatedAt: now,
	}
	if err := h.store.CreateBrowserSession(ctx, s); err != nil {
		return store.BrowserSession{}, fmt.Errorf("consent: create browser session: %w", err)
	}
	h.setCookie(c, SessionCookie, v, 0)
	return s, nil
}

// needsFirstSignIn: the temporary password must be replaced and a security
// question chosen before anything else works (the article's rule 5).
func needsFirstSignIn(u store.User) bool {
	return u.Status == store.UserAwaitingSignIn || u.MustChangePassword
}

// withChallenge appends ?login_challenge= to path when there is one.
func withChallenge(path, challenge string, extra ...string) string {
	q := url.Values{}
	if challenge != "" {
		q.Set("login_challenge", challenge)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// loadFlow fetches a live flow; an empty, unknown or expired challenge is
// store.ErrNotFound.
func (h *Handler) loadFlow(ctx context.Context, challenge string) (store.AuthFlow, error) {
	if challenge == "" || len(challenge) > 256 {
		return store.AuthFlow{}, fmt.Errorf("consent: flow: %w", store.ErrNotFound)
	}
	f, err := h.store.GetAuthFlow(ctx, challenge)
	if err != nil {
		return store.AuthFlow{}, fmt.Errorf("consent: get flow: %w", err)
	}
	if !f.ExpiresAt.IsZero() && !h.now().Before(f.ExpiresAt) {
		return store.AuthFlow{}, fmt.Errorf("consent: flow expired: %w", store.ErrNotFound)
	}
	return f, nil
}

func validChallenge(challenge string) bool { return challenge != "" && len(challenge) <= 256 }

// judgeFlow refuses a flow read as zero (none) or expired by the server's
// clock.
func (h *Handler) judgeFlow(f store.AuthFlow, cl store.Client) (store.AuthFlow, store.Client, error) {
	if f.ID == "" {
		return store.AuthFlow{}, store.Client{}, fmt.Errorf("consent: get flow: %w", store.ErrNotFound)
	}
	if !f.ExpiresAt.IsZero() && !h.now().Before(f.ExpiresAt) {
		return store.AuthFlow{}, store.Client{}, fmt.Errorf("consent: flow expired: %w", store.ErrNotFound)
	}
	return f, cl, nil
}

// flowError shows the page that fits a flow lookup failure.
func (h *Handler) flowError(c echo.Context, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return h.renderError(c, http.StatusNotFound, errExpired, err)
	}
	if errors.Is(err, store.ErrConflict) {
		return h.renderError(c, http.StatusConflict, errAnswered, err)
	}
	return h.renderError(c, http.StatusInternalServerError, errInternal, err)
}

// continueSignedIn sends a signed-in browser to its next step: first
// sign-in, the consent page of its flow, or the connected applications.
// read is the flow as the caller read it, if it did (zero otherwise).
func (h *Handler) continueSignedIn(c echo.Context, s store.BrowserSession, u store.User, challenge string, read store.AuthFlow) error {
	if needsFirstSignIn(u) {
		return c.Redirect(http.StatusSeeOther, withChallenge(pathFirst, challenge))
	}
	if challenge == "" {
		home := h.cfg.Home
		if home == "" {
			home = pathConnections
		}
		return c.Redirect(http.StatusSeeOther, home)
	}
	if _, err := h.advanceToConsent(c.Request().Context(), challenge, s, read); err != nil {
		return h.flowError(c, err)
	}
	return c.Redirect(http.StatusSeeOther, withChallenge(pathConsent, challenge))
}

// advanceToConsent moves the flow from login to consent for the session's
// user (idempotent for the same user; never backwards) and returns it as
// written. read is the flow as the caller read it, if it did.
func (h *Handler) advanceToConsent(ctx context.Context, challenge string, s store.BrowserSession, read store.AuthFlow) (store.AuthFlow, error) {
	if challenge == "" || len(challenge) > 256 {
		return store.AuthFlow{}, fmt.Errorf("consent: flow: %w", store.ErrNotFound)
	}
	f, err := h.updateFlow(ctx, challenge, read, h.toConsent(s))
	if err != nil {
		return store.AuthFlow{}, fmt.Errorf("consent: advance flow to consent: %w", err)
	}
	return f, nil
}

// advanceListing is advanceToConsent of the flow the consent page read,
// listing the accounts of a's account group in the same step
// (store.FlowStore.UpdateReadAuthFlowAccounts); which of them the page may
// show is entitlementListed's to judge. When the flow changed since read,
// it is advanceToConsent on the flow read afresh, with nothing listed.
func (h *Handler) advanceListing(ctx context.Context, challenge string, s store.BrowserSession, read store.AuthFlow, a store.Access) (store.AuthFlow, *listedAccounts, error) {
	if read.ID != challenge || read.Version == 0 || len(a.Group.AccountIDs) == 0 {
		f, err := h.advanceToConsent(ctx, challenge, s, read)
		return f, nil, err
	}
	f, accounts, entities, err := h.store.UpdateReadAuthFlowAccounts(ctx, read, h.toConsent(s), a.User.BusinessGroupID, a.Group.AccountIDs)
	if errors.Is(err, store.ErrConflict) {
		f, err := h.advanceToConsent(ctx, challenge, s, store.AuthFlow{}) // read afresh, as updateFlow
		return f, nil, err
	}
	if err != nil {
		return store.AuthFlow{}, nil, fmt.Errorf("consent: advance flow to consent: %w", err)
	}
	return f, &listedAccounts{accounts: accounts, entities: entities}, nil
}

// toConsent judges a flow for advanceToConsent and moves it.
func (h *Handler) toConsent(s store.BrowserSession) func(store.AuthFlow) (store.AuthFlow, error) {
	now := h.now()
	return func(f store.AuthFlow) (store.AuthFlow, error) {
		if !f.ExpiresAt.IsZero() && !now.Before(f.ExpiresAt) {
			return f, fmt.Errorf("flow expired: %w", store.ErrNotFound)
		}
		switch {
		case f.State == store.FlowLogin:
		case f.State == store.FlowConsent && f.UserID == s.UserID:
			return f, nil
		case f.State == store.FlowConsent:
			// Another user of this browser signed in meanwhile: not theirs.
			return f, fmt.Errorf("flow belongs to another user: %w", store.ErrNotFound)
		default:
			return f, fmt.Errorf("flow already %s: %w", f.State, store.ErrConflict)
		}
		f.State = store.FlowConsent
		f.UserID = s.UserID
		f.AuthTime = s.AuthTime
		return f, nil
	}
}

// updateFlow moves flow id by fn. When the caller read the flow already
// (read), fn judges that read and the write holds only while the flow is
// unchanged since (UpdateReadAuthFlow): the page's read is not repeated
// (issue 15). If the flow changed meanwhile, or fn refuses the read, the
// flow is read again and judged afresh (UpdateAuthFlow), as without a
// read: every check runs on the flow as it is.
func (h *Handler) updateFlow(ctx context.Context, id string, read store.AuthFlow, fn func(store.AuthFlow) (store.AuthFlow, error)) (store.AuthFlow, error) {
	if read.ID == id && read.Version != 0 {
		f, err := h.store.UpdateReadAuthFlow(ctx, read, fn)
		if !errors.Is(err, store.ErrConflict) {
			return f, err
		}
	}
	return h.store.UpdateAuthFlow(ctx, id, fn)
}

// vendor is the flow's client, named by its ID when it has no name.
func (h *Handler) vendor(ctx context.Context, clientID string) (store.Client, error) {
	cl, err := h.store.GetClient(ctx, clientID)
	if err != nil {
		return store.Client{}, fmt.Errorf("consent: get client %q: %w", clientID, err)
	}
	return vendorOf(clientID, cl)
}

// vendorOf is vendor for a client read already (sessionAccessFlow): a zero
// client, gone, is store.ErrNotFound as GetClient's.
func vendorOf(clientID string, cl store.Client) (store.Client, error) {
	if cl.ID == "" {
		return store.Client{}, fmt.Errorf("consent: get client %q: %w", clientID, store.ErrNotFound)
	}
	if cl.Name == "" {
		cl.Name = cl.ID
	}
	return cl, nil
}

// formatDate and formatDateTime show times in the bank's zone.
func formatDate(t time.Time) string { return t.In(store.Toronto()).Format("2006-01-02") }

func formatDateTime(t time.Time) string {
	return t.In(store.Toronto()).Format("2006-01-02 15:04 MST")
}

package console

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base32"
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

	"github.com/bankfeed/bankfeed/admin"
	"github.com/bankfeed/bankfeed/internal/audit"
	"github.com/bankfeed/bankfeed/internal/branding"
	"github.com/bankfeed/bankfeed/store"
)

//go:embed templates/*.html static/console.css
var assets embed.FS

// The bank's pages' cookies (package consent): the console reads the
// sign-in session and the language choice, and sets only the latter.
const (
	sessionCookie = "bankfeed_session"
	langCookie    = "bankfeed_lang"
)

// Paths.
const (
	prefix          = "/business"
	pathCSS         = prefix + "/assets/console.css"
	pathLogin       = "/login"
	pathFirst       = "/login/first"
	pathConnections = "/account/connections"
)

// maxFormBytes caps form bodies: the largest is the job role grid.
const maxFormBytes = 64 << 10

// Config is what the console needs.
type Config struct {
	Store  store.Store   // required: sessions
	Admin  *admin.Server // required: every operation
	Issuer string        // public base URL; its origin is the form-action source
	Logger *slog.Logger
	Now    func() time.Time
	// Branding is the bank's brand, as on its other pages; its logo file
	// is served by package consent at the same origin.
	Branding branding.Branding
	// TemplatesDir overrides the embedded templates and stylesheet with
	// the files under TemplatesDir/console; "": embedded only.
	TemplatesDir string
}

// Handler serves the console; build it with New and Mount it.
type Handler struct {
	st     store.Store
	adm    *admin.Server
	log    *slog.Logger
	now    func() time.Time
	issuer string
	pages  map[string]*template.Template
	css    []byte
	cop    *http.CrossOriginProtection
	brand  branding.Branding
}

// pageNames are the templates that must exist (checked at start).
var pageNames = []string{"home", "users", "roles", "role", "groups", "group", "approvals", "notifications", "connections", "audit", "contexts", "error"}

// New checks cfg and parses the embedded templates.
func New(cfg Config) (*Handler, error) {
	if cfg.Store == nil || cfg.Admin == nil {
		return nil, errors.New("console: Config.Store and Config.Admin are required")
	}
	u, err := url.Parse(cfg.Issuer)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("console: Config.Issuer %q must be an absolute http(s) URL", cfg.Issuer)
	}
	h := &Handler{st: cfg.Store, adm: cfg.Admin, log: cfg.Logger, now: cfg.Now, issuer: u.Scheme + "://" + u.Host,
		pages: map[string]*template.Template{}, cop: http.NewCrossOriginProtection(), brand: cfg.Branding}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.now == nil {
		h.now = time.Now
	}
	files, err := branding.UIFiles(cfg.TemplatesDir, "console", assets)
	if err != nil {
		return nil, err
	}
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(funcs).ParseFS(files, "templates/layout.html", "templates/forms.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("console: parse template %s: %w", name, err)
		}
		h.pages[name] = t
	}
	if h.css, err = fs.ReadFile(files, "static/console.css"); err != nil {
		return nil, fmt.Errorf("console: read stylesheet: %w", err)
	}
	h.css = cfg.Branding.Stylesheet(h.css)
	return h, nil
}

var funcs = template.FuncMap{
	"has": func(set map[string]bool, key string) bool { return set[key] },
}

// Mount registers the pages on e.
func (h *Handler) Mount(e *echo.Echo) {
	g := e.Group(prefix, h.headers)
	g.GET("/assets/console.css", h.handleCSS)
	g.GET("", func(c echo.Context) error { return c.Redirect(http.StatusSeeOther, prefix+"/") })
	g.GET("/", h.page(h.handleHome))
	g.GET("/users", h.page(h.handleUsers))
	g.POST("/users", h.form(h.handleAddUser))
	g.POST("/users/:id/:action", h.form(h.handleUserAction))
	g.GET("/job-roles", h.page(h.handleRoles))
	g.POST("/job-roles", h.form(h.handleCreateRole))
	g.GET("/job-roles/:id", h.page(h.handleRole))
	g.POST("/job-roles/:id", h.form(h.handleEditRole))
	g.GET("/account-groups", h.page(h.handleGroups))
	g.POST("/account-groups", h.form(h.handleCreateGroup))
	g.GET("/account-groups/:id", h.page(h.handleGroup))
	g.POST("/account-groups/:id", h.form(h.handleEditGroup))
	g.GET("/approvals", h.page(h.handleApprovals))
	g.POST("/approvals/:id/:action", h.form(h.handleDecide))
	g.GET("/notifications", h.page(h.handleNotifications))
	g.POST("/notifications/read", h.form(h.handleMarkAllRead))
	g.GET("/connections", h.page(h.handleConnections))
	g.POST("/connections/:id/disconnect", h.form(h.handleDisconnect))
	g.GET("/audit", h.page(h.handleAudit))
	g.GET("/context", h.page(h.handleContexts))
	g.POST("/context", h.form(h.handleChooseContext))
	g.RouteNotFound("/*", h.page(func(c echo.Context, s *signedIn) error {
		return h.renderError(c, s, http.StatusNotFound, s.L.T("not_found"))
	}))
}

// headers are the consent pages' security headers and form cap.
func (h *Handler) headers(next echo.HandlerFunc) echo.HandlerFunc {
	return branding.Secure(h.csp, maxFormBytes)(next)
}

// csp allows only this origin, the brand's logo origin, and forms to the
// issuer.
func (h *Handler) csp() string {
	return h.brand.CSP(h.issuer)
}

func (h *Handler) handleCSS(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "public, max-age=3600")
	return c.Blob(http.StatusOK, "text/css; charset=utf-8", h.css)
}

// signedIn is the administrator behind a request, with what every page
// shows: the language, the navigation and the session's CSRF token.
type signedIn struct {
	Admin   admin.Admin
	Session store.BrowserSession
	L       msgs
	Lang    string
	Nav     []navItem
	Pending int
	// Contexts are where the administrator may administer from (the
	// chooser offers them when there are several); Context is the name of
	// the one in use, shown in the header.
	Contexts []adminContext
	Context  string
}

type navItem struct {
	Label, Href string
	Current     bool
	Count       int
}

// page runs a GET page for the signed-in administrator; no session sends
// the browser to the sign-in page, a pending first sign-in to it.
func (h *Handler) page(fn func(echo.Context, *signedIn) error) echo.HandlerFunc {
	return h.guard(false, fn)
}

// form is page for a POST: the session's CSRF token must come with it
// (and the browser must not say it is cross-origin), or nothing happens.
func (h *Handler) form(fn func(echo.Context, *signedIn) error) echo.HandlerFunc {
	return h.guard(true, func(c echo.Context, s *signedIn) error {
		if h.cop.Check(c.Request()) != nil || !tokensEqual(s.Session.CSRFToken, c.FormValue("csrf")) {
			return h.renderError(c, s, http.StatusForbidden, s.L.T("csrf"))
		}
		return fn(c, s)
	})
}

// guard resolves the administrator, then runs fn. A failure comes first
// (an outage is not "signed out"); a form that no administrator's session
// sends is refused on the error page — redirected, the browser would
// replay it as a GET of the sign-in page and the form's refusal would go
// unsaid.
func (h *Handler) guard(isForm bool, fn func(echo.Context, *signedIn) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		s, redirect, err := h.signIn(c)
		switch {
		case err != nil:
			return h.fail(c, s, err)
		case redirect != "" && isForm:
			return h.renderError(c, s, http.StatusForbidden, s.L.T("not_signed_in"))
		case redirect != "":
			return c.Redirect(http.StatusSeeOther, redirect)
		}
		return fn(c, s)
	}
}

// signIn resolves the browser's session into an administrator.
func (h *Handler) signIn(c echo.Context) (*signedIn, string, error) {
	ctx := c.Request().Context()
	lang := h.language(c)
	s := &signedIn{L: catalogue(lang), Lang: lang}
	sess, u, ok, err := h.session(ctx, c)
	if err != nil || !ok {
		return s, pathLogin, err
	}
	s.Session = sess
	if u.Status == store.UserAwaitingSignIn || u.MustChangePassword {
		return s, pathFirst, nil
	}
	// The console acts in the context the administrator chose (the context
	// chooser), if the user still administers there; else in the home
	// context: the overview, or the first legal entity of an assignment.
	if s.Contexts, err = h.contexts(ctx, u, s.L); err != nil {
		return s, "", err
	}
	entity, err := h.adm.HomeContext(ctx, u)
	if err != nil {
		return s, "", err
	}
	if chosen, ok := cookieContext(c); ok && holds(s.Contexts, chosen) {
		entity = chosen
	}
	for _, x := range s.Contexts {
		if x.Entity == entity {
			s.Context = x.Name
		}
	}
	a, err := h.adm.AdminFor(ctx, u, entity, audit.OriginOf(c), c.RealIP())
	var p *admin.Problem
	if errors.As(err, &p) && p.Status == http.StatusForbidden {
		// Not an administrator (accounting software): the user's own page.
		return s, pathConnections, nil
	} else if err != nil {
		return s, "", err
	}
	if len(a.Grants()) == 0 {
		// Administers nothing (a user without a job role): the same.
		return s, pathConnections, nil
	}
	s.Admin = a
	if err := h.navigation(ctx, c, s); err != nil {
		return s, "", err
	}
	return s, "", nil
}

// session is the bank's sign-in session of the browser (package consent
// makes it): ok=false when there is none, it expired, or its user may no
// longer sign in.
func (h *Handler) session(ctx context.Context, c echo.Context) (store.BrowserSession, store.User, bool, error) {
	ck, err := c.Cookie(sessionCookie)
	if err != nil || ck.Value == "" || len(ck.Value) > 128 {
		return store.BrowserSession{}, store.User{}, false, nil
	}
	s, err := h.st.GetBrowserSession(ctx, store.HashToken(ck.Value))
	if errors.Is(err, store.ErrNotFound) {
		return s, store.User{}, false, nil
	} else if err != nil {
		return s, store.User{}, false, fmt.Errorf("console: get browser session: %w", err)
	}
	now := h.now()
	if !now.Before(s.ExpiresAt) {
		return s, store.User{}, false, nil
	}
	u, err := h.st.GetUser(ctx, s.UserID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !u.CanSignIn(now)) {
		return s, u, false, nil
	} else if err != nil {
		return s, u, false, fmt.Errorf("console: get session user: %w", err)
	}
	return s, u, true, nil
}

// navigation is the menu: only what the administrator's job role allows.
func (h *Handler) navigation(ctx context.Context, c echo.Context, s *signedIn) error {
	a, l, path := s.Admin, s.L, c.Path()
	add := func(label, href string, ok bool) {
		if ok {
			s.Nav = append(s.Nav, navItem{Label: label, Href: href, Current: path == href})
		}
	}
	add(l.T("users"), prefix+"/users", a.Allowed(store.OpViewUsers) == nil)
	add(l.T("job_roles"), prefix+"/job-roles", a.Allowed(store.OpViewJobRoles) == nil)
	add(l.T("account_groups"), prefix+"/account-groups", a.Allowed(store.OpViewAccountGroups) == nil)
	pending, err := h.adm.Pending(ctx, a)
	if err != nil {
		return err
	}
	s.Pending = len(pending)
	add(l.T("approvals"), prefix+"/approvals", true)
	s.Nav[len(s.Nav)-1].Count = s.Pending
	add(l.T("notifications"), prefix+"/notifications", true)
	add(l.T("connections"), prefix+"/connections", a.Allowed(store.OpViewUsers) == nil)
	// The audit log is the business group's: read in the overview only.
	add(l.T("audit_log"), prefix+"/audit", a.CanViewAudit() == nil && a.LegalEntityID() == "")
	return nil
}

// language is ?lang= (remembered in the bank's language cookie), else
// that cookie, else Accept-Language; English by default.
func (h *Handler) language(c echo.Context) string {
	if q := c.QueryParam("lang"); q == langEN || q == langFR {
		c.SetCookie(&http.Cookie{Name: langCookie, Value: q, Path: "/", MaxAge: 365 * 24 * 3600, HttpOnly: true,
			Secure: strings.HasPrefix(h.issuer, "https://"), SameSite: http.SameSiteLaxMode})
		return q
	}
	if ck, err := c.Cookie(langCookie); err == nil && (ck.Value == langEN || ck.Value == langFR) {
		return ck.Value
	}
	for part := range strings.SplitSeq(c.Request().Header.Get("Accept-Language"), ",") {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		primary, _, _ := strings.Cut(strings.ToLower(tag), "-")
		if primary == langEN || primary == langFR {
			return primary
		}
	}
	return langEN
}

func tokensEqual(a, b string) bool {
	return a != "" && b != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// formRequestID is the ID a form's request takes (admin.Admin.Idempotent):
// derived from the form's nonce under the session's secret, so sending one
// form twice makes one request, and no browser can pick another's ID.
func formRequestID(s *signedIn, nonce string) string {
	if nonce == "" || len(nonce) > 128 {
		nonce = store.RandomToken(16) // no nonce: not idempotent, still valid
	}
	m := hmac.New(sha256.New, []byte(s.Session.CSRFToken))
	m.Write([]byte("bankfeed console form\x00" + nonce))
	return "apr_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(m.Sum(nil))[:20])
}

// common is what every page template gets.
type common struct {
	*signedIn
	Brand      branding.Branding
	Title      string
	CSRF       string
	Nonce      string // a fresh form nonce (formRequestID)
	User       string
	SwitchHref string
	SwitchLang string
	Notice     string
	Error      string
}

func (h *Handler) common(c echo.Context, s *signedIn, titleKey string) common {
	other := langFR
	if s.Lang == langFR {
		other = langEN
	}
	q := c.Request().URL.Query()
	q.Set("lang", other)
	path := c.Request().URL.Path
	if c.Request().Method != http.MethodGet {
		path, q = prefix+"/", url.Values{"lang": {other}}
	}
	name := s.Admin.User().DisplayName // "" before the administrator is known
	if name == "" {
		name = s.Admin.User().LoginID
	}
	return common{signedIn: s, Brand: h.brand, Title: s.L.T(titleKey), CSRF: s.Session.CSRFToken, Nonce: store.RandomToken(16), User: name,
		SwitchHref: path + "?" + q.Encode(), SwitchLang: other}
}

// render executes a page into a buffer first, so a failure never sends
// half a page.
func (h *Handler) render(c echo.Context, status int, name string, data any) error {
	var buf bytes.Buffer
	if err := h.pages[name].ExecuteTemplate(&buf, "layout", data); err != nil {
		h.log.ErrorContext(c.Request().Context(), "console: render", "page", name, "err", err)
		return c.String(http.StatusInternalServerError, "Internal error / Erreur interne")
	}
	return c.HTMLBlob(status, buf.Bytes())
}

type errorPage struct {
	common
	Message string
}

// renderError is the error page, in the user's language; before the
// administrator is known (no session, not an administrator's, an outage)
// it is the same page without the menu and the session's controls.
func (h *Handler) renderError(c echo.Context, s *signedIn, status int, msg string) error {
	p := errorPage{common: h.common(c, s, "error_title"), Message: msg}
	return h.render(c, status, "error", p)
}

// fail shows an operation's error: a problem in the user's language where
// the console knows it (403 naming the missing right, 404, 409), the
// generic page otherwise; internal errors are logged, never shown.
func (h *Handler) fail(c echo.Context, s *signedIn, err error) error {
	var p *admin.Problem
	if !errors.As(err, &p) {
		if errors.Is(err, store.ErrUnavailable) {
			c.Response().Header().Set("Retry-After", "5")
			return h.renderError(c, s, http.StatusServiceUnavailable, s.L.T("unavailable"))
		}
		h.log.ErrorContext(c.Request().Context(), "console: internal error", "path", c.Request().URL.Path, "err", err)
		return h.renderError(c, s, http.StatusInternalServerError, s.L.T("internal"))
	}
	return h.renderError(c, s, p.Status, h.problemText(s, p, ""))
}

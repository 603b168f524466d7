package dataapi

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/dataapi/export"
	"github.com/bankfeed/bankfeed/internal/admission"
	"github.com/bankfeed/bankfeed/internal/apidocs"
	"github.com/bankfeed/bankfeed/metrics"
	"github.com/bankfeed/bankfeed/store"
)

// BasePath is where Mount serves the API.
const BasePath = "/fdx/v6"

// TokenVerifier checks a bearer access token and returns the grant it
// stands for; authz.Server satisfies it. VerifyRequestWith leaves the read of the
// token record, by its signature, to the API, which reads it in the same
// statement as the records it re-checks (store.AccessStore's
// ReadTokenAccess); read returns store.ErrNotFound for an unknown
// signature. Which errors mean "bad token" (401) is told by
// Config.IsInvalidToken.
//
// VerifyRequestWith checks the request's access token (Authorization:
// Bearer or DPoP) and its sender constraint (the DPoP proof of a bound
// token), leaving the read of the token record to the API. An error with
// a Challenge(realm) method carries the WWW-Authenticate to send, one with
// DPoPNonce() the DPoP-Nonce (authz.ResourceError).
type TokenVerifier interface {
	VerifyRequestWith(r *http.Request, read func(ctx context.Context, signature string) (store.TokenRecord, error)) (store.Grant, error)
}

// Config holds the Server's dependencies; zero values have the documented
// defaults.
type Config struct {
	Store    store.Store   // required
	Verifier TokenVerifier // required
	// IsInvalidToken reports whether a Verify error means the token is
	// unknown, malformed, expired or revoked (401); any other error is an
	// internal failure (500), so that an outage does not tell vendors to
	// send their users through consent again. Default: every error except a
	// context error is a 401. cmd sets errors.Is(err, authz.ErrInvalidToken).
	IsInvalidToken func(error) bool
	Logger         *slog.Logger // default: discard
	Now            func() time.Time

	// RateLimitPerMinute is each OAuth client's request budget (a token
	// bucket of that size refilled continuously); 0 disables the limit. The
	// buckets live in this process: with N replicas a client gets up to N×.
	RateLimitPerMinute int

	// PageKeySecret (≥ 32 bytes) seals page keys and sync cursors so that
	// clients cannot forge or alter them. Every replica must share it, and it
	// must survive restarts: sync cursors are promised to stay valid for at
	// least a year. Empty: a random key (cursors die with the process).
	PageKeySecret []byte
	// OldPageKeySecrets still open cursors sealed before a key rotation.
	OldPageKeySecrets [][]byte

	// Bank names the bank in statement files (camt.053 servicer, BAI2
	// originator, OFX BANKID); QBOIntuBID is the INTU.BID of QBO/QFX files.
	Bank       export.Bank
	QBOIntuBID string

	// MaxExportDays is the longest range of business dates one export may
	// cover (config dataapi.max_export_days). 0: DefaultMaxExportDays.
	MaxExportDays int

	// Metrics counts rate-limit refusals and exports; nil: none.
	Metrics *metrics.Metrics

	// Admission, when set, admits the requests of every data route but
	// exports (which stream for as long as the client reads) before their
	// token is checked: package admission's gate. A request it turns away
	// gets 503 (problem type unavailable) with Retry-After.
	Admission *admission.Gate
}

// DefaultMaxExportDays is a year, leap or not.
const DefaultMaxExportDays = 366

// Server is the data API.
type Server struct {
	store      store.Store
	verifier   TokenVerifier
	badToken   func(error) bool
	log        *slog.Logger
	now        func() time.Time
	sealer     *sealer
	limiter    *limiter // nil: no limit
	bank       export.Bank
	qboIntuBID string
	maxExport  int        // days
	echo       *echo.Echo // set by Mount: its router tells a known path
	metrics    *metrics.Metrics
	admission  *admission.Gate // Config.Admission

	touchMu sync.Mutex
	touched map[string]time.Time // consent ID → last TouchConsent by this replica
}

// New checks cfg and builds a Server.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("dataapi: Config.Store is required")
	}
	if cfg.Verifier == nil {
		return nil, errors.New("dataapi: Config.Verifier is required")
	}
	if cfg.MaxExportDays < 0 {
		return nil, fmt.Errorf("dataapi: MaxExportDays %d must not be negative", cfg.MaxExportDays)
	}
	if cfg.RateLimitPerMinute < 0 {
		return nil, fmt.Errorf("dataapi: RateLimitPerMinute %d must not be negative", cfg.RateLimitPerMinute)
	}
	s := &Server{
		store: cfg.Store, verifier: cfg.Verifier, badToken: cfg.IsInvalidToken, log: cfg.Logger, now: cfg.Now,
		touched: map[string]time.Time{}, bank: cfg.Bank, qboIntuBID: cfg.QBOIntuBID, maxExport: cfg.MaxExportDays,
		metrics: cfg.Metrics, admission: cfg.Admission,
	}
	if s.maxExport == 0 {
		s.maxExport = DefaultMaxExportDays
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.badToken == nil {
		s.badToken = func(err error) bool {
			return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
		}
	}
	key := cfg.PageKeySecret
	if len(key) == 0 {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("dataapi: random page key secret: %w", err)
		}
		s.log.Warn("dataapi: no PageKeySecret configured; page keys and sync cursors will not survive a restart")
	}
	if len(key) < 32 {
		return nil, errors.New("dataapi: PageKeySecret must be at least 32 bytes")
	}
	for _, k := range cfg.OldPageKeySecrets {
		if len(k) < 32 {
			return nil, errors.New("dataapi: every OldPageKeySecrets entry must be at least 32 bytes")
		}
	}
	s.sealer = newSealer(key, cfg.OldPageKeySecrets)
	if cfg.RateLimitPerMinute > 0 {
		s.limiter = newLimiter(cfg.RateLimitPerMinute, s.now)
	}
	return s, nil
}

// Mount registers the API under BasePath on e. It does not touch
// e.HTTPErrorHandler: the group's own middleware turns every error of its
// routes into a problem.
func (s *Server) Mount(e *echo.Echo) {
	s.echo = e
	g := e.Group(BasePath, s.problems)
	s.routes(g)
}

// routes is the API's table of contents.
func (s *Server) routes(g *echo.Group) {
	s.get(g, "/openapi.json", s.handleOpenAPI) // public: no token
	s.get(g, "/docs", s.handleDocs)            // the reference page, public
	s.get(g, "/docs/"+apidocs.ScriptName, s.handleDocsScript)

	// Each route needs one of its scopes, ours or FDX's (issue 13 §2).
	checked := func(scopes ...string) []echo.MiddlewareFunc {
		return []echo.MiddlewareFunc{s.authenticate, s.requireScope(scopes...)}
	}
	scoped := func(scopes ...string) []echo.MiddlewareFunc { return s.admit(checked(scopes...)...) }
	accounts := scoped(accountScopes...)
	transactions := scoped(store.ScopeAccountsRead, store.ScopeFDXTransactions)
	statementScopes := []string{store.ScopeStatementsRead, store.ScopeFDXStatements}
	statements := scoped(statementScopes...)
	// The business behind the token is data too: any data scope.
	customer := scoped(store.DataScopes...)

	s.get(g, "/customers/current", s.handleCurrentCustomer, customer...)
	s.get(g, "/accounts", s.handleListAccounts, accounts...)
	s.get(g, "/accounts/:accountId", s.handleGetAccount, accounts...)
	s.get(g, "/accounts/:accountId/transactions", s.handleListTransactions, transactions...)
	s.get(g, "/accounts/:accountId/transactions/sync", s.handleSyncTransactions, transactions...)
	s.get(g, "/accounts/:accountId/statements", s.handleListStatements, statements...)
	s.get(g, "/accounts/:accountId/statements/:statementId", s.handleGetStatement, statements...)
	// An export streams for as long as its client reads: no slot.
	s.get(g, "/accounts/:accountId/exports", s.handleExport, checked(statementScopes...)...)
	s.get(g, "/accounts/:accountId/contact", s.handleGetAccountContact, scoped(store.ScopeFDXCustomerContact)...)

	// The FDX Consent API: any token of the consent's own client, no data scope.
	s.get(g, "/consents/:consentId", s.handleGetConsent, s.admit(s.authenticate)...)
	g.PUT("/consents/:consentId/revocation", s.handleRevokeConsent, s.admit(s.authenticate)...)
	g.Match(slices.DeleteFunc(append([]string{http.MethodGet}, otherMethods...), func(m string) bool { return m == http.MethodPut }),
		"/consents/:consentId/revocation", func(echo.Context) error { return errPutOnly() })
}

// accountScopes open the account descriptors; balanceScopes their balances
// too (FDX's accountbasic is the descriptor alone).
var (
	accountScopes = []string{store.ScopeAccountsRead, store.ScopeFDXAccountBasic, store.ScopeFDXAccountDetailed}
	balanceScopes = []string{store.ScopeAccountsRead, store.ScopeFDXAccountDetailed}
)

// otherMethods answer 405 on every route: the API is read-only.
var otherMethods = []string{
	http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodHead,
	http.MethodOptions, http.MethodConnect, http.MethodTrace, echo.PROPFIND, echo.REPORT,
}

// isRoute reports whether GET path would reach one of the API's routes
// rather than the group's catch-all. echo answers a method it has no name
// for (WebDAV's LOCK, a made-up one) on a known path with that catch-all's
// 404; problems turns it into the 405 every other method gets.
func (s *Server) isRoute(path string) bool {
	if s.echo == nil {
		return false
	}
	c := s.echo.NewContext(nil, nil)
	s.echo.Router().Find(http.MethodGet, path, c)
	return c.Path() != "" && c.Path() != BasePath+"/*" && c.Path() != BasePath
}

// busy answers a request the admission gate turned away (too many waiting).
func busy(echo.Context) error { return errBusy() }

// admit puts the admission gate (Config.Admission), if any, before m.
func (s *Server) admit(m ...echo.MiddlewareFunc) []echo.MiddlewareFunc {
	return s.admission.First(busy, m...)
}

func (s *Server) get(g *echo.Group, path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) {
	g.GET(path, h, m...)
	g.Match(otherMethods, path, func(echo.Context) error { return errMethodNotAllowed() })
}

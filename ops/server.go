package ops

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/internal/apihttp"
	"github.com/bankfeed/bankfeed/internal/audit"
	"github.com/bankfeed/bankfeed/store"
)

// Config is what the Server needs.
type Config struct {
	Store    store.Store           // required
	Verifier apihttp.TokenVerifier // required
	Logger   *slog.Logger          // defaults to slog.Default()
	Now      func() time.Time
	// MaxBody caps a request body (default 64 KiB) but a transaction
	// batch's, which MaxBatchBody caps (default 16 MiB).
	MaxBody      int64
	MaxBatchBody int64
}

// Server serves /ops/v1.
type Server struct {
	st       store.Store
	verifier apihttp.TokenVerifier
	log      *slog.Logger
	now      func() time.Time
	maxBody  int64
	maxBatch int64
	errs     apihttp.Errors // its handlers' errors as problems
}

// New checks cfg and fills defaults.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("ops: Config.Store is required")
	}
	if cfg.Verifier == nil {
		return nil, errors.New("ops: Config.Verifier is required")
	}
	s := &Server{st: cfg.Store, verifier: cfg.Verifier, log: cfg.Logger, now: cfg.Now, maxBody: cfg.MaxBody, maxBatch: cfg.MaxBatchBody}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.maxBody <= 0 {
		s.maxBody = 64 << 10
	}
	if s.maxBatch <= 0 {
		s.maxBatch = 16 << 20
	}
	s.errs = apihttp.Errors{Log: s.log, Name: "ops", Map: batchError}
	return s, nil
}

// Mount registers the routes on e (it does not touch e's error handler).
func (s *Server) Mount(e *echo.Echo) {
	// The OpenAPI document and its reference need no token, like the data
	// API's: outside the group's authentication.
	apihttp.MountDocs(e, "/ops/v1", "bankfeed operations API (/ops/v1) reference", OpenAPI, s.h)
	s.routes(e, e.Group("/ops/v1", s.requireOperator))
}

// routes is the table of contents of the API.
func (s *Server) routes(e *echo.Echo, o *echo.Group) {
	o.GET("/business-groups", s.h(s.handleListBusinessGroups))
	o.POST("/business-groups", s.h(s.handleCreateBusinessGroup))
	o.GET("/business-groups/:id", s.h(s.handleGetBusinessGroup))
	o.PATCH("/business-groups/:id", s.h(s.handleUpdateBusinessGroup))
	o.POST("/business-groups/:id/administrators", s.h(s.handleAddAdministrator))
	o.GET("/legal-entities", s.h(s.handleListLegalEntities))
	o.POST("/legal-entities", s.h(s.handleCreateLegalEntity))
	o.GET("/legal-entities/:id", s.h(s.handleGetLegalEntity))
	o.PATCH("/legal-entities/:id", s.h(s.handleUpdateLegalEntity))
	o.GET("/service-agreements", s.h(s.handleListServiceAgreements))
	o.POST("/service-agreements", s.h(s.handleCreateServiceAgreement))
	o.GET("/accounts", s.h(s.handleListAccounts))
	o.POST("/accounts", s.h(s.handleOpenAccount))
	o.GET("/accounts/:id", s.h(s.handleGetAccount))
	o.PATCH("/accounts/:id", s.h(s.handleUpdateAccount))
	o.POST("/accounts/:id/close", s.h(s.handleCloseAccount))
	o.POST("/accounts/:id/reopen", s.h(s.handleReopenAccount))
	o.PUT("/accounts/:id/balance", s.h(s.handleSetBalance))
	o.GET("/accounts/:id/balance", s.h(s.handleGetBalance))
	o.PUT("/accounts/:id/daily-balances/:date", s.h(s.handlePutDailyBalance))
	o.GET("/accounts/:id/daily-balances/:date", s.h(s.handleGetDailyBalance))
	o.POST("/accounts/:id/close-day", s.h(s.handleCloseDay))
	o.GET("/accounts/:id/statements", s.h(s.handleListStatements))
	o.POST("/transactions", s.h(s.handlePostTransactions))
	o.GET("/transactions", s.h(s.handleListTransactions))
	o.DELETE("/accounts/:id/pending/:externalId", s.h(s.handleRemovePending))
	o.GET("/audit", s.h(s.handleListAudit))
	o.GET("/outbox", s.h(s.handleListDeliveries))
	o.POST("/outbox/:id/retry", s.h(s.handleRetryDelivery))
	o.GET("/clients/:id", s.h(s.handleGetClient))
	o.POST("/clients/:id/approve", s.h(s.handleApproveClient))
	o.POST("/clients/:id/reject", s.h(s.handleRejectClient))
	apihttp.CatchAll(o, s.h(apihttp.NoRoute(e, "/ops/v1")))
}

// h turns a handler's error into a problem response.
func (s *Server) h(fn echo.HandlerFunc) echo.HandlerFunc { return s.errs.H(fn) }

// operator is the bank system behind a request.
type operator struct {
	ClientID   string
	RemoteAddr string
	Origin     audit.Origin
}

const operatorKey = "bankfeed.ops.operator"

func operatorFrom(c echo.Context) operator {
	op, _ := c.Get(operatorKey).(operator)
	return op
}

// requireOperator admits first-party client_credentials tokens with scope
// "operator".
func (s *Server) requireOperator(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		const realm = "bankfeed-ops"
		g, err := apihttp.Bearer(c, s.verifier, realm)
		if err != nil {
			return s.errs.Fail(c, err)
		}
		if !g.HasScope(store.ScopeOperator) {
			return s.errs.Fail(c, apihttp.InsufficientScope(realm, store.ScopeOperator, "the token lacks the operator scope"))
		}
		if !g.FirstParty || g.UserID != "" {
			return s.errs.Fail(c, apihttp.Forbidden("not-operator", "only the bank's own systems (client credentials) may call this API"))
		}
		c.Set(operatorKey, operator{ClientID: g.ClientID, RemoteAddr: c.RealIP(), Origin: audit.OriginOf(c)})
		return next(c)
	}
}

// audit records an operator change under the business group it touches
// ("" for a bank-level one), in the caller's transaction.
func (s *Server) audit(ctx context.Context, op operator, bg, action, targetType, targetID string, before, after any) error {
	_, err := s.st.AppendAudit(ctx, store.AuditEvent{
		BusinessGroupID: bg, ActorID: op.ClientID, Action: action, Outcome: audit.Success, TargetType: targetType, TargetID: targetID,
		RemoteAddr: op.RemoteAddr, UserAgent: op.Origin.UserAgent, HTTPRequestID: op.Origin.HTTPRequestID,
		Before: apihttp.RawJSON(before), After: apihttp.RawJSON(after), At: s.now().UTC(),
	})
	if err != nil {
		return fmt.Errorf("ops: audit %s: %w", action, err)
	}
	return nil
}

// handleListAudit is the bank's view of the whole log: every business's
// events and the bank-level ones (sign-ins of login IDs nobody holds, the
// operators' own). ?businessGroupId= narrows to one business group, and
// with an empty value to the bank-level events.
func (s *Server) handleListAudit(c echo.Context) error {
	p, err := apihttp.ReadPage(c)
	if err != nil {
		return err
	}
	f, err := apihttp.AuditFilter(c)
	if err != nil {
		return err
	}
	if vs, ok := c.QueryParams()["businessGroupId"]; ok && len(vs) > 0 {
		f.BusinessGroupID = &vs[0]
	}
	es, next, err := s.st.ListAudit(c.Request().Context(), f, p)
	if err != nil {
		return fmt.Errorf("ops: list audit: %w", err)
	}
	return apihttp.ListOf(c, es, next, apihttp.ToAuditJSON)
}

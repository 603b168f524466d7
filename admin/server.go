package admin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/admin/openapi"
	"github.com/bankfeed/bankfeed/metrics"
	"github.com/bankfeed/bankfeed/store"
)

// TokenVerifier checks the access token of a request's Authorization
// header (Bearer or DPoP) and its sender constraint (the DPoP proof of a
// bound token); authz.Server satisfies it. Any error but the store's
// ErrUnavailable means the token is not valid now; one with a
// Challenge(realm) method carries the WWW-Authenticate to send, one with
// DPoPNonce() the DPoP-Nonce (authz.ResourceError).
type TokenVerifier interface {
	VerifyRequest(r *http.Request) (store.Grant, error)
}

// Config is what the Server needs.
type Config struct {
	Store    store.Store   // required
	Verifier TokenVerifier // required
	Logger   *slog.Logger  // defaults to slog.Default()
	Now      func() time.Time
	// Outbox optionally records each notification's deliveries (webhook,
	// e-mail) in the transaction that creates it (see notify.Outbox); nil:
	// notifications are only stored and listed by /admin/v1/notifications.
	Outbox Outbox
	// MaxBody caps an /admin/v1 request body (default 64 KiB).
	MaxBody int64
	// MaxOpsBody caps an /ops/v1 request body (default 16 MiB: batches).
	MaxOpsBody int64
	// Metrics counts approvals submitted and decided; nil: none.
	Metrics *metrics.Metrics
}

// Server serves /admin/v1 and /ops/v1.
type Server struct {
	st       store.Store
	verifier TokenVerifier
	log      *slog.Logger
	now      func() time.Time
	outbox   Outbox
	maxBody  int64
	maxOps   int64
	echo     *echo.Echo // set by Mount: its router tells a known path's methods
	metrics  *metrics.Metrics
}

// New checks cfg and fills defaults.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("admin: Config.Store is required")
	}
	if cfg.Verifier == nil {
		return nil, errors.New("admin: Config.Verifier is required")
	}
	s := &Server{st: cfg.Store, verifier: cfg.Verifier, log: cfg.Logger, now: cfg.Now,
		outbox: cfg.Outbox, maxBody: cfg.MaxBody, maxOps: cfg.MaxOpsBody, metrics: cfg.Metrics}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.maxBody <= 0 {
		s.maxBody = 64 << 10
	}
	if s.maxOps <= 0 {
		s.maxOps = 16 << 20
	}
	return s, nil
}

// Mount registers the routes on e (it does not touch e's error handler).
func (s *Server) Mount(e *echo.Echo) {
	s.echo = e
	// The OpenAPI documents need no token, like the data API's: outside
	// the groups' authentication.
	e.GET("/admin/v1/openapi.json", s.h(serveDocument(openapi.Admin)))
	e.GET("/ops/v1/openapi.json", s.h(serveDocument(openapi.Ops)))
	s.mountDocs(e) // their references, rendered: /admin/v1/docs, /ops/v1/docs
	s.routes(e.Group("/admin/v1", s.requireAdmin), e.Group("/ops/v1", s.requireOperator))
}

// routes is the table of contents of both APIs. m(action, h) marks a
// mutating handler: a refusal is audited under action + ".refused".
func (s *Server) routes(a, o *echo.Group) {
	a.GET("/permissions", s.h(s.handlePermissions))

	a.GET("/users", s.h(s.handleListUsers))
	a.POST("/users", s.m("user.create", s.handleCreateUser))
	a.GET("/users/:id", s.h(s.handleGetUser))
	a.PATCH("/users/:id", s.m("user.edit", s.handleEditUser))
	a.DELETE("/users/:id", s.m("user.delete", s.handleDeleteUser))
	a.POST("/users/:id/lock", s.m("user.lock", s.handleUserAction(store.KindLockUser)))
	a.POST("/users/:id/unlock", s.m("user.unlock", s.handleUserAction(store.KindUnlockUser)))
	a.POST("/users/:id/reset-password", s.m("user.reset_password", s.handleUserAction(store.KindResetPassword)))

	a.GET("/job-roles", s.h(s.handleListJobRoles))
	a.POST("/job-roles", s.m("job_role.create", s.handleCreateJobRole))
	a.GET("/job-roles/:id", s.h(s.handleGetJobRole))
	a.PATCH("/job-roles/:id", s.m("job_role.edit", s.handleEditJobRole))
	a.DELETE("/job-roles/:id", s.m("job_role.delete", s.handleDeleteJobRole))

	a.GET("/account-groups", s.h(s.handleListAccountGroups))
	a.POST("/account-groups", s.m("account_group.create", s.handleCreateAccountGroup))
	a.GET("/account-groups/:id", s.h(s.handleGetAccountGroup))
	a.PATCH("/account-groups/:id", s.m("account_group.edit", s.handleEditAccountGroup))
	a.DELETE("/account-groups/:id", s.m("account_group.delete", s.handleDeleteAccountGroup))
	a.POST("/account-groups/:id/accounts", s.m("account_group.edit", s.handleAddGroupAccount))
	a.DELETE("/account-groups/:id/accounts/:accountId", s.m("account_group.edit", s.handleRemoveGroupAccount))
	a.GET("/accounts", s.h(s.handleListAccounts))

	a.GET("/assignments", s.h(s.handleListAssignments))
	a.POST("/assignments", s.m("assignment.create", s.handleCreateAssignment))
	a.GET("/assignments/:id", s.h(s.handleGetAssignment))

	a.GET("/approvals", s.h(s.handleListApprovals))
	a.GET("/approvals/:id", s.h(s.handleGetApproval))
	a.POST("/approvals/:id/approve", s.m("approval.approve", s.handleApprove))
	a.POST("/approvals/:id/reject", s.m("approval.reject", s.handleReject))
	a.POST("/approvals/:id/cancel", s.m("approval.cancel", s.handleCancel))

	a.GET("/notifications", s.h(s.handleListNotifications))
	a.POST("/notifications/:id/read", s.h(s.handleMarkRead))

	a.GET("/connections", s.h(s.handleListConnections))
	a.DELETE("/connections/:id", s.m("connection.revoke", s.handleRevokeConnection))

	a.GET("/audit", s.h(s.handleListAudit))
	// The catch-alls answer our problem, not echo's JSON 404; "/*" does not
	// match the bare prefix. RouteNotFound also takes the methods Any has no
	// name for (WebDAV's LOCK, a made-up one).
	catchAll(a, s.h(s.handleNoRoute))

	o.GET("/business-groups", s.h(s.handleOpsListBusinessGroups))
	o.POST("/business-groups", s.h(s.handleOpsCreateBusinessGroup))
	o.GET("/business-groups/:id", s.h(s.handleOpsGetBusinessGroup))
	o.PATCH("/business-groups/:id", s.h(s.handleOpsUpdateBusinessGroup))
	o.POST("/business-groups/:id/administrators", s.h(s.handleOpsAddAdministrator))
	o.GET("/legal-entities", s.h(s.handleOpsListLegalEntities))
	o.POST("/legal-entities", s.h(s.handleOpsCreateLegalEntity))
	o.GET("/legal-entities/:id", s.h(s.handleOpsGetLegalEntity))
	o.PATCH("/legal-entities/:id", s.h(s.handleOpsUpdateLegalEntity))
	o.GET("/service-agreements", s.h(s.handleOpsListServiceAgreements))
	o.POST("/service-agreements", s.h(s.handleOpsCreateServiceAgreement))
	o.GET("/accounts", s.h(s.handleOpsListAccounts))
	o.POST("/accounts", s.h(s.handleOpsOpenAccount))
	o.GET("/accounts/:id", s.h(s.handleOpsGetAccount))
	o.PATCH("/accounts/:id", s.h(s.handleOpsUpdateAccount))
	o.POST("/accounts/:id/close", s.h(s.handleOpsCloseAccount))
	o.POST("/accounts/:id/reopen", s.h(s.handleOpsReopenAccount))
	o.PUT("/accounts/:id/balance", s.h(s.handleOpsSetBalance))
	o.GET("/accounts/:id/balance", s.h(s.handleOpsGetBalance))
	o.PUT("/accounts/:id/daily-balances/:date", s.h(s.handleOpsPutDailyBalance))
	o.GET("/accounts/:id/daily-balances/:date", s.h(s.handleOpsGetDailyBalance))
	o.POST("/accounts/:id/close-day", s.h(s.handleOpsCloseDay))
	o.GET("/accounts/:id/statements", s.h(s.handleOpsListStatements))
	o.POST("/transactions", s.h(s.handleOpsPostTransactions))
	o.GET("/transactions", s.h(s.handleOpsListTransactions))
	o.DELETE("/accounts/:id/pending/:externalId", s.h(s.handleOpsRemovePending))
	o.GET("/audit", s.h(s.handleOpsListAudit))
	o.GET("/outbox", s.h(s.handleOpsListDeliveries))
	o.POST("/outbox/:id/retry", s.h(s.handleOpsRetryDelivery))
	o.GET("/clients/:id", s.h(s.handleOpsGetClient))
	o.POST("/clients/:id/approve", s.h(s.handleOpsApproveClient))
	o.POST("/clients/:id/reject", s.h(s.handleOpsRejectClient))
	catchAll(o, s.h(s.handleNoRoute))
}

func catchAll(g *echo.Group, h echo.HandlerFunc) {
	for _, p := range []string{"", "/*"} {
		g.Any(p, h)
		g.RouteNotFound(p, h)
	}
}

// routeMethods are the methods the routes use, in the order Allow names them.
var routeMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// allowed is the methods whose route (not a catch-all) matches path.
func (s *Server) allowed(path string) []string {
	if s.echo == nil {
		return nil
	}
	var out []string
	for _, m := range routeMethods {
		c := s.echo.NewContext(nil, nil)
		s.echo.Router().Find(m, path, c)
		switch c.Path() {
		case "", "/admin/v1", "/admin/v1/*", "/ops/v1", "/ops/v1/*":
		default:
			out = append(out, m)
		}
	}
	return out
}

// handleNoRoute answers what no route takes: a 405 with Allow when another
// method's route matches the path (issue 10 §6), otherwise a 404.
func (s *Server) handleNoRoute(c echo.Context) error {
	if ms := s.allowed(c.Request().URL.Path); len(ms) > 0 {
		c.Response().Header().Set("Allow", strings.Join(ms, ", "))
		return problem(http.StatusMethodNotAllowed, "method-not-allowed", "Method Not Allowed",
			fmt.Sprintf("%s is not allowed on %s; allowed: %s", c.Request().Method, c.Request().URL.Path, strings.Join(ms, ", ")))
	}
	return problem(http.StatusNotFound, "not-found", "Not Found", fmt.Sprintf("no route %s %s", c.Request().Method, c.Request().URL.Path))
}

// h turns a handler's error into a problem response.
func (s *Server) h(fn echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-store")
		err := fn(c)
		if err == nil {
			return nil
		}
		return s.fail(c, err)
	}
}

// m is h for mutating /admin/v1 handlers: a refusal is audited.
func (s *Server) m(action string, fn echo.HandlerFunc) echo.HandlerFunc {
	return s.h(func(c echo.Context) error {
		err := fn(c)
		if err == nil {
			return nil
		}
		p, ok := toProblem(err)
		if !ok {
			return err
		}
		if cl, found := callerFrom(c); found {
			s.audit(c.Request().Context(), cl, auditEntry{
				Action: action + ".refused", TargetType: targetTypeOf(action), TargetID: c.Param("id"), After: p,
			})
		}
		return p
	})
}

func (s *Server) fail(c echo.Context, err error) error {
	p, ok := toProblem(err)
	if ctx := c.Request().Context(); (!ok || p.Status >= 500) && errors.Is(ctx.Err(), context.Canceled) {
		// A client gone (net/http cancelled its request) is nobody's
		// failure: INFO, as the other packages log it; the access log
		// records it as 499 (issue 15).
		s.log.InfoContext(ctx, "admin: request abandoned: client gone", "method", c.Request().Method,
			"path", c.Request().URL.Path, "err", err)
		if !ok {
			p = internalProblem()
		}
		return writeProblem(c, p)
	}
	if !ok {
		s.log.ErrorContext(c.Request().Context(), "admin: internal error", "method", c.Request().Method,
			"path", c.Request().URL.Path, "err", err)
		p = internalProblem()
	}
	if p.Status >= 500 && ok {
		s.log.ErrorContext(c.Request().Context(), "admin: server error", "path", c.Request().URL.Path, "err", err)
	}
	return writeProblem(c, p)
}

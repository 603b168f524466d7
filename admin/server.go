package admin

import (
	"errors"
	"log/slog"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/admin/openapi"
	"github.com/bankfeed/bankfeed/internal/apihttp"
	"github.com/bankfeed/bankfeed/metrics"
	"github.com/bankfeed/bankfeed/store"
)

// TokenVerifier checks a request's access token (apihttp.TokenVerifier).
type TokenVerifier = apihttp.TokenVerifier

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
	metrics  *metrics.Metrics
	errs     apihttp.Errors // its handlers' errors as problems
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
	s.errs = apihttp.Errors{Log: s.log, Name: "admin", Map: opsError}
	return s, nil
}

// Mount registers the routes on e (it does not touch e's error handler).
func (s *Server) Mount(e *echo.Echo) {
	// The OpenAPI documents and their references need no token, like the
	// data API's: outside the groups' authentication.
	apihttp.MountDocs(e, "/admin/v1", "bankfeed administration API (/admin/v1) reference", openapi.Admin, s.h)
	apihttp.MountDocs(e, "/ops/v1", "bankfeed operations API (/ops/v1) reference", openapi.Ops, s.h)
	s.routes(e, e.Group("/admin/v1", s.requireAdmin), e.Group("/ops/v1", s.requireOperator))
}

// routes is the table of contents of both APIs. m(action, h) marks a
// mutating handler: a refusal is audited under action + ".refused".
func (s *Server) routes(e *echo.Echo, a, o *echo.Group) {
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
	apihttp.CatchAll(a, s.h(apihttp.NoRoute(e, "/admin/v1")))

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
	apihttp.CatchAll(o, s.h(apihttp.NoRoute(e, "/ops/v1")))
}

// h turns a handler's error into a problem response.
func (s *Server) h(fn echo.HandlerFunc) echo.HandlerFunc { return s.errs.H(fn) }

// m is h for mutating /admin/v1 handlers: a refusal is audited.
func (s *Server) m(action string, fn echo.HandlerFunc) echo.HandlerFunc {
	return s.h(func(c echo.Context) error {
		err := fn(c)
		if err == nil {
			return nil
		}
		p, ok := s.errs.Problem(err)
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

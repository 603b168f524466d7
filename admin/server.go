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
	// Metrics counts approvals submitted and decided; nil: none.
	Metrics *metrics.Metrics
}

// Server serves /admin/v1 and the operations the console shares with it.
type Server struct {
	st       store.Store
	verifier TokenVerifier
	log      *slog.Logger
	now      func() time.Time
	outbox   Outbox
	maxBody  int64
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
		outbox: cfg.Outbox, maxBody: cfg.MaxBody, metrics: cfg.Metrics}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.maxBody <= 0 {
		s.maxBody = 64 << 10
	}
	s.errs = apihttp.Errors{Log: s.log, Name: "admin"}
	return s, nil
}

// Mount registers the routes on e (it does not touch e's error handler).
func (s *Server) Mount(e *echo.Echo) {
	// The OpenAPI document and its reference need no token, like the data
	// API's: outside the group's authentication.
	apihttp.MountDocs(e, "/admin/v1", "bankfeed administration API (/admin/v1) reference", openapi.Admin, s.h)
	s.routes(e, e.Group("/admin/v1", s.requireAdmin))
}

// routes is the table of contents of the API. m(action, h) marks a
// mutating handler: a refusal is audited under action + ".refused".
func (s *Server) routes(e *echo.Echo, a *echo.Group) {
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

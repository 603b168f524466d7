package admin

import (
	"context"
	"fmt"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/internal/apihttp"
	"github.com/bankfeed/bankfeed/internal/audit"
	"github.com/bankfeed/bankfeed/store"
)

// auditEntry is what a handler records; the caller fills who, when, where.
type auditEntry struct {
	Action     string
	TargetType string
	TargetID   string
	RequestID  string
	Before     any
	After      any
	Outcome    string // "": refused for a ".refused" action, else success
}

// outcomeOf is e's outcome (issue 10 §5: every event says how it ended).
func (e auditEntry) outcomeOf() string {
	switch {
	case e.Outcome != "":
		return e.Outcome
	case strings.HasSuffix(e.Action, ".refused"):
		return audit.Refused
	}
	return audit.Success
}

// auditTx appends an event; inside InTx its failure undoes the change.
func (s *Server) auditTx(ctx context.Context, cl caller, e auditEntry) error {
	_, err := s.st.AppendAudit(ctx, store.AuditEvent{
		BusinessGroupID: cl.User.BusinessGroupID, ActorID: cl.User.ID, Action: e.Action, Outcome: e.outcomeOf(),
		TargetType: e.TargetType, TargetID: e.TargetID, RequestID: e.RequestID, RemoteAddr: cl.RemoteAddr,
		UserAgent: cl.Origin.UserAgent, HTTPRequestID: cl.Origin.HTTPRequestID,
		Before: apihttp.RawJSON(e.Before), After: apihttp.RawJSON(e.After), At: s.now().UTC(),
	})
	if err != nil {
		return fmt.Errorf("admin: audit %s: %w", e.Action, err)
	}
	return nil
}

// audit records a refusal; it runs after the response is decided, so its
// failure is logged rather than returned.
func (s *Server) audit(ctx context.Context, cl caller, e auditEntry) {
	if err := s.auditTx(ctx, cl, e); err != nil {
		s.log.ErrorContext(ctx, "admin: audit failed", "action", e.Action, "err", err)
	}
}

func targetTypeOf(action string) string {
	t, _, _ := strings.Cut(action, ".")
	return t
}

// auditRequirement: reading the log needs Manage permissions: View (held
// by everyone the article's three lists describe).
var auditRequirement = store.Requirement{Permission: store.PermManagePermissions, Right: store.RightView}

func (s *Server) handleListAudit(c echo.Context) error {
	cl := mustCaller(c)
	if err := store.Check(cl.Grants, auditRequirement); err != nil {
		return err
	}
	// The log is the business group's: its events name job roles, account
	// groups, approvals and sign-ins as well as users, so an entity's
	// context (which reaches only that entity's users and accounts) cannot
	// be shown a faithful part of it. It is read in the overview only.
	if !cl.scope().Overview() {
		return apihttp.Forbidden("overview-only", "the audit log is read in the business group overview context only (no ?context= or X-Legal-Entity-ID)")
	}
	p, err := apihttp.ReadPage(c)
	if err != nil {
		return err
	}
	f, err := apihttp.AuditFilter(c)
	if err != nil {
		return err
	}
	// The business's own events, administrative and authentication alike;
	// never the bank-level ones (business group "").
	bg := cl.User.BusinessGroupID
	f.BusinessGroupID = &bg
	es, next, err := s.st.ListAudit(c.Request().Context(), f, p)
	if err != nil {
		return fmt.Errorf("admin: list audit: %w", err)
	}
	return apihttp.ListOf(c, es, next, apihttp.ToAuditJSON)
}

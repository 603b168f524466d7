package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

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
}

func rawJSON(v any) json.RawMessage {
	switch x := v.(type) {
	case nil:
		return nil
	case json.RawMessage:
		return x
	}
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage(fmt.Sprintf("%q", err.Error()))
	}
	return b
}

// auditTx appends an event; inside InTx its failure undoes the change.
func (s *Server) auditTx(ctx context.Context, cl caller, e auditEntry) error {
	_, err := s.st.AppendAudit(ctx, store.AuditEvent{
		BusinessGroupID: cl.User.BusinessGroupID, ActorID: cl.User.ID, Action: e.Action,
		TargetType: e.TargetType, TargetID: e.TargetID, RequestID: e.RequestID, RemoteAddr: cl.RemoteAddr,
		Before: rawJSON(e.Before), After: rawJSON(e.After), At: s.now().UTC(),
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

// opsAudit records an operator change under the business group it touches.
func (s *Server) opsAudit(ctx context.Context, op operator, bg, action, targetType, targetID string, before, after any) error {
	_, err := s.st.AppendAudit(ctx, store.AuditEvent{
		BusinessGroupID: bg, ActorID: op.ClientID, Action: action, TargetType: targetType, TargetID: targetID,
		RemoteAddr: op.RemoteAddr, Before: rawJSON(before), After: rawJSON(after), At: s.now().UTC(),
	})
	if err != nil {
		return fmt.Errorf("admin: audit %s: %w", action, err)
	}
	return nil
}

func targetTypeOf(action string) string {
	t, _, _ := strings.Cut(action, ".")
	return t
}

type auditJSON struct {
	Seq        int64           `json:"seq"`
	ActorID    string          `json:"actorId"`
	Action     string          `json:"action"`
	TargetType string          `json:"targetType,omitempty"`
	TargetID   string          `json:"targetId,omitempty"`
	RequestID  string          `json:"requestId,omitempty"`
	RemoteAddr string          `json:"remoteAddr,omitempty"`
	Before     json.RawMessage `json:"before,omitempty"`
	After      json.RawMessage `json:"after,omitempty"`
	At         time.Time       `json:"at"`
}

func toAuditJSON(e store.AuditEvent) auditJSON {
	return auditJSON{Seq: e.Seq, ActorID: e.ActorID, Action: e.Action, TargetType: e.TargetType, TargetID: e.TargetID,
		RequestID: e.RequestID, RemoteAddr: e.RemoteAddr, Before: e.Before, After: e.After, At: e.At.UTC()}
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
		return forbidden("overview-only", "the audit log is read in the business group overview context only (no ?context= or X-Legal-Entity-ID)")
	}
	p, err := page(c)
	if err != nil {
		return err
	}
	bg := cl.User.BusinessGroupID
	f := store.AuditFilter{BusinessGroupID: &bg}
	for name, dst := range map[string]**string{"actor": &f.ActorID, "target": &f.TargetID, "action": &f.Action} {
		if v := c.QueryParam(name); v != "" {
			*dst = &v
		}
	}
	if f.Since, err = queryTime(c, "since"); err != nil {
		return err
	}
	if f.Until, err = queryTime(c, "until"); err != nil {
		return err
	}
	es, next, err := s.st.ListAudit(c.Request().Context(), f, p)
	if err != nil {
		return fmt.Errorf("admin: list audit: %w", err)
	}
	return listOf(c, es, next, toAuditJSON)
}

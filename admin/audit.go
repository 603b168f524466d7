package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

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
		BusinessGroupID: cl.User.BusinessGroupID, ActorID: cl.User.ID, Action: e.Action, Outcome: e.outcomeOf(),
		TargetType: e.TargetType, TargetID: e.TargetID, RequestID: e.RequestID, RemoteAddr: cl.RemoteAddr,
		UserAgent: cl.Origin.UserAgent, HTTPRequestID: cl.Origin.HTTPRequestID,
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
		BusinessGroupID: bg, ActorID: op.ClientID, Action: action, Outcome: audit.Success, TargetType: targetType, TargetID: targetID,
		RemoteAddr: op.RemoteAddr, UserAgent: op.Origin.UserAgent, HTTPRequestID: op.Origin.HTTPRequestID,
		Before: rawJSON(before), After: rawJSON(after), At: s.now().UTC(),
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
	Seq             int64           `json:"seq"`
	BusinessGroupID string          `json:"businessGroupId,omitempty"` // absent on the bank-level events of /ops/v1/audit
	ActorID         string          `json:"actorId"`
	Action          string          `json:"action"`
	Outcome         string          `json:"outcome,omitempty"` // absent on events from before issue 10 §5
	TargetType      string          `json:"targetType,omitempty"`
	TargetID        string          `json:"targetId,omitempty"`
	RequestID       string          `json:"requestId,omitempty"` // the approval request
	HTTPRequestID   string          `json:"httpRequestId,omitempty"`
	RemoteAddr      string          `json:"remoteAddr,omitempty"`
	UserAgent       string          `json:"userAgent,omitempty"`
	Before          json.RawMessage `json:"before,omitempty"`
	After           json.RawMessage `json:"after,omitempty"`
	At              time.Time       `json:"at"`
}

func toAuditJSON(e store.AuditEvent) auditJSON {
	return auditJSON{Seq: e.Seq, BusinessGroupID: e.BusinessGroupID, ActorID: e.ActorID, Action: e.Action, Outcome: e.Outcome,
		TargetType: e.TargetType, TargetID: e.TargetID, RequestID: e.RequestID, HTTPRequestID: e.HTTPRequestID,
		RemoteAddr: e.RemoteAddr, UserAgent: e.UserAgent, Before: e.Before, After: e.After, At: e.At.UTC()}
}

// auditOutcomes are the values ?outcome= takes.
var auditOutcomes = []string{audit.Success, audit.Failure, audit.Refused}

// auditFilterOf reads the filters both audit lists take: actor, target,
// action (exact, or a prefix when it ends in "*": action=signin.*),
// outcome, since and until.
func auditFilterOf(c echo.Context) (store.AuditFilter, error) {
	var f store.AuditFilter
	for name, dst := range map[string]**string{"actor": &f.ActorID, "target": &f.TargetID, "outcome": &f.Outcome} {
		if v := c.QueryParam(name); v != "" {
			*dst = &v
		}
	}
	if f.Outcome != nil && !slices.Contains(auditOutcomes, *f.Outcome) {
		pr := badRequest("outcome must be one of %s, not %q", strings.Join(auditOutcomes, ", "), *f.Outcome)
		pr.Errors = []FieldError{{Field: "outcome", Message: "must be one of " + strings.Join(auditOutcomes, ", ")}}
		return f, pr
	}
	if v := c.QueryParam("action"); v != "" {
		if prefix, ok := strings.CutSuffix(v, "*"); ok {
			f.ActionPrefix = &prefix
		} else {
			f.Action = &v
		}
	}
	var err error
	if f.Since, err = queryTime(c, "since"); err != nil {
		return f, err
	}
	if f.Until, err = queryTime(c, "until"); err != nil {
		return f, err
	}
	return f, nil
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
	f, err := auditFilterOf(c)
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
	return listOf(c, es, next, toAuditJSON)
}

// handleOpsListAudit is the bank's view of the whole log: every business's
// events and the bank-level ones (sign-ins of login IDs nobody holds, the
// operators' own). ?businessGroupId= narrows to one business group, and
// with an empty value to the bank-level events.
func (s *Server) handleOpsListAudit(c echo.Context) error {
	p, err := page(c)
	if err != nil {
		return err
	}
	f, err := auditFilterOf(c)
	if err != nil {
		return err
	}
	if vs, ok := c.QueryParams()["businessGroupId"]; ok && len(vs) > 0 {
		f.BusinessGroupID = &vs[0]
	}
	es, next, err := s.st.ListAudit(c.Request().Context(), f, p)
	if err != nil {
		return fmt.Errorf("admin: list audit: %w", err)
	}
	return listOf(c, es, next, toAuditJSON)
}

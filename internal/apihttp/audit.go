package apihttp

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/internal/audit"
	"github.com/bankfeed/bankfeed/store"
)

// RawJSON is v as an audit event's before or after.
func RawJSON(v any) json.RawMessage {
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

// AuditJSON is an audit event as /admin/v1/audit and /ops/v1/audit list it.
type AuditJSON struct {
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

// ToAuditJSON is e as the audit lists show it.
func ToAuditJSON(e store.AuditEvent) AuditJSON {
	return AuditJSON{Seq: e.Seq, BusinessGroupID: e.BusinessGroupID, ActorID: e.ActorID, Action: e.Action, Outcome: e.Outcome,
		TargetType: e.TargetType, TargetID: e.TargetID, RequestID: e.RequestID, HTTPRequestID: e.HTTPRequestID,
		RemoteAddr: e.RemoteAddr, UserAgent: e.UserAgent, Before: e.Before, After: e.After, At: e.At.UTC()}
}

// auditOutcomes are the values ?outcome= takes.
var auditOutcomes = []string{audit.Success, audit.Failure, audit.Refused}

// AuditFilter reads the filters both audit lists take: actor, target,
// action (exact, or a prefix when it ends in "*": action=signin.*),
// outcome, since and until.
func AuditFilter(c echo.Context) (store.AuditFilter, error) {
	var f store.AuditFilter
	for name, dst := range map[string]**string{"actor": &f.ActorID, "target": &f.TargetID, "outcome": &f.Outcome} {
		if v := c.QueryParam(name); v != "" {
			*dst = &v
		}
	}
	if f.Outcome != nil && !slices.Contains(auditOutcomes, *f.Outcome) {
		pr := BadRequest("outcome must be one of %s, not %q", strings.Join(auditOutcomes, ", "), *f.Outcome)
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
	if f.Since, err = QueryTime(c, "since"); err != nil {
		return f, err
	}
	if f.Until, err = QueryTime(c, "until"); err != nil {
		return f, err
	}
	return f, nil
}

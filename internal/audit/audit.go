// Package audit names the authentication events of the audit log (issue 10
// §5) and records them with where the request came from. Administrative
// events are named by the admin package; both share store's append-only log.
//
// Never put a password, code, token or secret in an event: events hold IDs,
// outcomes and reasons only.
package audit

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/store"
)

// Actions of authentication events; they are contracts for whoever filters
// the log (?action=).
const (
	SignInSucceeded      = "signin.succeeded"
	SignInFailed         = "signin.failed"
	SignInLockedOut      = "signin.locked_out"
	SignInFirstCompleted = "signin.first_completed"
	PasswordReset        = "user.password_reset"

	ConsentGranted = "consent.granted"
	ConsentUpdated = "consent.updated" // a new authorization replaced the (user, client)'s connection
	ConsentRevoked = "consent.revoked"

	RefreshFamilyRevoked = "token.refresh_family_revoked" // a used refresh token was presented again

	ClientCreated       = "client.created"
	ClientUpdated       = "client.updated"
	ClientDeleted       = "client.deleted"
	ClientSecretRotated = "client.secret_rotated"
)

// Outcomes.
const (
	Success = "success"
	Failure = "failure"
	Refused = "refused"
)

// Who revoked a consent (the "by" of a consent.revoked event's after).
const (
	ByUser          = "user"          // on /account/connections
	ByAdministrator = "administrator" // through /admin/v1/connections
	ByClient        = "client"        // RFC 7009 revocation
	ByPasswordReset = "password_reset"
	ByUserDeleted   = "user_deleted"
	ByCodeReuse     = "code_reuse"  // an authorization code presented twice ends its grant (RFC 6749 §4.1.2)
	ByReplacement   = "replacement" // a new authorization of the same client
)

// maxUserAgent bounds what a client can make us store.
const maxUserAgent = 256

// Origin is where an event's request came from.
type Origin struct {
	RemoteAddr    string
	UserAgent     string
	HTTPRequestID string
}

// OriginOf reads the origin of an echo request; the request ID is the one
// the server's middleware set (or accepted) in X-Request-ID.
func OriginOf(c echo.Context) Origin {
	r := c.Request()
	ua := r.UserAgent()
	if len(ua) > maxUserAgent {
		ua = ua[:maxUserAgent]
	}
	return Origin{RemoteAddr: c.RealIP(), UserAgent: ua, HTTPRequestID: r.Header.Get(echo.HeaderXRequestID)}
}

// Event builds an event of action with the origin filled in; details, if
// not nil, are its "after" JSON.
func (o Origin) Event(action, outcome string, details any) store.AuditEvent {
	e := store.AuditEvent{Action: action, Outcome: outcome, RemoteAddr: o.RemoteAddr, UserAgent: o.UserAgent, HTTPRequestID: o.HTTPRequestID}
	if details != nil {
		if b, err := json.Marshal(details); err == nil {
			e.After = b
		}
	}
	return e
}

// Appender is the part of the store an event is appended to.
type Appender interface {
	AppendAudit(ctx context.Context, e store.AuditEvent) (store.AuditEvent, error)
}

// Record appends e stamped at now. An audit failure does not undo what
// already happened (a sign-in, a revocation): it is logged, without the
// event's details, and the caller goes on.
func Record(ctx context.Context, st Appender, log *slog.Logger, now time.Time, e store.AuditEvent) {
	e.At = now.UTC()
	if _, err := st.AppendAudit(ctx, e); err != nil && log != nil {
		log.ErrorContext(ctx, "audit: append failed", "action", e.Action, "outcome", e.Outcome, "err", err)
	}
}

package authz

import (
	"context"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/internal/audit"
	"github.com/bankfeed/bankfeed/store"
)

// consentChange is what an authorization did to the user's connection with
// the client, for the audit log once its transaction committed.
type consentChange struct {
	user     store.User
	consent  store.Consent
	replaced []string // the consents it replaced (one, normally)
}

// auditConsentChange records consent.granted, or consent.updated when the
// authorization replaced a connection.
func (s *Server) auditConsentChange(c echo.Context, ch consentChange) {
	audit.Record(c.Request().Context(), s.st, s.log, s.now(), s.consentEvent(c, ch))
}

// consentEvent is auditConsentChange's event.
func (s *Server) consentEvent(c echo.Context, ch consentChange) store.AuditEvent {
	action := audit.ConsentGranted
	details := map[string]any{"clientId": ch.consent.ClientID, "scopes": ch.consent.Scopes}
	if len(ch.replaced) > 0 {
		action = audit.ConsentUpdated
		details["previousConsentId"] = ch.replaced[0]
	}
	e := audit.OriginOf(c).Event(action, audit.Success, details)
	e.BusinessGroupID, e.ActorID, e.TargetType, e.TargetID = ch.user.BusinessGroupID, ch.user.ID, "consent", ch.consent.ID
	e.At = s.now().UTC()
	return e
}

// grantAudit is the event auditConsentChange would record for a grant of
// consent to u, for the store to append with the grant
// (store.FlowStore.AllowReadAuthFlow): which of the two depends on what
// the grant replaces.
func (s *Server) grantAudit(c echo.Context, u store.User, consent store.Consent) store.GrantAudit {
	return store.GrantAudit{Granted: s.consentEvent(c, consentChange{user: u, consent: consent}),
		Replaced: s.consentEvent(c, consentChange{user: u, consent: consent, replaced: []string{store.ReplacedMark}})}
}

// endedGrants collects the consents fositeStore.RevokeRefreshToken revoked
// while fosite handled one request (a refresh token's reuse, a client's
// revocation), which only the handler can audit: it knows why, and where
// the request came from.
type endedGrants = collector[store.Consent]

// collector is what one request's storage calls leave for its handler,
// through ctx (endedGrants, tokenBatch).
type collector[T any] struct {
	mu    sync.Mutex
	items []T
}

func (l *collector[T]) add(v T) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.items = append(l.items, v)
}

// take hands over what was collected (once); nil for a nil collector.
func (l *collector[T]) take() []T {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	items := l.items
	l.items = nil
	return items
}

type endedGrantsKey struct{}

func withEndedGrants(ctx context.Context) (context.Context, *endedGrants) {
	g := &endedGrants{}
	return context.WithValue(ctx, endedGrantsKey{}, g), g
}

// noteEnded adds a consent this request revoked (if ctx collects them).
func noteEnded(ctx context.Context, c store.Consent) {
	if g, ok := ctx.Value(endedGrantsKey{}).(*endedGrants); ok {
		g.add(c)
	}
}

// auditEnded records one event per consent the request revoked: action
// with outcome, acted by the client, with details built from the consent.
// Never a token: the details are IDs.
func (s *Server) auditEnded(c echo.Context, g *endedGrants, action, outcome string, details func(store.Consent) map[string]any) {
	ctx := c.Request().Context()
	for _, cs := range g.take() {
		e := audit.OriginOf(c).Event(action, outcome, details(cs))
		e.ActorID, e.TargetType, e.TargetID = cs.ClientID, "consent", cs.ID
		if u, err := s.st.GetUser(ctx, cs.UserID); err == nil {
			e.BusinessGroupID = u.BusinessGroupID
		} else {
			s.log.WarnContext(ctx, "audit: user of a revoked consent", "consent", cs.ID, "err", err)
		}
		audit.Record(ctx, s.st, s.log, s.now(), e)
	}
}

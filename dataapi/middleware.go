package dataapi

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/store"
)

const (
	headerInteractionID = "x-fapi-interaction-id"
	maxTokenLength      = 4096
	principalKey        = "dataapi.principal"
	queryKey            = "dataapi.query"
)

// problems is the group's outermost middleware: it sets the headers every
// response carries (interaction ID, no-store) and turns any error or panic
// of the handlers below into a problem response.
func (s *Server) problems(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		h := c.Response().Header()
		id := c.Request().Header.Get(headerInteractionID)
		if !validInteractionID(id) {
			id = newUUID()
		}
		h.Set(headerInteractionID, id)
		h.Set("Cache-Control", "no-store")
		h.Set("Pragma", "no-cache")
		h.Set("X-Content-Type-Options", "nosniff")
		ctx := c.Request().Context()
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				s.log.ErrorContext(ctx, "dataapi: panic", slog.Any("panic", r), slog.String("interaction_id", id))
				err = s.sendError(c, errInternal())
			}
		}()
		if err := next(c); err != nil {
			if errors.Is(err, echo.ErrNotFound) && c.Request().Method != http.MethodGet && s.isRoute(c.Request().URL.Path) {
				err = errMethodNotAllowed()
			}
			return s.sendError(c, s.problemFor(ctx, err))
		}
		return nil
	}
}

func (s *Server) sendError(c echo.Context, p *Problem) error {
	if c.Response().Committed {
		// Headers are gone (a document was streaming): nothing to tell the
		// client but a broken body; the log has the cause.
		return nil
	}
	return writeProblem(c, p)
}

// validInteractionID accepts what a client may reasonably send (a UUID or a
// similar token); anything else is replaced by a fresh UUID rather than
// echoed into our headers and logs.
func validInteractionID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// newUUID returns a random RFC 9562 version 4 UUID.
func newUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// principal is who is calling, re-read from the store on every request.
type principal struct {
	grant   store.Grant
	user    store.User
	consent store.Consent
	// group is the user's account group (nil: no assignment or no group).
	// Its AccountIDs are read only on routes without an account.
	group *store.AccountGroup
	// account is the route's account when the principal may see it now.
	account *store.Account
	scopes  []string // grant ∩ consent ∩ what the job role allows now
	maxSeq  int64    // store.MaxSeq read with the records; -1: not read
}

func (p *principal) hasScope(s string) bool { return slices.Contains(p.scopes, s) }

// canSee reports whether the account ID is in the user's account group
// (routes without an account); the account itself must still be checked
// with store.CanSeeAccount.
func (p *principal) canSee(accountID string) bool {
	return p.group != nil && slices.Contains(p.group.AccountIDs, accountID)
}

func principalFrom(c echo.Context) *principal {
	p, _ := c.Get(principalKey).(*principal)
	return p
}

// authenticate checks the bearer token and everything it depends on: the
// grant, the client's rate budget, the user (still there and active), the
// consent (still standing) and the job role and account group as they are
// now. Any failure of the token, user or consent is a 401.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		ctx := r.Context()
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			return invalidParam(codeInvalidInput, "query", "query", "the query string is malformed")
		}
		if q.Has("access_token") {
			return errTokenInQuery()
		}
		c.Set(queryKey, q)
		token, err := bearerToken(r.Header)
		if err != nil {
			return err
		}
		accountID := c.Param("accountId")
		if !validID(accountID) {
			accountID = "" // answered 404 by the handler, like any account it cannot see
		}
		grant, access, err := s.verify(ctx, token, accountID)
		if err != nil {
			if !s.badToken(err) {
				return fmt.Errorf("dataapi: verify token: %w", err)
			}
			s.log.DebugContext(ctx, "dataapi: token refused", slog.Any("err", err))
			return errInvalidToken("the access token is invalid, expired or revoked")
		}
		now := s.now()
		if !grant.ExpiresAt.IsZero() && !now.Before(grant.ExpiresAt) {
			return errInvalidToken("the access token has expired")
		}
		if grant.UserID == "" || grant.RequestID == "" {
			return errInvalidToken("the access token is not bound to a user's consent")
		}
		if s.limiter != nil {
			if err := s.limiter.take(c.Response().Header(), grant.ClientID); err != nil {
				return err
			}
		}
		p, err := s.loadPrincipal(ctx, grant, now, accountID, access)
		if err != nil {
			return err
		}
		c.Set(principalKey, p)
		s.touchConsent(ctx, p.consent.ID, now)
		return next(c)
	}
}

func bearerToken(h http.Header) (string, error) {
	vals := h.Values("Authorization")
	if len(vals) == 0 {
		return "", errUnauthenticated("send the access token as Authorization: Bearer <token>")
	}
	if len(vals) > 1 {
		return "", errInvalidToken("more than one Authorization header")
	}
	scheme, token, ok := strings.Cut(vals[0], " ")
	if !ok && strings.EqualFold(scheme, "Bearer") {
		return "", errInvalidToken("the access token is missing after Bearer")
	}
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", errUnauthenticated("only the Bearer authorization scheme is accepted")
	}
	token = strings.TrimSpace(token)
	if token == "" || len(token) > maxTokenLength || !isB64Token(token) {
		return "", errInvalidToken("the access token is malformed")
	}
	return token, nil
}

// isB64Token is RFC 6750's b64token syntax.
func isB64Token(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			r == '-' || r == '.' || r == '_' || r == '~' || r == '+' || r == '/' || r == '=') {
			return false
		}
	}
	return true
}

// verify checks the bearer token. With a RecordVerifier and a
// store.AccessReader, the token record and the records loadPrincipal judges
// come in one statement, returned as access (nil: read them separately).
func (s *Server) verify(ctx context.Context, token, accountID string) (store.Grant, *store.Access, error) {
	rv, ok := s.verifier.(RecordVerifier)
	ar, ok2 := s.store.(store.AccessReader)
	if !ok || !ok2 {
		g, err := s.verifier.Verify(ctx, token)
		return g, nil, err
	}
	var access *store.Access
	g, err := rv.VerifyWith(ctx, token, func(ctx context.Context, sig string) (store.TokenRecord, error) {
		rec, a, ok, err := ar.ReadTokenAccess(ctx, sig, accountID)
		if err != nil {
			return store.TokenRecord{}, err
		}
		if ok {
			access = &a
			return rec, nil
		}
		return s.store.GetToken(ctx, store.TokenAccess, sig) // the rest is read record by record
	})
	if err != nil {
		return store.Grant{}, nil, err
	}
	return g, access, nil
}

// loadPrincipal judges the user, consent, assignment, job role, account
// group and the route's account (accountID, "" for none), re-read now
// unless verify read them with the token (read). A gone or inactive
// user and a revoked or foreign consent make the token invalid; a missing
// assignment only leaves no scope.
func (s *Server) loadPrincipal(ctx context.Context, g store.Grant, now time.Time, accountID string, read *store.Access) (*principal, error) {
	a := read
	if a == nil {
		r, err := s.readAccess(ctx, g, accountID)
		if err != nil {
			return nil, err
		}
		a = &r
	}
	user, consent := a.User, a.Consent
	if user.Status != store.UserActive {
		return nil, errInvalidToken("the user is not active")
	}
	if !consent.Active(now) || consent.UserID != user.ID || consent.ClientID != g.ClientID {
		return nil, errInvalidToken("the consent behind the token was revoked or has expired")
	}
	p := &principal{grant: g, user: user, consent: consent, maxSeq: a.MaxSeq}
	if a.Role.ID != "" {
		allowed := store.AllowedScopes(store.EffectiveGrants(user, a.Role))
		for _, sc := range allowed {
			if g.HasScope(sc) && slices.Contains(consent.Scopes, sc) {
				p.scopes = append(p.scopes, sc)
			}
		}
	}
	if a.Group.ID != "" && a.Group.BusinessGroupID == user.BusinessGroupID {
		p.group = &a.Group
		// The store put the account in the group's list; the rest of
		// store.CanSeeAccount is the business group.
		if a.Account.ID != "" && a.Account.BusinessGroupID == user.BusinessGroupID {
			p.account = &a.Account
		}
	}
	return p, nil
}

// readAccess reads the records loadPrincipal judges: in one round trip
// when the store is a store.AccessReader and everything is there, else one
// by one, which also tells a missing user or consent (401) from a missing
// assignment, role, group or account (no scope, no account). Records that
// are missing are zero, as is MaxSeq (-1) when it was not read.
func (s *Server) readAccess(ctx context.Context, g store.Grant, accountID string) (store.Access, error) {
	if r, ok := s.store.(store.AccessReader); ok {
		a, ok, err := r.ReadAccess(ctx, g.RequestID, g.UserID, accountID)
		if err != nil {
			return store.Access{}, fmt.Errorf("dataapi: read access: %w", err)
		}
		if ok {
			return a, nil
		}
	}
	a := store.Access{MaxSeq: -1}
	var err error
	a.User, err = s.store.GetUser(ctx, g.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return a, errInvalidToken("the user no longer exists")
	} else if err != nil {
		return a, fmt.Errorf("dataapi: get user: %w", err)
	}
	a.Consent, err = s.store.GetConsent(ctx, g.RequestID)
	if errors.Is(err, store.ErrNotFound) {
		return a, errInvalidToken("the consent behind the token no longer exists")
	} else if err != nil {
		return a, fmt.Errorf("dataapi: get consent: %w", err)
	}
	a.Assignment, err = s.store.UserAssignment(ctx, g.UserID, "")
	if errors.Is(err, store.ErrNotFound) {
		return a, nil
	} else if err != nil {
		return a, fmt.Errorf("dataapi: get assignment: %w", err)
	}
	a.Role, err = s.store.GetJobRole(ctx, a.Assignment.JobRoleID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return a, fmt.Errorf("dataapi: get job role: %w", err)
	}
	if a.Assignment.AccountGroupID == "" {
		return a, nil
	}
	a.Group, err = s.store.GetAccountGroup(ctx, a.Assignment.AccountGroupID)
	if errors.Is(err, store.ErrNotFound) {
		return a, nil
	} else if err != nil {
		return a, fmt.Errorf("dataapi: get account group: %w", err)
	}
	if accountID == "" {
		return a, nil
	}
	inGroup := slices.Contains(a.Group.AccountIDs, accountID)
	a.Group.AccountIDs = nil // as the one-statement read: only a membership test on account routes
	if !inGroup {
		return a, nil
	}
	a.Account, err = s.store.GetAccount(ctx, accountID)
	if errors.Is(err, store.ErrNotFound) {
		return a, nil
	} else if err != nil {
		return a, fmt.Errorf("dataapi: get account: %w", err)
	}
	return a, nil
}

// touchConsent records the consent's use, at most once a minute per consent
// from this replica (the store rate-limits too; this saves the round trip).
// A failure is logged, never fatal: the read itself was allowed.
func (s *Server) touchConsent(ctx context.Context, id string, now time.Time) {
	s.touchMu.Lock()
	last, ok := s.touched[id]
	fresh := ok && now.Sub(last) < time.Minute && !now.Before(last)
	if !fresh {
		s.touched[id] = now
		if len(s.touched) > 100_000 { // bound the memory: forget everything old
			for k, t := range s.touched {
				if now.Sub(t) >= time.Minute {
					delete(s.touched, k)
				}
			}
		}
	}
	s.touchMu.Unlock()
	if fresh {
		return
	}
	if err := s.store.TouchConsent(ctx, id, now); err != nil {
		s.log.WarnContext(ctx, "dataapi: touch consent", slog.String("consent", id), slog.Any("err", err))
	}
}

// requireScope answers 403 insufficient_scope unless the principal holds
// scope now.
func (s *Server) requireScope(scope string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			p := principalFrom(c)
			if p == nil {
				return errUnauthenticated("authentication required")
			}
			if !p.hasScope(scope) {
				return errInsufficientScope(scope)
			}
			return next(c)
		}
	}
}

// visibleAccount returns the route's account if the principal may see it
// now (authenticate read it); anything else (unknown, another business
// group, outside the account group, malformed ID) is the same 404 701.
func (s *Server) visibleAccount(p *principal, id string) (store.Account, error) {
	if p.account == nil || p.account.ID != id {
		return store.Account{}, errAccountNotFound()
	}
	return *p.account, nil
}

// validID is FDX's Identifier: 1 to 256 printable ASCII characters.
func validID(id string) bool {
	if id == "" || len(id) > 256 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return false
		}
	}
	return true
}

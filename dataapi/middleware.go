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
	realm               = "fdx" // the challenges' realm (RFC 6750 §3)
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
	if p.challenge && p.wwwAuthenticate == "" {
		p.wwwAuthenticate = s.challenge(p.authError, p.authDescription)
	}
	return writeProblem(c, p)
}

// challenge is the WWW-Authenticate of a 401 the API refuses itself: the
// verifier's wording when it has one (authz.Server's lists its profile's
// DPoP algorithms), else Bearer's alone.
func (s *Server) challenge(code, description string) string {
	if ch, ok := s.verifier.(interface {
		Challenge(realm, code, description string) string
	}); ok {
		return ch.Challenge(realm, code, description)
	}
	if code == "" {
		return fmt.Sprintf("Bearer realm=%q", realm)
	}
	return fmt.Sprintf("Bearer realm=%q, error=%q, error_description=%q", realm, code, description)
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
	maxSeq  int64    // store.MaxSeq read with the records
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
		if _, err := bearerToken(r.Header); err != nil {
			return err
		}
		accountID := c.Param("accountId")
		if !validID(accountID) {
			accountID = "" // answered 404 by the handler, like any account it cannot see
		}
		grant, access, err := s.verify(r, accountID)
		if err != nil {
			// An outage is never a bad token (issue 11, finding 3): it
			// becomes the 503 problem whatever IsInvalidToken says.
			if errors.Is(err, store.ErrUnavailable) || !s.badToken(err) {
				return fmt.Errorf("dataapi: verify token: %w", err)
			}
			s.log.DebugContext(ctx, "dataapi: token refused", slog.Any("err", err))
			return refusedToken(c, err)
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
				s.metrics.RateLimited()
				return err
			}
		}
		p, err := s.loadPrincipal(grant, now, access)
		if err != nil {
			return err
		}
		c.Set(principalKey, p)
		s.touchConsent(ctx, p.consent.ID, now)
		return next(c)
	}
}

// refusedToken is the 401 of a token the verifier refused: with its
// challenge and DPoP-Nonce when it tells them (a DPoP proof's error is
// on the DPoP scheme, RFC 9449 §7.1).
func refusedToken(c echo.Context, err error) *Problem {
	p := errInvalidToken("the access token is invalid, expired or revoked")
	var ch interface{ Challenge(realm string) string }
	if errors.As(err, &ch) {
		p.wwwAuthenticate = ch.Challenge(realm)
	}
	var n interface{ DPoPNonce() string }
	if errors.As(err, &n) && n.DPoPNonce() != "" {
		c.Response().Header().Set("DPoP-Nonce", n.DPoPNonce())
	}
	return p
}

// bearerToken checks the Authorization header's form: one header, the
// Bearer or DPoP scheme (RFC 9449 §7.1), a b64token.
func bearerToken(h http.Header) (string, error) {
	vals := h.Values("Authorization")
	if len(vals) == 0 {
		return "", errUnauthenticated("send the access token as Authorization: Bearer <token> (or DPoP <token> with a DPoP proof)")
	}
	if len(vals) > 1 {
		return "", errInvalidToken("more than one Authorization header")
	}
	scheme, token, ok := strings.Cut(vals[0], " ")
	known := strings.EqualFold(scheme, "Bearer") || strings.EqualFold(scheme, "DPoP")
	if !ok && known {
		return "", errInvalidToken("the access token is missing after " + scheme)
	}
	if !ok || !known {
		return "", errUnauthenticated("only the Bearer and DPoP authorization schemes are accepted")
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

// verify checks the request's token (and DPoP proof), reading its record
// in the same statement as the records the grant is judged on
// (store.AccessStore's ReadTokenAccess), returned as access.
func (s *Server) verify(r *http.Request, accountID string) (store.Grant, store.Access, error) {
	var access store.Access
	g, err := s.verifier.VerifyRequestWith(r, func(ctx context.Context, sig string) (store.TokenRecord, error) {
		rec, a, err := s.store.ReadTokenAccess(ctx, sig, accountID)
		access = a
		return rec, err
	})
	if err != nil {
		return store.Grant{}, store.Access{}, err
	}
	return g, access, nil
}

// loadPrincipal judges the grant on the records verify read with the token
// (store.JudgeGrant): a grant that no longer stands is an invalid token
// (401, with the reason); a missing assignment, role or group only leaves
// no scope or no account.
func (s *Server) loadPrincipal(g store.Grant, now time.Time, a store.Access) (*principal, error) {
	sp, err := store.JudgeGrant(g, a, now, false)
	if errors.Is(err, store.ErrGrantEnded) {
		return nil, errInvalidToken(err.Error())
	} else if err != nil {
		return nil, fmt.Errorf("dataapi: judge grant: %w", err)
	}
	return &principal{grant: g, user: sp.User, consent: sp.Consent, group: sp.Group, account: sp.Account, scopes: sp.Scopes, maxSeq: a.MaxSeq}, nil
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
// one of scopes now.
func (s *Server) requireScope(scopes ...string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			p := principalFrom(c)
			if p == nil {
				return errUnauthenticated("authentication required")
			}
			if !slices.ContainsFunc(scopes, p.hasScope) {
				return errInsufficientScope(scopes...)
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

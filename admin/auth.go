package admin

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/internal/apihttp"
	"github.com/bankfeed/bankfeed/internal/audit"
	"github.com/bankfeed/bankfeed/store"
)

// caller is the signed-in business user behind an /admin/v1 request, with
// the rights of their job role in the chosen context.
type caller struct {
	User          store.User
	Grant         store.Grant
	LegalEntityID string // the context: "" is the business group overview
	Grants        store.Grants
	RemoteAddr    string
	Origin        audit.Origin // for the audit log (issue 10 §5)
}

const callerKey = "bankfeed.admin.caller"

func callerFrom(c echo.Context) (caller, bool) {
	cl, ok := c.Get(callerKey).(caller)
	return cl, ok
}

func mustCaller(c echo.Context) caller {
	cl, _ := callerFrom(c)
	return cl
}

// requireAdmin admits first-party "admin" tokens of active ordinary users
// and resolves their rights in the requested context.
func (s *Server) requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		cl, err := s.resolveCaller(c)
		if err != nil {
			return s.errs.Fail(c, err)
		}
		c.Set(callerKey, cl)
		return next(c)
	}
}

func (s *Server) resolveCaller(c echo.Context) (caller, error) {
	const realm = "bankfeed-admin"
	ctx := c.Request().Context()
	g, err := apihttp.Bearer(c, s.verifier, realm)
	if err != nil {
		return caller{}, err
	}
	if !g.HasScope(store.ScopeAdmin) {
		return caller{}, apihttp.InsufficientScope(realm, store.ScopeAdmin, "the token lacks the admin scope")
	}
	if !g.FirstParty || g.UserID == "" {
		return caller{}, apihttp.Forbidden("not-first-party", "only the bank's online-banking front end, on behalf of a signed-in user, may call this API")
	}
	u, err := s.st.GetUser(ctx, g.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return caller{}, apihttp.Unauthorized("the token's user no longer exists", apihttp.Challenge(s.verifier, realm, "invalid_token", "the token's user no longer exists"))
	} else if err != nil {
		return caller{}, fmt.Errorf("admin: get caller: %w", err)
	}
	entity := c.Request().Header.Get("X-Legal-Entity-ID")
	if q := c.QueryParam("context"); q != "" {
		entity = q
	}
	cl, err := s.callerOf(ctx, u, entity)
	if err != nil {
		return caller{}, err
	}
	cl.Grant, cl.RemoteAddr, cl.Origin = g, c.RealIP(), audit.OriginOf(c)
	return cl, nil
}

// callerOf is user u administering in the context of legal entity entity
// ("": the business group overview), with the rights held there; the one
// rule of who may administer, for tokens (resolveCaller) and the
// console's signed-in users (AdminFor).
func (s *Server) callerOf(ctx context.Context, u store.User, entity string) (caller, error) {
	if u.AccountingSoftware {
		return caller{}, apihttp.Forbidden("accounting-software-user", "an accounting software user cannot administer the business group")
	}
	if u.Status != store.UserActive {
		return caller{}, apihttp.Forbidden("user-not-active", fmt.Sprintf("the user is %s", strings.ToLower(strings.ReplaceAll(string(u.Status), "_", " "))))
	}
	cl := caller{User: u, Grants: store.Grants{}}
	if entity != "" {
		le, err := s.st.GetLegalEntity(ctx, entity)
		if errors.Is(err, store.ErrNotFound) || (err == nil && le.BusinessGroupID != u.BusinessGroupID) {
			return caller{}, apihttp.NotFound("legal entity", entity)
		} else if err != nil {
			return caller{}, fmt.Errorf("admin: get context entity: %w", err)
		}
		cl.LegalEntityID = le.ID
	}
	grants, err := s.grantsOf(ctx, u, cl.LegalEntityID)
	if err != nil {
		return caller{}, err
	}
	cl.Grants = grants
	return cl, nil
}

// grantsOf is what u holds in an entity's context (falling back to the
// business group overview) or the overview ("").
func (s *Server) grantsOf(ctx context.Context, u store.User, entity string) (store.Grants, error) {
	a, err := s.st.UserAssignment(ctx, u.ID, entity)
	if errors.Is(err, store.ErrNotFound) && entity != "" {
		a, err = s.st.UserAssignment(ctx, u.ID, "")
	}
	if errors.Is(err, store.ErrNotFound) {
		return store.Grants{}, nil
	} else if err != nil {
		return nil, fmt.Errorf("admin: get assignment: %w", err)
	}
	// An assignment's role always exists: the store refuses to delete an
	// assigned role (and a foreign key backs that).
	role, err := s.st.GetJobRole(ctx, a.JobRoleID)
	if err != nil {
		return nil, fmt.Errorf("admin: get job role: %w", err)
	}
	return store.EffectiveGrants(u, role), nil
}

// allow checks an operation's requirements against the caller's rights.
func allow(cl caller, ops ...store.Operation) error {
	for _, op := range ops {
		if err := store.Check(cl.Grants, op.Requirements()...); err != nil {
			return err
		}
	}
	return nil
}

// scope is what the caller's context reaches (store.Scope): rights held in
// an entity's context act on that entity's users and accounts only.
func (cl caller) scope() store.Scope {
	return store.Scope{BusinessGroupID: cl.User.BusinessGroupID, LegalEntityID: cl.LegalEntityID}
}

// outOfContext is the 403 of an action on something the caller's context
// does not reach (a *store.ReachError); other errors pass through.
func outOfContext(err error, doing string) error {
	var re *store.ReachError
	if !errors.As(err, &re) {
		return err
	}
	return apihttp.Forbidden("out-of-context", fmt.Sprintf("%s: %s; act in a context that reaches it (the business group overview reaches every entity)", doing, re.Error()))
}

// reachableUser is getUser confined to the caller's context too: a user it
// does not reach is a 404, exactly like another business group's.
func (s *Server) reachableUser(cl caller) func(ctx context.Context, bg, id string) (store.User, error) {
	return func(ctx context.Context, bg, id string) (store.User, error) {
		u, err := s.getUser(ctx, bg, id)
		if err == nil && !cl.scope().ReachesUser(u) {
			return u, apihttp.NotFound("user", id)
		}
		return u, err
	}
}

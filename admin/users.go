package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/internal/apihttp"
	"github.com/bankfeed/bankfeed/store"
)

// Article instructions for a flag that can never change.
const (
	msgRemoveAccountingSoftware = "the Accounting software box cannot be removed after creation: delete the user and create it again without checking the box"
	msgAddAccountingSoftware    = "the Accounting software box can only be checked when the user is created: create a new user with the box checked"
)

func (s *Server) handleListUsers(c echo.Context) error {
	cl := mustCaller(c)
	if err := allow(cl, store.OpViewUsers); err != nil {
		return err
	}
	p, err := apihttp.ReadPage(c)
	if err != nil {
		return err
	}
	f := store.UserFilter{BusinessGroupID: cl.User.BusinessGroupID}
	if !cl.scope().Overview() {
		f.LegalEntityID = &cl.LegalEntityID // an entity's context lists its users only
	}
	if f.AccountingSoftware, err = apihttp.QueryBool(c, "accountingSoftware"); err != nil {
		return err
	}
	if v := c.QueryParam("status"); v != "" {
		st := store.UserStatus(strings.ToUpper(v))
		switch st {
		case store.UserActive, store.UserAwaitingSignIn, store.UserLocked, store.UserDeleted:
		default:
			return apihttp.BadRequest("status must be ACTIVE, AWAITING_FIRST_SIGN_IN, LOCKED or DELETED, not %q", v)
		}
		f.Status = &st
		f.IncludeDeleted = st == store.UserDeleted
	}
	if inc, err := apihttp.QueryBool(c, "includeDeleted"); err != nil {
		return err
	} else if inc != nil {
		f.IncludeDeleted = *inc
	}
	us, next, err := s.st.ListUsers(c.Request().Context(), f, p)
	if err != nil {
		return fmt.Errorf("admin: list users: %w", err)
	}
	return apihttp.ListOf(c, us, next, apihttp.ToUserJSON)
}

func (s *Server) handleGetUser(c echo.Context) error {
	return showIn(c, store.OpViewUsers, s.reachableUser(mustCaller(c)), apihttp.ToUserJSON)
}

// NewUser is a request to create a user: the body of POST /admin/v1/users
// and the console's "Add user" form.
type NewUser struct {
	LoginID            string `json:"loginId"`
	DisplayName        string `json:"displayName"`
	Email              string `json:"email"`
	AccountingSoftware bool   `json:"accountingSoftware"`
	// LegalEntityID is the entity the user belongs to: absent, the caller's
	// context; "" (the business group overview) only in the overview.
	LegalEntityID *string `json:"legalEntityId"`
	// JobRoleID and AccountGroupID, both or neither, are assigned to the
	// user when the creation is approved, in the maker's context.
	JobRoleID      string `json:"jobRoleId"`
	AccountGroupID string `json:"accountGroupId"`
}

func (s *Server) handleCreateUser(c echo.Context) error {
	cl := mustCaller(c)
	if err := allow(cl, store.OpCreateUser); err != nil {
		return err
	}
	var b NewUser
	if err := apihttp.Decode(c, s.maxBody, &b); err != nil {
		return err
	}
	return submitted(c)(s.createUser(c.Request().Context(), cl, b))
}

// createUser submits the creation of a user.
func (s *Server) createUser(ctx context.Context, cl caller, b NewUser) (store.ApprovalRequest, error) {
	if err := allow(cl, store.OpCreateUser); err != nil {
		return store.ApprovalRequest{}, err
	}
	p := userCreatePayload{LoginID: strings.TrimSpace(b.LoginID), DisplayName: strings.TrimSpace(b.DisplayName),
		Email: strings.TrimSpace(b.Email), AccountingSoftware: b.AccountingSoftware}
	var errs []apihttp.FieldError
	for _, e := range store.UserIdentityProblems(p.LoginID, p.DisplayName, p.Email) {
		errs = append(errs, apihttp.FieldError{Field: e.Field, Message: e.Message})
	}
	p.LegalEntityID = cl.LegalEntityID
	if b.LegalEntityID != nil {
		p.LegalEntityID = strings.TrimSpace(*b.LegalEntityID)
	}
	p.JobRoleID, p.AccountGroupID = strings.TrimSpace(b.JobRoleID), strings.TrimSpace(b.AccountGroupID)
	switch {
	case p.JobRoleID != "" && p.AccountGroupID == "":
		errs = append(errs, apihttp.FieldError{Field: "accountGroupId", Message: "is required with a job role"})
	case p.JobRoleID == "" && p.AccountGroupID != "":
		errs = append(errs, apihttp.FieldError{Field: "jobRoleId", Message: "is required with an account group"})
	}
	if len(errs) > 0 {
		return store.ApprovalRequest{}, apihttp.InvalidFields(errs...)
	}
	if err := s.checkUserEntity(ctx, cl.scope(), p.LegalEntityID); err != nil {
		return store.ApprovalRequest{}, err
	}
	if p.JobRoleID != "" {
		p.AssignmentContext = cl.LegalEntityID
		if err := s.checkNewUserAssignment(ctx, cl, p); err != nil {
			return store.ApprovalRequest{}, err
		}
	}
	if err := s.checkLoginFreeIn(ctx, cl.User.BusinessGroupID, p.LoginID); err != nil {
		return store.ApprovalRequest{}, err
	}
	return s.submit(ctx, cl, submission{Kind: store.KindCreateUser, TargetType: "user", Payload: p})
}

// checkNewUserAssignment is checkAssignment and checkAssignmentScope for
// the user a request creates: the maker may assign, the role suits the
// user (rule 3), and the group is one the maker's context reaches.
func (s *Server) checkNewUserAssignment(ctx context.Context, cl caller, p userCreatePayload) error {
	if err := allow(cl, store.OpAssign); err != nil {
		return err
	}
	role, err := s.getJobRole(ctx, cl.User.BusinessGroupID, p.JobRoleID)
	if err != nil {
		return err
	}
	u := store.User{BusinessGroupID: cl.User.BusinessGroupID, LegalEntityID: p.LegalEntityID, AccountingSoftware: p.AccountingSoftware}
	if err := store.CheckAssignable(u, role); err != nil {
		var rule *store.RuleError
		if errors.As(err, &rule) {
			return apihttp.InvalidField("jobRoleId", "the job role %q cannot be given to this user: %s", role.Name, rule.Message)
		}
		return err
	}
	return s.checkGroupInScope(ctx, cl, p.AccountGroupID)
}

// checkUserEntity: a new user belongs to an entity of the business group
// that sc reaches — in an entity's context that entity only; "" (the group
// level) only in the overview. A 422 on legalEntityId otherwise.
func (s *Server) checkUserEntity(ctx context.Context, sc store.Scope, entity string) error {
	if !sc.ReachesEntity(entity) {
		return apihttp.InvalidField("legalEntityId", "in the context of legal entity %q a user can only be created for that entity", sc.LegalEntityID)
	}
	if entity == "" {
		return nil
	}
	_, err := s.getLegalEntity(ctx, sc.BusinessGroupID, entity)
	var p *Problem
	if errors.As(err, &p) && p.Status == http.StatusNotFound {
		return apihttp.InvalidField("legalEntityId", "%q is not a legal entity of your business group", entity)
	}
	return err
}

// checkLoginFreeIn refuses, at submission, a login ID held by a user of the
// maker's own business group — which the maker can list anyway. One held in
// another business group is not looked at: the submission is answered as
// for a free ID, so it tells nothing about other businesses (issue 10,
// finding 7). Login IDs are typed alone on the sign-in page, so they are
// unique bank-wide and the approval must still refuse it, with
// loginUnavailable.
func (s *Server) checkLoginFreeIn(ctx context.Context, businessGroupID, login string) error {
	u, err := s.st.GetUserByLogin(ctx, login)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil
	case err != nil:
		return fmt.Errorf("admin: get user by login: %w", err)
	case u.BusinessGroupID == businessGroupID:
		return apihttp.Conflict("the user ID %q is already taken by a user of your business group; choose another user ID", login)
	}
	return nil
}

// loginUnavailable is the approval's one answer for a login ID held by any
// user not deleted, the same whether of this business group or another:
// the checker learns to choose another ID, and nothing about who holds it.
func loginUnavailable(login string) error {
	return apihttp.Conflict("the user ID %q is already taken; reject this request and submit the user again with another user ID", login)
}

type editUserBody struct {
	AccountingSoftware *bool   `json:"accountingSoftware"`
	DisplayName        *string `json:"displayName"`
	Email              *string `json:"email"`
}

// handleEditUser exists to refuse what the article forbids with its
// instruction; other user changes go through lock, unlock, reset-password
// and delete.
func (s *Server) handleEditUser(c echo.Context) error {
	cl := mustCaller(c)
	u, err := pathTarget(c, cl, store.OpEditUser, s.reachableUser(cl))
	if err != nil {
		return err
	}
	var b editUserBody
	if err := apihttp.Decode(c, s.maxBody, &b); err != nil {
		return err
	}
	if b.AccountingSoftware != nil && *b.AccountingSoftware != u.AccountingSoftware {
		if u.AccountingSoftware {
			return apihttp.InvalidField("accountingSoftware", msgRemoveAccountingSoftware)
		}
		return apihttp.InvalidField("accountingSoftware", msgAddAccountingSoftware)
	}
	return apihttp.InvalidField("", "nothing to change: use lock, unlock, reset-password or delete")
}

func (s *Server) handleDeleteUser(c echo.Context) error {
	return submitted(c)(s.userAction(c.Request().Context(), mustCaller(c), store.KindDeleteUser, c.Param("id")))
}

func (s *Server) handleUserAction(k store.ApprovalKind) echo.HandlerFunc {
	return func(c echo.Context) error {
		return submitted(c)(s.userAction(c.Request().Context(), mustCaller(c), k, c.Param("id")))
	}
}

// userAction submits a delete, lock, unlock or password reset of user id.
func (s *Server) userAction(ctx context.Context, cl caller, k store.ApprovalKind, id string) (store.ApprovalRequest, error) {
	op := store.OpEditUser
	if k == store.KindDeleteUser {
		op = store.OpDeleteUser
	}
	u, err := target(ctx, cl, op, id, s.reachableUser(cl))
	if err != nil {
		return store.ApprovalRequest{}, err
	}
	if u.ID == cl.User.ID && (k == store.KindDeleteUser || k == store.KindLockUser) {
		return store.ApprovalRequest{}, apihttp.InvalidField("id", "you cannot %s yourself", strings.TrimPrefix(string(k), "user."))
	}
	if err := userActionAllowed(k, u); err != nil {
		return store.ApprovalRequest{}, err
	}
	return s.submit(ctx, cl, submission{Kind: k, TargetType: "user", TargetID: u.ID, TargetVersion: u.Version,
		Payload: map[string]string{"userId": u.ID, "loginId": u.LoginID}, Before: apihttp.ToUserJSON(u)})
}

package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/store"
)

type userJSON struct {
	ID                 string           `json:"id"`
	LoginID            string           `json:"loginId"`
	DisplayName        string           `json:"displayName"`
	Email              string           `json:"email,omitempty"`
	LegalEntityID      string           `json:"legalEntityId,omitempty"` // absent: a user of the business group overview
	AccountingSoftware bool             `json:"accountingSoftware"`
	Status             store.UserStatus `json:"status"`
	MustChangePassword bool             `json:"mustChangePassword"`
	LockedUntil        *time.Time       `json:"lockedUntil,omitempty"`
	CreatedAt          time.Time        `json:"createdAt"`
	UpdatedAt          time.Time        `json:"updatedAt"`
	DeletedAt          *time.Time       `json:"deletedAt,omitempty"`
	Version            int64            `json:"version"`
}

func toUserJSON(u store.User) userJSON {
	return userJSON{ID: u.ID, LoginID: u.LoginID, DisplayName: u.DisplayName, Email: u.Email, LegalEntityID: u.LegalEntityID,
		AccountingSoftware: u.AccountingSoftware, Status: u.Status, MustChangePassword: u.MustChangePassword, LockedUntil: timeOrNil(u.LockedUntil),
		CreatedAt: u.CreatedAt.UTC(), UpdatedAt: u.UpdatedAt.UTC(), DeletedAt: timeOrNil(u.DeletedAt), Version: u.Version}
}

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
	p, err := page(c)
	if err != nil {
		return err
	}
	f := store.UserFilter{BusinessGroupID: cl.User.BusinessGroupID}
	if !cl.scope().Overview() {
		f.LegalEntityID = &cl.LegalEntityID // an entity's context lists its users only
	}
	if f.AccountingSoftware, err = queryBool(c, "accountingSoftware"); err != nil {
		return err
	}
	if v := c.QueryParam("status"); v != "" {
		st := store.UserStatus(strings.ToUpper(v))
		switch st {
		case store.UserActive, store.UserAwaitingSignIn, store.UserLocked, store.UserDeleted:
		default:
			return badRequest("status must be ACTIVE, AWAITING_FIRST_SIGN_IN, LOCKED or DELETED, not %q", v)
		}
		f.Status = &st
		f.IncludeDeleted = st == store.UserDeleted
	}
	if inc, err := queryBool(c, "includeDeleted"); err != nil {
		return err
	} else if inc != nil {
		f.IncludeDeleted = *inc
	}
	us, next, err := s.st.ListUsers(c.Request().Context(), f, p)
	if err != nil {
		return fmt.Errorf("admin: list users: %w", err)
	}
	return listOf(c, us, next, toUserJSON)
}

func (s *Server) handleGetUser(c echo.Context) error {
	return showIn(c, store.OpViewUsers, s.reachableUser(mustCaller(c)), toUserJSON)
}

type createUserBody struct {
	LoginID            string `json:"loginId"`
	DisplayName        string `json:"displayName"`
	Email              string `json:"email"`
	AccountingSoftware bool   `json:"accountingSoftware"`
	// LegalEntityID is the entity the user belongs to: absent, the caller's
	// context; "" (the business group overview) only in the overview.
	LegalEntityID *string `json:"legalEntityId"`
}

func (s *Server) handleCreateUser(c echo.Context) error {
	cl := mustCaller(c)
	if err := allow(cl, store.OpCreateUser); err != nil {
		return err
	}
	var b createUserBody
	if err := decode(c, s.maxBody, &b); err != nil {
		return err
	}
	p := userCreatePayload{LoginID: strings.TrimSpace(b.LoginID), DisplayName: strings.TrimSpace(b.DisplayName),
		Email: strings.TrimSpace(b.Email), AccountingSoftware: b.AccountingSoftware}
	var errs []FieldError
	for _, e := range store.UserIdentityProblems(p.LoginID, p.DisplayName, p.Email) {
		errs = append(errs, FieldError{e.Field, e.Message})
	}
	p.LegalEntityID = cl.LegalEntityID
	if b.LegalEntityID != nil {
		p.LegalEntityID = strings.TrimSpace(*b.LegalEntityID)
	}
	if len(errs) > 0 {
		return invalidFields(errs...)
	}
	if err := s.checkUserEntity(c.Request().Context(), cl.scope(), p.LegalEntityID); err != nil {
		return err
	}
	if err := s.checkLoginFreeIn(c.Request().Context(), cl.User.BusinessGroupID, p.LoginID); err != nil {
		return err
	}
	return s.submit(c, cl, submission{Kind: store.KindCreateUser, TargetType: "user", Payload: p})
}

// checkUserEntity: a new user belongs to an entity of the business group
// that sc reaches — in an entity's context that entity only; "" (the group
// level) only in the overview. A 422 on legalEntityId otherwise.
func (s *Server) checkUserEntity(ctx context.Context, sc store.Scope, entity string) error {
	if !sc.ReachesEntity(entity) {
		return invalidField("legalEntityId", "in the context of legal entity %q a user can only be created for that entity", sc.LegalEntityID)
	}
	if entity == "" {
		return nil
	}
	_, err := s.getLegalEntity(ctx, sc.BusinessGroupID, entity)
	var p *Problem
	if errors.As(err, &p) && p.Status == http.StatusNotFound {
		return invalidField("legalEntityId", "%q is not a legal entity of your business group", entity)
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
		return conflict("the user ID %q is already taken by a user of your business group; choose another user ID", login)
	}
	return nil
}

// loginUnavailable is the approval's one answer for a login ID held by any
// user not deleted, the same whether of this business group or another:
// the checker learns to choose another ID, and nothing about who holds it.
func loginUnavailable(login string) error {
	return conflict("the user ID %q is already taken; reject this request and submit the user again with another user ID", login)
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
	if err := decode(c, s.maxBody, &b); err != nil {
		return err
	}
	if b.AccountingSoftware != nil && *b.AccountingSoftware != u.AccountingSoftware {
		if u.AccountingSoftware {
			return invalidField("accountingSoftware", msgRemoveAccountingSoftware)
		}
		return invalidField("accountingSoftware", msgAddAccountingSoftware)
	}
	return invalidField("", "nothing to change: use lock, unlock, reset-password or delete")
}

func (s *Server) handleDeleteUser(c echo.Context) error {
	return s.userAction(c, store.KindDeleteUser, store.OpDeleteUser)
}

func (s *Server) handleUserAction(k store.ApprovalKind) echo.HandlerFunc {
	return func(c echo.Context) error { return s.userAction(c, k, store.OpEditUser) }
}

func (s *Server) userAction(c echo.Context, k store.ApprovalKind, op store.Operation) error {
	cl := mustCaller(c)
	u, err := pathTarget(c, cl, op, s.reachableUser(cl))
	if err != nil {
		return err
	}
	if u.ID == cl.User.ID && (k == store.KindDeleteUser || k == store.KindLockUser) {
		return invalidField("id", "you cannot %s yourself", strings.TrimPrefix(string(k), "user."))
	}
	if err := userActionAllowed(k, u); err != nil {
		return err
	}
	return s.submit(c, cl, submission{Kind: k, TargetType: "user", TargetID: u.ID, TargetVersion: u.Version,
		Payload: map[string]string{"userId": u.ID, "loginId": u.LoginID}, Before: toUserJSON(u)})
}

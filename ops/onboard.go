package ops

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

// Onboarding a business (issue 10 §3): the operator creates the business
// group, which comes with its built-in Administrator job role, and its
// first administrators; everything after goes through the business's own
// maker-checker. Both go through store's one path (OpenBusinessGroup,
// AddAdministrator), shared with the CLI and the demo seed.

// opsOpenBusinessGroup stores a business group the handler checked, with its
// built-ins, and audits all three in the same transaction.
func (s *Server) opsOpenBusinessGroup(c echo.Context, b orgBody, g store.BusinessGroup) error {
	ctx := c.Request().Context()
	b.setNames(s.businessGroups().fields(&g))
	op := operatorFrom(c)
	err := s.st.InTx(ctx, func(ctx context.Context) error {
		var (
			bi  store.BuiltIns
			err error
		)
		if g, bi, err = store.OpenBusinessGroup(ctx, s.st, g); errors.Is(err, store.ErrConflict) {
			return apihttp.Conflict("a business group with ID %q exists", b.ID)
		} else if err != nil {
			return fmt.Errorf("ops: create business group: %w", err)
		}
		if err := s.audit(ctx, op, g.ID, "business_group.created", "business_group", g.ID, nil, toBusinessGroupJSON(g)); err != nil {
			return err
		}
		return s.auditBuiltIns(ctx, op, bi)
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toBusinessGroupJSON(g))
}

// auditBuiltIns records the built-ins a call created, as the operator's.
func (s *Server) auditBuiltIns(ctx context.Context, op operator, bi store.BuiltIns) error {
	if r := bi.AdministratorRole; bi.RoleCreated {
		if err := s.audit(ctx, op, r.BusinessGroupID, "job_role.created", "job_role", r.ID, nil, apihttp.ToJobRoleJSON(r)); err != nil {
			return err
		}
	}
	if g := bi.AdministratorsGroup; bi.GroupCreated {
		return s.audit(ctx, op, g.BusinessGroupID, "account_group.created", "account_group", g.ID, nil, apihttp.ToAccountGroupJSON(g))
	}
	return nil
}

type addAdministratorBody struct {
	LoginID     string `json:"loginId"`
	DisplayName string `json:"displayName"`
	Email       string `json:"email"`
}

// administratorJSON is an added administrator. TemporaryPassword is set
// only in the one answer to the operator who added it: never stored in
// clear, logged or audited.
type administratorJSON struct {
	User              apihttp.UserJSON `json:"user"`
	JobRoleID         string           `json:"jobRoleId"`
	AccountGroupID    string           `json:"accountGroupId"`
	TemporaryPassword string           `json:"temporaryPassword,omitempty"`
}

func toAdministratorJSON(a store.Administrator) administratorJSON {
	return administratorJSON{User: apihttp.ToUserJSON(a.User), JobRoleID: a.Assignment.JobRoleID, AccountGroupID: a.Assignment.AccountGroupID}
}

// AdministratorJSON is the operator API's answer for a, with its temporary
// password only if withPassword; the CLI prints the same.
func AdministratorJSON(a store.Administrator, withPassword bool) any {
	out := toAdministratorJSON(a)
	if withPassword {
		out.TemporaryPassword = a.TemporaryPassword
	}
	return out
}

// handleAddAdministrator makes a user of the business group its
// administrator: the built-in Administrator job role in the business group
// overview context, a temporary password to replace at first sign-in.
func (s *Server) handleAddAdministrator(c echo.Context) error {
	ctx := c.Request().Context()
	var b addAdministratorBody
	if err := apihttp.Decode(c, s.maxBody, &b); err != nil {
		return err
	}
	g, err := s.businessGroups().load(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	in := store.NewAdministrator{LoginID: b.LoginID, DisplayName: b.DisplayName, Email: b.Email}
	if ps := in.Problems(); len(ps) > 0 {
		errs := make([]apihttp.FieldError, len(ps))
		for i, p := range ps {
			errs[i] = apihttp.FieldError{Field: p.Field, Message: p.Message}
		}
		return apihttp.InvalidFields(errs...)
	}
	op := operatorFrom(c)
	a, err := store.AddAdministrator(ctx, s.st, g.ID, in, s.now(), func(ctx context.Context, a store.Administrator) error {
		if err := s.auditBuiltIns(ctx, op, a.BuiltIns); err != nil {
			return err
		}
		return s.audit(ctx, op, g.ID, "business_group.administrator_added", "user", a.User.ID, nil, toAdministratorJSON(a))
	})
	switch {
	case errors.Is(err, store.ErrNotFound): // deleted since load
		return apihttp.NotFound("business group", g.ID)
	case errors.Is(err, store.ErrConflict):
		// Login IDs are unique bank-wide: one answer whoever holds it
		// (issue 10, finding 7), as at a user creation's approval.
		return apihttp.Conflict("the user ID %q is already taken; choose another user ID", strings.TrimSpace(in.LoginID))
	case err != nil:
		return fmt.Errorf("ops: add administrator: %w", err)
	}
	return c.JSON(http.StatusCreated, AdministratorJSON(a, true))
}

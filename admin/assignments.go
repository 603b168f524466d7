package admin

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/internal/apihttp"
	"github.com/bankfeed/bankfeed/store"
)

type assignmentJSON struct {
	ID             string    `json:"id"`
	UserID         string    `json:"userId"`
	JobRoleID      string    `json:"jobRoleId"`
	AccountGroupID string    `json:"accountGroupId"`
	LegalEntityID  string    `json:"legalEntityId,omitempty"`
	CreatedAt      time.Time `json:"createdAt"`
	UpdatedAt      time.Time `json:"updatedAt"`
	Version        int64     `json:"version"`
}

func toAssignmentJSON(a store.Assignment) assignmentJSON {
	return assignmentJSON{ID: a.ID, UserID: a.UserID, JobRoleID: a.JobRoleID, AccountGroupID: a.AccountGroupID,
		LegalEntityID: a.LegalEntityID, CreatedAt: a.CreatedAt.UTC(), UpdatedAt: a.UpdatedAt.UTC(), Version: a.Version}
}

// handleListAssignments lists the assignments of the users the caller's
// context reaches; ?userId= keeps that user's.
func (s *Server) handleListAssignments(c echo.Context) error {
	user := c.QueryParam("userId")
	cl := mustCaller(c)
	return listIn(c, store.OpViewAssignments, "assignments", func(ctx context.Context, bg string, p store.Page) ([]store.Assignment, string, error) {
		reached, err := s.reachedUsers(ctx, cl.scope())
		if err != nil {
			return nil, "", err
		}
		return filtered(ctx, p, func(ctx context.Context, p store.Page) ([]store.Assignment, string, error) {
			return s.st.ListAssignments(ctx, bg, p)
		}, func(a store.Assignment) (bool, error) {
			return (user == "" || a.UserID == user) && (reached == nil || reached[a.UserID]), nil
		}, func(a store.Assignment) string { return a.ID })
	}, toAssignmentJSON)
}

// reachedUsers is the set of IDs of the users (deleted too) an entity's
// context reaches; nil in the overview, which reaches all.
func (s *Server) reachedUsers(ctx context.Context, sc store.Scope) (map[string]bool, error) {
	if sc.Overview() {
		return nil, nil
	}
	us, err := all(ctx, func(ctx context.Context, p store.Page) ([]store.User, string, error) {
		return s.st.ListUsers(ctx, store.UserFilter{BusinessGroupID: sc.BusinessGroupID, LegalEntityID: &sc.LegalEntityID, IncludeDeleted: true}, p)
	})
	if err != nil {
		return nil, fmt.Errorf("admin: list users: %w", err)
	}
	out := make(map[string]bool, len(us))
	for _, u := range us {
		out[u.ID] = true
	}
	return out, nil
}

func (s *Server) getAssignment(ctx context.Context, bg, id string) (store.Assignment, error) {
	return lookupIn(ctx, "assignment", bg, id, s.st.GetAssignment, func(a store.Assignment) string { return a.BusinessGroupID })
}

func (s *Server) handleGetAssignment(c echo.Context) error {
	cl := mustCaller(c)
	return showIn(c, store.OpViewAssignments, func(ctx context.Context, bg, id string) (store.Assignment, error) {
		a, err := s.getAssignment(ctx, bg, id)
		if err != nil {
			return a, err
		}
		if _, err := s.reachableUser(cl)(ctx, bg, a.UserID); err != nil {
			return a, apihttp.NotFound("assignment", id) // another entity's user's, as another group's
		}
		return a, nil
	}, toAssignmentJSON)
}

// Assignment is a request to give a user a job role and an account group:
// the body of POST /admin/v1/assignments.
type Assignment struct {
	UserID         string `json:"userId"`
	JobRoleID      string `json:"jobRoleId"`
	AccountGroupID string `json:"accountGroupId"`
	// LegalEntityID is the context of the assignment; absent: the caller's
	// context; "": the business group overview.
	LegalEntityID *string `json:"legalEntityId"`
}

func (s *Server) handleCreateAssignment(c echo.Context) error {
	cl := mustCaller(c)
	if err := allow(cl, store.OpAssign); err != nil {
		return err
	}
	var b Assignment
	if err := apihttp.Decode(c, s.maxBody, &b); err != nil {
		return err
	}
	return submitted(c)(s.assign(c.Request().Context(), cl, b))
}

// assign submits an assignment.
func (s *Server) assign(ctx context.Context, cl caller, b Assignment) (store.ApprovalRequest, error) {
	if err := allow(cl, store.OpAssign); err != nil {
		return store.ApprovalRequest{}, err
	}
	var errs []apihttp.FieldError
	for _, f := range []struct{ name, v string }{{"userId", b.UserID}, {"jobRoleId", b.JobRoleID}, {"accountGroupId", b.AccountGroupID}} {
		if f.v == "" {
			errs = append(errs, apihttp.FieldError{Field: f.name, Message: "is required"})
		}
	}
	if len(errs) > 0 {
		return store.ApprovalRequest{}, apihttp.InvalidFields(errs...)
	}
	p := assignPayload{UserID: b.UserID, JobRoleID: b.JobRoleID, AccountGroupID: b.AccountGroupID, LegalEntityID: cl.LegalEntityID}
	if b.LegalEntityID != nil {
		p.LegalEntityID = *b.LegalEntityID
	}
	if err := s.checkAssignment(ctx, cl.User.BusinessGroupID, p); err != nil {
		return store.ApprovalRequest{}, err
	}
	if err := s.checkAssignmentScope(ctx, cl, p); err != nil {
		return store.ApprovalRequest{}, err
	}
	sub := submission{Kind: store.KindAssign, TargetType: "assignment", Payload: p}
	cur, err := s.st.UserAssignment(ctx, p.UserID, p.LegalEntityID)
	switch {
	case err == nil:
		sub.TargetID, sub.TargetVersion, sub.Before = cur.ID, cur.Version, toAssignmentJSON(cur)
	case !errors.Is(err, store.ErrNotFound):
		return store.ApprovalRequest{}, fmt.Errorf("admin: get assignment: %w", err)
	}
	return s.submit(ctx, cl, sub)
}

// checkAssignmentScope is what the maker's context bounds in an
// assignment: the user must be one it reaches (404 otherwise, as another
// group's), the assignment's context its own, and the account group must
// hold only accounts it reaches, since assigning the group gives the user
// those accounts (422 on the field otherwise).
func (s *Server) checkAssignmentScope(ctx context.Context, cl caller, p assignPayload) error {
	sc := cl.scope()
	if _, err := s.reachableUser(cl)(ctx, sc.BusinessGroupID, p.UserID); err != nil {
		return err
	}
	if !sc.ReachesEntity(p.LegalEntityID) {
		return apihttp.InvalidField("legalEntityId", "in the context of legal entity %q an assignment can only be made in that context", sc.LegalEntityID)
	}
	return s.checkGroupInScope(ctx, cl, p.AccountGroupID)
}

// checkGroupInScope: the account group must be of the business group (404)
// and hold only accounts the maker's context reaches (422).
func (s *Server) checkGroupInScope(ctx context.Context, cl caller, groupID string) error {
	sc := cl.scope()
	g, err := s.getAccountGroup(ctx, sc.BusinessGroupID, groupID)
	if err != nil {
		return err
	}
	accs, err := s.accountRecords(ctx, g.AccountIDs)
	if err != nil {
		return err
	}
	var re *store.ReachError
	if err := sc.Reach(store.Targets{Accounts: accs}); errors.As(err, &re) {
		return apihttp.InvalidField("accountGroupId", "the account group %q holds account %q of another legal entity: in the context of legal entity %q only a group of that entity's accounts can be assigned",
			g.Name, re.ID, sc.LegalEntityID)
	} else if err != nil {
		return err
	}
	return nil
}

package admin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

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

// handleListAssignments: ?userId= keeps that user's assignments of the
// store's page, so a page may hold fewer than limit items.
func (s *Server) handleListAssignments(c echo.Context) error {
	user := c.QueryParam("userId")
	return listIn(c, store.OpViewAssignments, "assignments", func(ctx context.Context, bg string, p store.Page) ([]store.Assignment, string, error) {
		as, next, err := s.st.ListAssignments(ctx, bg, p)
		return slices.DeleteFunc(as, func(a store.Assignment) bool { return user != "" && a.UserID != user }), next, err
	}, toAssignmentJSON)
}

func (s *Server) getAssignment(ctx context.Context, bg, id string) (store.Assignment, error) {
	return lookupIn(ctx, "assignment", bg, id, s.st.GetAssignment, func(a store.Assignment) string { return a.BusinessGroupID })
}

func (s *Server) handleGetAssignment(c echo.Context) error {
	return showIn(c, store.OpViewAssignments, s.getAssignment, toAssignmentJSON)
}

type assignBody struct {
	UserID         string `json:"userId"`
	JobRoleID      string `json:"jobRoleId"`
	AccountGroupID string `json:"accountGroupId"`
	// LegalEntityID is the context of the assignment; absent: the caller's
	// context; "": the business group overview.
	LegalEntityID *string `json:"legalEntityId"`
}

func (s *Server) handleCreateAssignment(c echo.Context) error {
	cl := mustCaller(c)
	ctx := c.Request().Context()
	if err := allow(cl, store.OpAssign); err != nil {
		return err
	}
	var b assignBody
	if err := decode(c, s.maxBody, &b); err != nil {
		return err
	}
	var errs []FieldError
	for _, f := range []struct{ name, v string }{{"userId", b.UserID}, {"jobRoleId", b.JobRoleID}, {"accountGroupId", b.AccountGroupID}} {
		if f.v == "" {
			errs = append(errs, FieldError{f.name, "is required"})
		}
	}
	if len(errs) > 0 {
		return invalidFields(errs...)
	}
	p := assignPayload{UserID: b.UserID, JobRoleID: b.JobRoleID, AccountGroupID: b.AccountGroupID, LegalEntityID: cl.LegalEntityID}
	if b.LegalEntityID != nil {
		p.LegalEntityID = *b.LegalEntityID
	}
	if err := s.checkAssignment(ctx, cl.User.BusinessGroupID, p); err != nil {
		return err
	}
	sub := submission{Kind: store.KindAssign, TargetType: "assignment", Payload: p}
	cur, err := s.st.UserAssignment(ctx, p.UserID, p.LegalEntityID)
	switch {
	case err == nil:
		sub.TargetID, sub.TargetVersion, sub.Before = cur.ID, cur.Version, toAssignmentJSON(cur)
	case !errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("admin: get assignment: %w", err)
	}
	return s.submit(c, cl, sub)
}

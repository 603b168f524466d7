package admin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/internal/apihttp"
	"github.com/bankfeed/bankfeed/store"
)

func (s *Server) handleListJobRoles(c echo.Context) error {
	return listIn(c, store.OpViewJobRoles, "job roles", s.st.ListJobRoles, apihttp.ToJobRoleJSON)
}

func (s *Server) handleGetJobRole(c echo.Context) error {
	return showIn(c, store.OpViewJobRoles, s.getJobRole, apihttp.ToJobRoleJSON)
}

// JobRoleChange is a job role's desired state: the body of POST and PATCH
// /admin/v1/job-roles and the console's job role form. Absent fields of an
// edit keep the role's.
type JobRoleChange struct {
	Name        *string       `json:"name"`
	Description *string       `json:"description"`
	Grants      *store.Grants `json:"grants"`
	// AccountingSoftware marks a role meant for an accounting software
	// user: it must hold View on Account summary and Manage statements and
	// nothing more.
	AccountingSoftware bool `json:"accountingSoftware"`
}

func checkName(field, name string) error {
	if name == "" || len(name) > 100 {
		return apihttp.InvalidField(field, "is required (at most 100 characters)")
	}
	return nil
}

func (s *Server) handleCreateJobRole(c echo.Context) error {
	cl := mustCaller(c)
	if err := allow(cl, store.OpCreateJobRole); err != nil {
		return err
	}
	var b JobRoleChange
	if err := apihttp.Decode(c, s.maxBody, &b); err != nil {
		return err
	}
	return submitted(c)(s.createJobRole(c.Request().Context(), cl, b))
}

// createJobRole submits the creation of a job role.
func (s *Server) createJobRole(ctx context.Context, cl caller, b JobRoleChange) (store.ApprovalRequest, error) {
	if err := allow(cl, store.OpCreateJobRole); err != nil {
		return store.ApprovalRequest{}, err
	}
	p := jobRolePayload{AccountingSoftware: b.AccountingSoftware}
	if b.Name != nil {
		p.Name = strings.TrimSpace(*b.Name)
	}
	if b.Description != nil {
		p.Description = strings.TrimSpace(*b.Description)
	}
	if err := checkName("name", p.Name); err != nil {
		return store.ApprovalRequest{}, err
	}
	if b.Grants == nil {
		return store.ApprovalRequest{}, apihttp.InvalidField("grants", "is required")
	}
	also := store.JobRoleAlsoExercises(store.KindCreateJobRole, nil, *b.Grants)
	if err := store.Check(cl.Grants, store.SubmitRequirements(store.OpCreateJobRole, also...)...); err != nil {
		return store.ApprovalRequest{}, err
	}
	if err := checkRoleGrants(*b.Grants, p.AccountingSoftware); err != nil {
		return store.ApprovalRequest{}, err
	}
	p.Grants = b.Grants.Normalize()
	if err := s.checkRoleNameFree(ctx, cl.User.BusinessGroupID, p.Name, ""); err != nil {
		return store.ApprovalRequest{}, err
	}
	return s.submit(ctx, cl, submission{Kind: store.KindCreateJobRole, TargetType: "job_role", Payload: p})
}

func (s *Server) handleEditJobRole(c echo.Context) error {
	cl := mustCaller(c)
	if _, err := pathTarget(c, cl, store.OpEditJobRole, s.getJobRole); err != nil {
		return err
	}
	var b JobRoleChange
	if err := apihttp.Decode(c, s.maxBody, &b); err != nil {
		return err
	}
	return submitted(c)(s.editJobRole(c.Request().Context(), cl, c.Param("id"), b))
}

// editJobRole submits a change of job role id.
func (s *Server) editJobRole(ctx context.Context, cl caller, id string, b JobRoleChange) (store.ApprovalRequest, error) {
	cur, err := target(ctx, cl, store.OpEditJobRole, id, s.getJobRole)
	if err != nil {
		return store.ApprovalRequest{}, err
	}
	p := jobRolePayload{Name: cur.Name, Description: cur.Description, Grants: cur.Grants.Normalize()}
	if b.Name != nil {
		p.Name = strings.TrimSpace(*b.Name)
		if err := checkName("name", p.Name); err != nil {
			return store.ApprovalRequest{}, err
		}
	}
	if b.Description != nil {
		p.Description = strings.TrimSpace(*b.Description)
	}
	if b.Grants != nil {
		also := store.JobRoleAlsoExercises(store.KindEditJobRole, cur.Grants, *b.Grants)
		if err := store.Check(cl.Grants, store.SubmitRequirements(store.OpEditJobRole, also...)...); err != nil {
			return store.ApprovalRequest{}, err
		}
		p.Grants = *b.Grants
	}
	as, err := s.roleHeldByAccountingSoftware(ctx, cl.User.BusinessGroupID, cur.ID)
	if err != nil {
		return store.ApprovalRequest{}, err
	}
	if err := checkRoleGrants(p.Grants, as || b.AccountingSoftware); err != nil {
		var rule *store.RuleError
		if as && errors.As(err, &rule) {
			return store.ApprovalRequest{}, apihttp.InvalidField("grants", "the job role %q is assigned to an accounting software user: %s", cur.Name, rule.Message)
		}
		return store.ApprovalRequest{}, err
	}
	p.Grants = p.Grants.Normalize()
	if err := s.checkRoleNameFree(ctx, cl.User.BusinessGroupID, p.Name, cur.ID); err != nil {
		return store.ApprovalRequest{}, err
	}
	return s.submit(ctx, cl, submission{Kind: store.KindEditJobRole, TargetType: "job_role", TargetID: cur.ID,
		TargetVersion: cur.Version, Payload: p, Before: apihttp.ToJobRoleJSON(cur)})
}

func (s *Server) handleDeleteJobRole(c echo.Context) error {
	return submitted(c)(s.deleteJobRole(c.Request().Context(), mustCaller(c), c.Param("id")))
}

// deleteJobRole submits the deletion of job role id.
func (s *Server) deleteJobRole(ctx context.Context, cl caller, id string) (store.ApprovalRequest, error) {
	cur, err := target(ctx, cl, store.OpDeleteJobRole, id, s.getJobRole)
	if err != nil {
		return store.ApprovalRequest{}, err
	}
	if n, err := s.countAssigned(ctx, cl.User.BusinessGroupID, func(a store.Assignment) bool { return a.JobRoleID == cur.ID }); err != nil {
		return store.ApprovalRequest{}, err
	} else if n > 0 {
		return store.ApprovalRequest{}, apihttp.Conflict("the job role %q is assigned to %d user(s); assign them another role first", cur.Name, n)
	}
	return s.submit(ctx, cl, submission{Kind: store.KindDeleteJobRole, TargetType: "job_role", TargetID: cur.ID,
		TargetVersion: cur.Version, Payload: map[string]string{"jobRoleId": cur.ID, "name": cur.Name}, Before: apihttp.ToJobRoleJSON(cur)})
}

func (s *Server) countAssigned(ctx context.Context, bg string, match func(store.Assignment) bool) (int, error) {
	as, err := all(ctx, func(ctx context.Context, p store.Page) ([]store.Assignment, string, error) {
		return s.st.ListAssignments(ctx, bg, p)
	})
	if err != nil {
		return 0, fmt.Errorf("admin: list assignments: %w", err)
	}
	return len(slices.DeleteFunc(as, func(a store.Assignment) bool { return !match(a) })), nil
}

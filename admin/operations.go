package admin

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/bankfeed/bankfeed/internal/apihttp"
	"github.com/bankfeed/bankfeed/internal/audit"
	"github.com/bankfeed/bankfeed/store"
)

// The administrative operations for front ends other than /admin/v1 (the
// console's pages, package console). Each calls the very function the
// JSON handler calls — the same rules, audit, notifications and
// transactions — so the two front ends cannot drift apart. Errors are
// *Problem values: Status is the HTTP status the JSON API answers, and a
// 403 names the missing (permission, right) in Missing.

// Admin is a signed-in user administering their business group in one
// context; build it with Server.AdminFor.
type Admin struct {
	cl        caller
	requestID string // the ID a submission takes (Idempotent)
}

// Idempotent is a with the ID its next submission's request takes: a page
// derives it from its form, so the same form sent twice (a double click, a
// resent POST) makes one request, and the second answers ErrAlreadySubmitted.
// id must be a fresh store.NewID("apr") value or derived like one.
func (a Admin) Idempotent(id string) Admin {
	a.requestID = id
	return a
}

// AlreadySubmitted reports whether err is the refusal of a form sent again
// (see Idempotent): the request it made is already there.
func AlreadySubmitted(err error) bool {
	var p *Problem
	return errors.As(err, &p) && p.Type == apihttp.ProblemTypeBase+"already-submitted"
}

type requestIDKey struct{}

// AdminFor is u, signed in through the bank's pages, administering in the
// context of legal entity entity ("": the business group overview): the
// rules /admin/v1 applies to a token's user (active, not accounting
// software; an entity of another business group is a 404).
func (s *Server) AdminFor(ctx context.Context, u store.User, entity string, origin audit.Origin, remoteAddr string) (Admin, error) {
	cl, err := s.callerOf(ctx, u, entity)
	if err != nil {
		return Admin{}, err
	}
	cl.Origin, cl.RemoteAddr = origin, remoteAddr
	return Admin{cl: cl}, nil
}

// HomeContext is where u administers when nothing else is asked: the
// business group overview if u holds an assignment there, otherwise the
// first legal entity (by ID) u holds one in; "" when u holds none.
func (s *Server) HomeContext(ctx context.Context, u store.User) (string, error) {
	as, err := all(ctx, func(ctx context.Context, p store.Page) ([]store.Assignment, string, error) {
		return s.st.ListAssignments(ctx, u.BusinessGroupID, p)
	})
	if err != nil {
		return "", fmt.Errorf("admin: list assignments: %w", err)
	}
	var entities []string
	for _, a := range as {
		if a.UserID != u.ID {
			continue
		}
		if a.LegalEntityID == "" {
			return "", nil
		}
		entities = append(entities, a.LegalEntityID)
	}
	if len(entities) == 0 {
		return "", nil
	}
	return slices.Min(entities), nil
}

// User is the administrator.
func (a Admin) User() store.User { return a.cl.User }

// LegalEntityID is the context ("": the business group overview).
func (a Admin) LegalEntityID() string { return a.cl.LegalEntityID }

// Grants are the rights the administrator holds in the context.
func (a Admin) Grants() store.Grants { return a.cl.Grants }

// Allowed is nil when the administrator may perform every op, otherwise
// the 403 naming the first missing (permission, right).
func (a Admin) Allowed(ops ...store.Operation) error {
	if err := allow(a.cl, ops...); err != nil {
		p, _ := apihttp.ToProblem(err)
		return p
	}
	return nil
}

// CanViewAudit reports whether the administrator may read the audit log.
func (a Admin) CanViewAudit() error {
	if err := store.Check(a.cl.Grants, auditRequirement); err != nil {
		p, _ := apihttp.ToProblem(err)
		return p
	}
	return nil
}

// Decision is what deciding a request did. TemporaryPassword is set only
// when approving a user creation or a password reset: shown once, to the
// approver, never stored in clear, logged or audited.
type Decision struct {
	Request           store.ApprovalRequest
	TemporaryPassword string
}

// op runs a mutating operation the way m runs a JSON handler: a refusal
// is audited under action + ".refused", and every error is a *Problem
// (an internal error is logged and becomes the generic 500).
func op[T any](ctx context.Context, s *Server, a Admin, action, targetID string, fn func(ctx context.Context) (T, error)) (T, error) {
	if a.requestID != "" {
		ctx = context.WithValue(ctx, requestIDKey{}, a.requestID)
	}
	v, err := fn(ctx)
	if err == nil {
		return v, nil
	}
	var zero T
	return zero, s.refused(ctx, a.cl, action, targetID, err)
}

// refused audits a refused mutation (a problem) and returns it; other
// errors are logged and become the generic internal problem.
func (s *Server) refused(ctx context.Context, cl caller, action, targetID string, err error) error {
	p, ok := apihttp.ToProblem(err)
	if !ok {
		if errors.Is(ctx.Err(), context.Canceled) {
			// The client went away mid-operation: nobody's failure (see fail).
			s.log.InfoContext(ctx, "admin: request abandoned: client gone", "action", action, "err", err)
		} else {
			s.log.ErrorContext(ctx, "admin: internal error", "action", action, "err", err)
		}
		return apihttp.Internal()
	}
	if p.Status < 500 && !AlreadySubmitted(p) {
		s.audit(ctx, cl, auditEntry{Action: action + ".refused", TargetType: targetTypeOf(action), TargetID: targetID, After: p})
	}
	return p
}

// CreateUser submits the creation of a user ("Add user").
func (s *Server) CreateUser(ctx context.Context, a Admin, u NewUser) (store.ApprovalRequest, error) {
	return op(ctx, s, a, "user.create", "", func(ctx context.Context) (store.ApprovalRequest, error) { return s.createUser(ctx, a.cl, u) })
}

// UserAction submits a delete, lock, unlock or password reset of user id.
func (s *Server) UserAction(ctx context.Context, a Admin, k store.ApprovalKind, id string) (store.ApprovalRequest, error) {
	actions := map[store.ApprovalKind]string{store.KindDeleteUser: "user.delete", store.KindLockUser: "user.lock",
		store.KindUnlockUser: "user.unlock", store.KindResetPassword: "user.reset_password"}
	action, ok := actions[k]
	if !ok {
		return store.ApprovalRequest{}, apihttp.BadRequest("%q is not a user action", k)
	}
	return op(ctx, s, a, action, id, func(ctx context.Context) (store.ApprovalRequest, error) { return s.userAction(ctx, a.cl, k, id) })
}

// CreateJobRole submits the creation of a job role.
func (s *Server) CreateJobRole(ctx context.Context, a Admin, b JobRoleChange) (store.ApprovalRequest, error) {
	return op(ctx, s, a, "job_role.create", "", func(ctx context.Context) (store.ApprovalRequest, error) { return s.createJobRole(ctx, a.cl, b) })
}

// EditJobRole submits a change of job role id.
func (s *Server) EditJobRole(ctx context.Context, a Admin, id string, b JobRoleChange) (store.ApprovalRequest, error) {
	return op(ctx, s, a, "job_role.edit", id, func(ctx context.Context) (store.ApprovalRequest, error) { return s.editJobRole(ctx, a.cl, id, b) })
}

// CreateAccountGroup submits the creation of an account group.
func (s *Server) CreateAccountGroup(ctx context.Context, a Admin, b AccountGroupChange) (store.ApprovalRequest, error) {
	return op(ctx, s, a, "account_group.create", "", func(ctx context.Context) (store.ApprovalRequest, error) { return s.createAccountGroup(ctx, a.cl, b) })
}

// EditAccountGroup submits a change of account group id.
func (s *Server) EditAccountGroup(ctx context.Context, a Admin, id string, b AccountGroupChange) (store.ApprovalRequest, error) {
	return op(ctx, s, a, "account_group.edit", id, func(ctx context.Context) (store.ApprovalRequest, error) { return s.editAccountGroup(ctx, a.cl, id, b) })
}

// Assign submits giving a user a job role and an account group.
func (s *Server) Assign(ctx context.Context, a Admin, b Assignment) (store.ApprovalRequest, error) {
	return op(ctx, s, a, "assignment.create", "", func(ctx context.Context) (store.ApprovalRequest, error) { return s.assign(ctx, a.cl, b) })
}

func toDecision(d decision, err error) (Decision, error) {
	if err != nil {
		return Decision{}, err
	}
	return Decision{Request: d.req, TemporaryPassword: d.TemporaryPassword}, nil
}

// Approve decides and applies request id. A request decided meanwhile by
// someone else, or whose target moved on, is a 409 and changes nothing.
func (s *Server) Approve(ctx context.Context, a Admin, id string) (Decision, error) {
	return op(ctx, s, a, "approval.approve", id, func(ctx context.Context) (Decision, error) { return toDecision(s.approve(ctx, a.cl, id)) })
}

// Reject refuses request id with the reason its initiator is told.
func (s *Server) Reject(ctx context.Context, a Admin, id, reason string) (Decision, error) {
	return op(ctx, s, a, "approval.reject", id, func(ctx context.Context) (Decision, error) { return toDecision(s.reject(ctx, a.cl, id, reason)) })
}

// Cancel withdraws the administrator's own pending request id.
func (s *Server) Cancel(ctx context.Context, a Admin, id string) (Decision, error) {
	return op(ctx, s, a, "approval.cancel", id, func(ctx context.Context) (Decision, error) {
		return toDecision(s.finish(ctx, a.cl, id, store.ApprovalCancelled, ""))
	})
}

// Disconnect revokes connection id at once (not maker-checker: cutting
// access must not wait for a second person).
func (s *Server) Disconnect(ctx context.Context, a Admin, id string) error {
	_, err := op(ctx, s, a, "connection.revoke", id, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, s.revokeConnection(ctx, a.cl, id)
	})
	return err
}

// --- reads: what the pages show, confined as /admin/v1 confines it ---

// Connections are the connections of the accounting software users the
// context reaches, revoked ones included.
func (s *Server) Connections(ctx context.Context, a Admin) ([]Connection, error) {
	return s.connections(ctx, a.cl, nil)
}

// Users are the users the context reaches (deleted ones left out).
func (s *Server) Users(ctx context.Context, a Admin) ([]store.User, error) {
	if err := a.Allowed(store.OpViewUsers); err != nil {
		return nil, err
	}
	f := store.UserFilter{BusinessGroupID: a.cl.User.BusinessGroupID}
	if !a.cl.scope().Overview() {
		f.LegalEntityID = &a.cl.LegalEntityID
	}
	return all(ctx, func(ctx context.Context, p store.Page) ([]store.User, string, error) {
		return s.st.ListUsers(ctx, f, p)
	})
}

// User is user id, when the context reaches it (404 otherwise, as another
// business group's).
func (s *Server) User(ctx context.Context, a Admin, id string) (store.User, error) {
	return target(ctx, a.cl, store.OpViewUsers, id, s.reachableUser(a.cl))
}

// Assignments are the assignments of the users the context reaches.
func (s *Server) Assignments(ctx context.Context, a Admin) ([]store.Assignment, error) {
	if err := a.Allowed(store.OpViewAssignments); err != nil {
		return nil, err
	}
	reached, err := s.reachedUsers(ctx, a.cl.scope())
	if err != nil {
		return nil, err
	}
	as, err := all(ctx, func(ctx context.Context, p store.Page) ([]store.Assignment, string, error) {
		return s.st.ListAssignments(ctx, a.cl.User.BusinessGroupID, p)
	})
	if err != nil {
		return nil, fmt.Errorf("admin: list assignments: %w", err)
	}
	return slices.DeleteFunc(as, func(x store.Assignment) bool { return reached != nil && !reached[x.UserID] }), nil
}

// JobRoles are the business group's job roles.
func (s *Server) JobRoles(ctx context.Context, a Admin) ([]store.JobRole, error) {
	if err := a.Allowed(store.OpViewJobRoles); err != nil {
		return nil, err
	}
	return all(ctx, func(ctx context.Context, p store.Page) ([]store.JobRole, string, error) {
		return s.st.ListJobRoles(ctx, a.cl.User.BusinessGroupID, p)
	})
}

// JobRole is job role id of the business group (404 otherwise).
func (s *Server) JobRole(ctx context.Context, a Admin, id string) (store.JobRole, error) {
	return target(ctx, a.cl, store.OpViewJobRoles, id, s.getJobRole)
}

// AccountGroups are the business group's account groups, each showing only
// the accounts the context reaches.
func (s *Server) AccountGroups(ctx context.Context, a Admin) ([]store.AccountGroup, error) {
	if err := a.Allowed(store.OpViewAccountGroups); err != nil {
		return nil, err
	}
	visible, err := s.visibleAccounts(ctx, a.cl.scope())
	if err != nil {
		return nil, err
	}
	gs, err := all(ctx, func(ctx context.Context, p store.Page) ([]store.AccountGroup, string, error) {
		return s.st.ListAccountGroups(ctx, a.cl.User.BusinessGroupID, p)
	})
	for i := range gs {
		gs[i].AccountIDs = visible(gs[i].AccountIDs)
	}
	return gs, err
}

// AccountGroup is account group id of the business group (404 otherwise),
// showing only the accounts the context reaches.
func (s *Server) AccountGroup(ctx context.Context, a Admin, id string) (store.AccountGroup, error) {
	g, err := target(ctx, a.cl, store.OpViewAccountGroups, id, s.getAccountGroup)
	if err != nil {
		return g, err
	}
	visible, err := s.visibleAccounts(ctx, a.cl.scope())
	g.AccountIDs = visible(g.AccountIDs)
	return g, err
}

// visibleAccounts filters account IDs to those sc reaches (all in the
// overview), as accountGroupView does for the JSON.
func (s *Server) visibleAccounts(ctx context.Context, sc store.Scope) (func([]string) []string, error) {
	view, err := s.accountGroupView(ctx, sc)
	if err != nil {
		return func(ids []string) []string { return nil }, err
	}
	return func(ids []string) []string { return view(store.AccountGroup{AccountIDs: ids}).AccountIDs }, nil
}

// Accounts are the accounts the context reaches.
func (s *Server) Accounts(ctx context.Context, a Admin) ([]store.Account, error) {
	if err := a.Allowed(store.OpViewAccountGroups); err != nil {
		return nil, err
	}
	sc := a.cl.scope()
	f := store.AccountFilter{BusinessGroupID: &sc.BusinessGroupID}
	if !sc.Overview() {
		f.LegalEntityID = &sc.LegalEntityID
	}
	return all(ctx, func(ctx context.Context, p store.Page) ([]store.Account, string, error) {
		return s.st.ListAccounts(ctx, f, p)
	})
}

// LegalEntities are the entities the context reaches: all the business
// group's in the overview, the context's own otherwise.
func (s *Server) LegalEntities(ctx context.Context, a Admin) ([]store.LegalEntity, error) {
	es, err := s.st.ListLegalEntities(ctx, a.cl.User.BusinessGroupID)
	if err != nil {
		return nil, fmt.Errorf("admin: list legal entities: %w", err)
	}
	sc := a.cl.scope()
	return slices.DeleteFunc(es, func(e store.LegalEntity) bool { return !sc.ReachesEntity(e.ID) }), nil
}

// Pending are the pending requests the administrator may decide now (what
// GET /admin/v1/approvals?status=pending lists).
func (s *Server) Pending(ctx context.Context, a Admin) ([]store.ApprovalRequest, error) {
	st := store.ApprovalPending
	f := store.ApprovalFilter{BusinessGroupID: a.cl.User.BusinessGroupID, Status: &st}
	var out []store.ApprovalRequest
	rs, err := all(ctx, func(ctx context.Context, p store.Page) ([]store.ApprovalRequest, string, error) {
		return s.st.ListApprovals(ctx, f, p)
	})
	if err != nil {
		return nil, fmt.Errorf("admin: list approvals: %w", err)
	}
	for _, r := range rs {
		if ok, err := s.reaches(ctx, a.cl, r); err != nil {
			return nil, err
		} else if !ok {
			continue
		}
		also, err := s.alsoExercised(ctx, r)
		if err != nil {
			return nil, err
		}
		if store.CanDecide(a.cl.User.ID, a.cl.Grants, r, also...) == nil {
			out = append(out, r)
		}
	}
	return out, nil
}

// MyRequests are the administrator's own requests, pending ones only when
// pendingOnly.
func (s *Server) MyRequests(ctx context.Context, a Admin, pendingOnly bool) ([]store.ApprovalRequest, error) {
	f := store.ApprovalFilter{BusinessGroupID: a.cl.User.BusinessGroupID, InitiatorID: &a.cl.User.ID}
	if pendingOnly {
		st := store.ApprovalPending
		f.Status = &st
	}
	rs, err := all(ctx, func(ctx context.Context, p store.Page) ([]store.ApprovalRequest, string, error) {
		return s.st.ListApprovals(ctx, f, p)
	})
	if err != nil {
		return nil, fmt.Errorf("admin: list approvals: %w", err)
	}
	return rs, nil
}

// Notifications are the administrator's notifications, a page at a time.
func (s *Server) Notifications(ctx context.Context, a Admin, p store.Page) ([]store.Notification, string, error) {
	ns, next, err := s.st.ListNotifications(ctx, a.cl.User.ID, false, p)
	if err != nil {
		return nil, "", fmt.Errorf("admin: list notifications: %w", err)
	}
	return ns, next, nil
}

// MarkAllRead marks every unread notification of the administrator read.
func (s *Server) MarkAllRead(ctx context.Context, a Admin) error {
	ns, err := all(ctx, func(ctx context.Context, p store.Page) ([]store.Notification, string, error) {
		return s.st.ListNotifications(ctx, a.cl.User.ID, true, p)
	})
	if err != nil {
		return fmt.Errorf("admin: list notifications: %w", err)
	}
	for _, n := range ns {
		if err := s.st.MarkNotificationRead(ctx, a.cl.User.ID, n.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("admin: mark read: %w", err)
		}
	}
	return nil
}

// Audit is a page of the business group's audit log (f's business group is
// the administrator's whatever it says), read in the overview only, as
// GET /admin/v1/audit.
func (s *Server) Audit(ctx context.Context, a Admin, f store.AuditFilter, p store.Page) ([]store.AuditEvent, string, error) {
	if err := a.CanViewAudit(); err != nil {
		return nil, "", err
	}
	if !a.cl.scope().Overview() {
		return nil, "", apihttp.Forbidden("overview-only", "the audit log is read in the business group overview context only")
	}
	bg := a.cl.User.BusinessGroupID
	f.BusinessGroupID = &bg
	es, next, err := s.st.ListAudit(ctx, f, p)
	if err != nil {
		return nil, "", fmt.Errorf("admin: list audit: %w", err)
	}
	return es, next, nil
}

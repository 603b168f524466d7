package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bankfeed/bankfeed/internal/apihttp"
	"github.com/bankfeed/bankfeed/internal/audit"
	"github.com/bankfeed/bankfeed/store"
)

// Payloads of approval requests: the full desired state, re-validated when
// the request is approved.

type userCreatePayload struct {
	LoginID            string `json:"loginId"`
	DisplayName        string `json:"displayName"`
	Email              string `json:"email,omitempty"`
	AccountingSoftware bool   `json:"accountingSoftware"`
	LegalEntityID      string `json:"legalEntityId,omitempty"` // "": a user of the business group overview
	// JobRoleID and AccountGroupID, when set, are assigned to the new user
	// on approval, in the maker's context AssignmentContext ("": the
	// overview): "Add user" names them with the user (issue 14).
	JobRoleID         string `json:"jobRoleId,omitempty"`
	AccountGroupID    string `json:"accountGroupId,omitempty"`
	AssignmentContext string `json:"assignmentContext,omitempty"`
}

// assignment is the assignment a new user is given with its creation.
func (p userCreatePayload) assignment(userID string) (assignPayload, bool) {
	return assignPayload{UserID: userID, JobRoleID: p.JobRoleID, AccountGroupID: p.AccountGroupID, LegalEntityID: p.AssignmentContext},
		p.JobRoleID != ""
}

type jobRolePayload struct {
	Name               string       `json:"name"`
	Description        string       `json:"description"`
	Grants             store.Grants `json:"grants"`
	AccountingSoftware bool         `json:"accountingSoftware,omitempty"`
}

type accountGroupPayload struct {
	Name       string   `json:"name"`
	AccountIDs []string `json:"accountIds"`
}

type assignPayload struct {
	UserID         string `json:"userId"`
	JobRoleID      string `json:"jobRoleId"`
	AccountGroupID string `json:"accountGroupId"`
	LegalEntityID  string `json:"legalEntityId,omitempty"`
}

// applied is what approving a request changed.
type applied struct {
	TargetID          string
	Before, After     any
	TemporaryPassword string
	Events            []auditEntry // what else the change did, audited after it (issue 10 §5)
}

func staleTarget(what string, submitted, now int64) error {
	return apihttp.Conflict("the %s changed since the request was submitted (version %d, now %d); it was not applied — reject this request and submit a new one",
		what, submitted, now)
}

// applier applies one kind of approved request inside the decider's
// transaction, at now.
type applier func(s *Server, ctx context.Context, r store.ApprovalRequest, now time.Time) (applied, error)

// appliers is one applyX per approval kind; a kind with a payload has it
// decoded once, by withPayload.
var appliers = map[store.ApprovalKind]applier{
	store.KindCreateUser:         withPayload((*Server).applyCreateUser),
	store.KindDeleteUser:         (*Server).applyUserChange,
	store.KindLockUser:           (*Server).applyUserChange,
	store.KindUnlockUser:         (*Server).applyUserChange,
	store.KindResetPassword:      (*Server).applyUserChange,
	store.KindCreateJobRole:      withPayload((*Server).applyCreateJobRole),
	store.KindEditJobRole:        withPayload((*Server).applyEditJobRole),
	store.KindDeleteJobRole:      (*Server).applyDeleteJobRole,
	store.KindCreateAccountGroup: withPayload((*Server).applyCreateAccountGroup),
	store.KindEditAccountGroup:   withPayload((*Server).applyEditAccountGroup),
	store.KindDeleteAccountGroup: (*Server).applyDeleteAccountGroup,
	store.KindAssign:             withPayload((*Server).applyAssign),
}

// payloadOf decodes a request's payload into the kind's payload type.
func payloadOf[P any](r store.ApprovalRequest) (P, error) {
	var p P
	if err := json.Unmarshal(r.Payload, &p); err != nil {
		return p, fmt.Errorf("admin: payload of %s: %w", r.ID, err)
	}
	return p, nil
}

// withPayload makes an applier of an applyX that takes the decoded payload.
func withPayload[P any](fn func(*Server, context.Context, store.ApprovalRequest, P, time.Time) (applied, error)) applier {
	return func(s *Server, ctx context.Context, r store.ApprovalRequest, now time.Time) (applied, error) {
		p, err := payloadOf[P](r)
		if err != nil {
			return applied{}, err
		}
		return fn(s, ctx, r, p, now)
	}
}

// apply performs an approved request inside the caller's transaction.
func (s *Server) apply(ctx context.Context, r store.ApprovalRequest) (applied, error) {
	fn, ok := appliers[r.Kind]
	if !ok {
		return applied{}, fmt.Errorf("admin: unknown request kind %q", r.Kind)
	}
	return fn(s, ctx, r, s.now().UTC())
}

func (s *Server) applyCreateUser(ctx context.Context, r store.ApprovalRequest, p userCreatePayload, now time.Time) (applied, error) {
	if err := s.checkLoginFree(ctx, p.LoginID); err != nil {
		return applied{}, err
	}
	if p.LegalEntityID != "" {
		if _, err := s.getLegalEntity(ctx, r.BusinessGroupID, p.LegalEntityID); err != nil {
			return applied{}, err
		}
	}
	temp, err := store.TemporaryPassword()
	if err != nil {
		return applied{}, err
	}
	hash, err := store.HashSecret(temp)
	if err != nil {
		return applied{}, err
	}
	u, err := s.st.CreateUser(ctx, store.User{
		ID: store.NewID("usr"), BusinessGroupID: r.BusinessGroupID, LegalEntityID: p.LegalEntityID, LoginID: p.LoginID, DisplayName: p.DisplayName,
		Email: p.Email, AccountingSoftware: p.AccountingSoftware, Status: store.UserAwaitingSignIn,
		PasswordHash: hash, MustChangePassword: true, CreatedAt: now, UpdatedAt: now,
	})
	if errors.Is(err, store.ErrConflict) {
		return applied{}, loginUnavailable(p.LoginID)
	} else if err != nil {
		return applied{}, fmt.Errorf("admin: create user: %w", err)
	}
	out := applied{TargetID: u.ID, After: apihttp.ToUserJSON(u), TemporaryPassword: temp}
	if ap, ok := p.assignment(u.ID); ok {
		// The same rules as an assignment of its own, in the same
		// transaction: the role or group may have changed since submission.
		as, err := s.applyAssign(ctx, r, ap, now)
		if err != nil {
			return applied{}, err
		}
		out.Events = append(out.Events, auditEntry{Action: "assignment.create.applied", TargetType: "assignment",
			TargetID: as.TargetID, RequestID: r.ID, After: as.After})
	}
	return out, nil
}

func (s *Server) applyCreateJobRole(ctx context.Context, r store.ApprovalRequest, p jobRolePayload, now time.Time) (applied, error) {
	if err := checkRoleGrants(p.Grants, p.AccountingSoftware); err != nil {
		return applied{}, err
	}
	if err := s.checkRoleNameFree(ctx, r.BusinessGroupID, p.Name, ""); err != nil {
		return applied{}, err
	}
	role, err := s.st.CreateJobRole(ctx, store.JobRole{ID: store.NewID("rol"), BusinessGroupID: r.BusinessGroupID,
		Name: p.Name, Description: p.Description, Grants: p.Grants.Normalize(), CreatedAt: now, UpdatedAt: now})
	if errors.Is(err, store.ErrConflict) {
		return applied{}, apihttp.Conflict("a job role named %q already exists", p.Name)
	} else if err != nil {
		return applied{}, fmt.Errorf("admin: create job role: %w", err)
	}
	return applied{TargetID: role.ID, After: apihttp.ToJobRoleJSON(role)}, nil
}

// currentJobRole is the request's job role, refused when it moved on since
// the request was submitted.
func (s *Server) currentJobRole(ctx context.Context, r store.ApprovalRequest) (store.JobRole, error) {
	cur, err := s.getJobRole(ctx, r.BusinessGroupID, r.TargetID)
	if err == nil && cur.Version != r.TargetVersion {
		err = staleTarget("job role", r.TargetVersion, cur.Version)
	}
	return cur, err
}

func (s *Server) applyEditJobRole(ctx context.Context, r store.ApprovalRequest, p jobRolePayload, now time.Time) (applied, error) {
	cur, err := s.currentJobRole(ctx, r)
	if err != nil {
		return applied{}, err
	}
	as, err := s.roleHeldByAccountingSoftware(ctx, r.BusinessGroupID, cur.ID)
	if err != nil {
		return applied{}, err
	}
	if err := checkRoleGrants(p.Grants, as); err != nil {
		return applied{}, err
	}
	if err := s.checkRoleNameFree(ctx, r.BusinessGroupID, p.Name, cur.ID); err != nil {
		return applied{}, err
	}
	upd, err := s.st.UpdateJobRole(ctx, cur.ID, func(j store.JobRole) (store.JobRole, error) {
		if j.Version != r.TargetVersion {
			return j, staleTarget("job role", r.TargetVersion, j.Version)
		}
		j.Name, j.Description, j.Grants, j.UpdatedAt = p.Name, p.Description, p.Grants.Normalize(), now
		return j, nil
	})
	if err != nil {
		return applied{}, casConflict(err, "job role", cur.Name, p.Name)
	}
	return applied{TargetID: cur.ID, Before: apihttp.ToJobRoleJSON(cur), After: apihttp.ToJobRoleJSON(upd)}, nil
}

func (s *Server) applyDeleteJobRole(ctx context.Context, r store.ApprovalRequest, _ time.Time) (applied, error) {
	cur, err := s.currentJobRole(ctx, r)
	if err != nil {
		return applied{}, err
	}
	if err := s.st.DeleteJobRole(ctx, cur.ID); errors.Is(err, store.ErrConflict) {
		return applied{}, apihttp.Conflict("the job role %q is assigned to users; assign them another role first", cur.Name)
	} else if err != nil {
		return applied{}, fmt.Errorf("admin: delete job role: %w", err)
	}
	return applied{TargetID: cur.ID, Before: apihttp.ToJobRoleJSON(cur)}, nil
}

func (s *Server) applyCreateAccountGroup(ctx context.Context, r store.ApprovalRequest, p accountGroupPayload, now time.Time) (applied, error) {
	ids, err := s.checkAccounts(ctx, r.BusinessGroupID, p.AccountIDs)
	if err != nil {
		return applied{}, err
	}
	if err := s.checkGroupNameFree(ctx, r.BusinessGroupID, p.Name, ""); err != nil {
		return applied{}, err
	}
	g, err := s.st.CreateAccountGroup(ctx, store.AccountGroup{ID: store.NewID("agr"), BusinessGroupID: r.BusinessGroupID,
		Name: p.Name, AccountIDs: ids, CreatedAt: now, UpdatedAt: now})
	if err != nil {
		return applied{}, apihttp.MapConflict(err, "an account group named %q already exists", p.Name)
	}
	return applied{TargetID: g.ID, After: apihttp.ToAccountGroupJSON(g)}, nil
}

// currentAccountGroup is the request's account group, refused when it
// moved on since the request was submitted.
func (s *Server) currentAccountGroup(ctx context.Context, r store.ApprovalRequest) (store.AccountGroup, error) {
	cur, err := s.getAccountGroup(ctx, r.BusinessGroupID, r.TargetID)
	if err == nil && cur.Version != r.TargetVersion {
		err = staleTarget("account group", r.TargetVersion, cur.Version)
	}
	return cur, err
}

func (s *Server) applyEditAccountGroup(ctx context.Context, r store.ApprovalRequest, p accountGroupPayload, now time.Time) (applied, error) {
	cur, err := s.currentAccountGroup(ctx, r)
	if err != nil {
		return applied{}, err
	}
	ids, err := s.checkAccounts(ctx, r.BusinessGroupID, p.AccountIDs)
	if err != nil {
		return applied{}, err
	}
	if err := s.checkGroupNameFree(ctx, r.BusinessGroupID, p.Name, cur.ID); err != nil {
		return applied{}, err
	}
	upd, err := s.st.UpdateAccountGroup(ctx, cur.ID, func(g store.AccountGroup) (store.AccountGroup, error) {
		if g.Version != r.TargetVersion {
			return g, staleTarget("account group", r.TargetVersion, g.Version)
		}
		g.Name, g.AccountIDs, g.UpdatedAt = p.Name, ids, now
		return g, nil
	})
	if err != nil {
		return applied{}, casConflict(err, "account group", cur.Name, p.Name)
	}
	return applied{TargetID: cur.ID, Before: apihttp.ToAccountGroupJSON(cur), After: apihttp.ToAccountGroupJSON(upd)}, nil
}

func (s *Server) applyDeleteAccountGroup(ctx context.Context, r store.ApprovalRequest, _ time.Time) (applied, error) {
	cur, err := s.currentAccountGroup(ctx, r)
	if err != nil {
		return applied{}, err
	}
	if err := s.st.DeleteAccountGroup(ctx, cur.ID); errors.Is(err, store.ErrConflict) {
		return applied{}, apihttp.Conflict("the account group %q is assigned to users; assign them another group first", cur.Name)
	} else if err != nil {
		return applied{}, fmt.Errorf("admin: delete account group: %w", err)
	}
	return applied{TargetID: cur.ID, Before: apihttp.ToAccountGroupJSON(cur)}, nil
}

// applyAssign applies an assignment request, or the assignment of a user
// creation (r's target is then the user's creation: none).
func (s *Server) applyAssign(ctx context.Context, r store.ApprovalRequest, p assignPayload, now time.Time) (applied, error) {
	if err := s.checkAssignment(ctx, r.BusinessGroupID, p); err != nil {
		return applied{}, err
	}
	cur, err := s.st.UserAssignment(ctx, p.UserID, p.LegalEntityID)
	exists := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return applied{}, fmt.Errorf("admin: get assignment: %w", err)
	}
	if r.Kind != store.KindAssign {
		r.TargetID, r.TargetVersion = "", 0
	}
	switch {
	case r.TargetID == "" && exists:
		return applied{}, apihttp.Conflict("the user was given an assignment in this context since the request was submitted; it was not applied — reject this request and submit a new one")
	case r.TargetID != "" && (!exists || cur.ID != r.TargetID):
		return applied{}, apihttp.Conflict("the user's assignment in this context was removed since the request was submitted; it was not applied")
	case exists && cur.Version != r.TargetVersion:
		return applied{}, staleTarget("assignment", r.TargetVersion, cur.Version)
	}
	a := store.Assignment{ID: store.NewID("asg"), BusinessGroupID: r.BusinessGroupID, LegalEntityID: p.LegalEntityID,
		UserID: p.UserID, JobRoleID: p.JobRoleID, AccountGroupID: p.AccountGroupID, CreatedAt: now, UpdatedAt: now}
	var before any
	if exists {
		a.ID, a.CreatedAt, a.Version = cur.ID, cur.CreatedAt, cur.Version
		before = toAssignmentJSON(cur)
	}
	a, err = s.st.PutAssignment(ctx, a)
	if err != nil {
		return applied{}, fmt.Errorf("admin: put assignment: %w", err)
	}
	return applied{TargetID: a.ID, Before: before, After: toAssignmentJSON(a)}, nil
}

// applyUserChange applies a delete, lock, unlock or password reset.
func (s *Server) applyUserChange(ctx context.Context, r store.ApprovalRequest, now time.Time) (applied, error) {
	cur, err := s.getUser(ctx, r.BusinessGroupID, r.TargetID)
	if err != nil {
		return applied{}, err
	}
	if cur.Version != r.TargetVersion {
		return applied{}, staleTarget("user", r.TargetVersion, cur.Version)
	}
	if err := userActionAllowed(r.Kind, cur); err != nil {
		return applied{}, err
	}
	var temp string
	upd, err := s.st.UpdateUser(ctx, cur.ID, func(u store.User) (store.User, error) {
		if u.Version != r.TargetVersion {
			return u, staleTarget("user", r.TargetVersion, u.Version)
		}
		switch r.Kind {
		case store.KindDeleteUser:
			u.Status, u.DeletedAt = store.UserDeleted, now
		case store.KindLockUser:
			u.Status = store.UserLocked
		case store.KindUnlockUser:
			u.FailedAttempts, u.LockedUntil = 0, time.Time{}
			if u.Status == store.UserLocked {
				u.Status = store.UserActive
				if u.MustChangePassword {
					u.Status = store.UserAwaitingSignIn
				}
			}
		case store.KindResetPassword:
			t, err := store.TemporaryPassword()
			if err != nil {
				return u, err
			}
			h, err := store.HashSecret(t)
			if err != nil {
				return u, err
			}
			temp = t
			u.PasswordHash, u.MustChangePassword, u.Status = h, true, store.UserAwaitingSignIn
			u.FailedAttempts, u.LockedUntil = 0, time.Time{}
		}
		u.UpdatedAt = now
		return u, nil
	})
	if err != nil {
		return applied{}, fmt.Errorf("admin: update user: %w", err)
	}
	// Deleting, locking or resetting cuts the user's existing access now:
	// browser sessions go. Deleting and resetting also revoke the user's
	// consents, and so every token: a reset is rule 6's "credentials
	// changed", so software connected with the old password must be
	// reconnected, not revived by the user's next first sign-in.
	if r.Kind != store.KindUnlockUser {
		if err := s.st.DeleteUserBrowserSessions(ctx, cur.ID); err != nil {
			return applied{}, fmt.Errorf("admin: end sessions: %w", err)
		}
	}
	var events []auditEntry
	if r.Kind == store.KindDeleteUser || r.Kind == store.KindResetPassword {
		revoked, err := s.revokeUserConsents(ctx, cur.ID, now)
		if err != nil {
			return applied{}, err
		}
		by := audit.ByUserDeleted
		if r.Kind == store.KindResetPassword {
			by = audit.ByPasswordReset
			events = append(events, auditEntry{Action: audit.PasswordReset, TargetType: "user", TargetID: cur.ID, RequestID: r.ID})
		}
		for _, c := range revoked {
			events = append(events, auditEntry{Action: audit.ConsentRevoked, TargetType: "consent", TargetID: c.ID, RequestID: r.ID,
				After: map[string]any{"by": by, "userId": c.UserID, "clientId": c.ClientID}})
		}
	}
	if r.Kind == store.KindDeleteUser {
		as, err := all(ctx, func(ctx context.Context, p store.Page) ([]store.Assignment, string, error) {
			return s.st.ListAssignments(ctx, r.BusinessGroupID, p)
		})
		if err != nil {
			return applied{}, fmt.Errorf("admin: list assignments: %w", err)
		}
		for _, a := range as {
			if a.UserID == cur.ID {
				if err := s.st.DeleteAssignment(ctx, a.ID); err != nil {
					return applied{}, fmt.Errorf("admin: delete assignment: %w", err)
				}
			}
		}
	}
	return applied{TargetID: cur.ID, Before: apihttp.ToUserJSON(cur), After: apihttp.ToUserJSON(upd), TemporaryPassword: temp, Events: events}, nil
}

// revokeUserConsents revokes the user's standing consents and returns them.
func (s *Server) revokeUserConsents(ctx context.Context, userID string, now time.Time) ([]store.Consent, error) {
	cs, err := s.st.ListConsents(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("admin: list consents: %w", err)
	}
	var revoked []store.Consent
	for _, c := range cs {
		if c.RevokedAt.IsZero() {
			if err := s.st.RevokeConsent(ctx, c.ID, now); err != nil {
				return nil, fmt.Errorf("admin: revoke consent: %w", err)
			}
			revoked = append(revoked, c)
		}
	}
	return revoked, nil
}

// userActionAllowed checks the user's status suits the action.
func userActionAllowed(k store.ApprovalKind, u store.User) error {
	st := u.Status
	switch k {
	case store.KindDeleteUser:
		if st == store.UserDeleted {
			return apihttp.Conflict("the user is already deleted")
		}
	case store.KindLockUser:
		if st != store.UserActive && st != store.UserAwaitingSignIn {
			return apihttp.Conflict("only an active user can be locked (the user is %s)", statusWords(st))
		}
	case store.KindUnlockUser:
		if st != store.UserLocked && u.LockedUntil.IsZero() {
			return apihttp.Conflict("the user is not locked")
		}
	case store.KindResetPassword:
		if st != store.UserActive && st != store.UserAwaitingSignIn && st != store.UserLocked {
			return apihttp.Conflict("the password of a %s user cannot be reset", statusWords(st))
		}
	}
	return nil
}

func statusWords(s store.UserStatus) string {
	return strings.ToLower(strings.ReplaceAll(string(s), "_", " "))
}

// casConflict words the error of an edit's compare-and-swap update. The
// store's ErrConflict means either that another approval changed the record
// between our read and our write, or that the new name is taken (its unique
// index); only a rename can be the latter.
func casConflict(err error, what, curName, newName string) error {
	var p *Problem
	switch {
	case errors.As(err, &p):
		return p
	case !errors.Is(err, store.ErrConflict):
		return fmt.Errorf("admin: update %s: %w", what, err)
	case curName == newName:
		return apihttp.Conflict("the %s changed since the request was submitted (another change was applied at the same time); it was not applied — reject this request and submit a new one", what)
	}
	return apihttp.Conflict("the %s changed, or another %s took the name %q, while this request was being approved; it was not applied", what, what, newName)
}

// checkRoleGrants is ValidateGrants plus, for a role meant for an
// accounting software user, the article's required View rights.
func checkRoleGrants(g store.Grants, forAccountingSoftware bool) error {
	if err := store.ValidateGrants(g, forAccountingSoftware); err != nil {
		return err
	}
	if forAccountingSoftware {
		return store.RequiredAccountingSoftwareGrants(g)
	}
	return nil
}

// --- lookups confined to one business group (another group's: 404) ---

// lookupIn is lookup confined to business group bg: another group's record
// is a 404 too, exactly like a missing one.
func lookupIn[T any](ctx context.Context, what, bg, id string, get func(context.Context, string) (T, error), groupOf func(T) string) (T, error) {
	v, err := apihttp.Lookup(ctx, what, id, get)
	if err == nil && groupOf(v) != bg {
		return v, apihttp.NotFound(what, id)
	}
	return v, err
}

func (s *Server) getUser(ctx context.Context, bg, id string) (store.User, error) {
	return lookupIn(ctx, "user", bg, id, s.st.GetUser, func(u store.User) string { return u.BusinessGroupID })
}

func (s *Server) getJobRole(ctx context.Context, bg, id string) (store.JobRole, error) {
	return lookupIn(ctx, "job role", bg, id, s.st.GetJobRole, func(r store.JobRole) string { return r.BusinessGroupID })
}

func (s *Server) getAccountGroup(ctx context.Context, bg, id string) (store.AccountGroup, error) {
	return lookupIn(ctx, "account group", bg, id, s.st.GetAccountGroup, func(g store.AccountGroup) string { return g.BusinessGroupID })
}

func (s *Server) getAccount(ctx context.Context, bg, id string) (store.Account, error) {
	return lookupIn(ctx, "account", bg, id, s.st.GetAccount, func(a store.Account) string { return a.BusinessGroupID })
}

func (s *Server) getLegalEntity(ctx context.Context, bg, id string) (store.LegalEntity, error) {
	return lookupIn(ctx, "legal entity", bg, id, s.st.GetLegalEntity, func(e store.LegalEntity) string { return e.BusinessGroupID })
}

func (s *Server) checkLoginFree(ctx context.Context, login string) error {
	_, err := s.st.GetUserByLogin(ctx, login)
	if err == nil {
		return loginUnavailable(login)
	} else if !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("admin: get user by login: %w", err)
	}
	return nil
}

func (s *Server) checkRoleNameFree(ctx context.Context, bg, name, except string) error {
	roles, err := all(ctx, func(ctx context.Context, p store.Page) ([]store.JobRole, string, error) {
		return s.st.ListJobRoles(ctx, bg, p)
	})
	if err != nil {
		return fmt.Errorf("admin: list job roles: %w", err)
	}
	for _, r := range roles {
		if r.ID != except && strings.EqualFold(r.Name, name) {
			return apihttp.Conflict("a job role named %q already exists", r.Name)
		}
	}
	return nil
}

func (s *Server) checkGroupNameFree(ctx context.Context, bg, name, except string) error {
	gs, err := all(ctx, func(ctx context.Context, p store.Page) ([]store.AccountGroup, string, error) {
		return s.st.ListAccountGroups(ctx, bg, p)
	})
	if err != nil {
		return fmt.Errorf("admin: list account groups: %w", err)
	}
	for _, g := range gs {
		if g.ID != except && strings.EqualFold(g.Name, name) {
			return apihttp.Conflict("an account group named %q already exists", g.Name)
		}
	}
	return nil
}

// checkAccounts returns the IDs sorted and deduplicated, each an account
// of the business group (404 otherwise).
func (s *Server) checkAccounts(ctx context.Context, bg string, ids []string) ([]string, error) {
	out := slices.Clone(ids)
	slices.Sort(out)
	out = slices.Compact(out)
	for _, id := range out {
		if _, err := s.getAccount(ctx, bg, id); err != nil {
			return nil, err
		}
	}
	if out == nil {
		out = []string{}
	}
	return out, nil
}

// roleHeldByAccountingSoftware reports whether any accounting software user
// is assigned the role.
func (s *Server) roleHeldByAccountingSoftware(ctx context.Context, bg, roleID string) (bool, error) {
	as, err := all(ctx, func(ctx context.Context, p store.Page) ([]store.Assignment, string, error) {
		return s.st.ListAssignments(ctx, bg, p)
	})
	if err != nil {
		return false, fmt.Errorf("admin: list assignments: %w", err)
	}
	for _, a := range as {
		if a.JobRoleID != roleID {
			continue
		}
		u, err := s.st.GetUser(ctx, a.UserID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return false, fmt.Errorf("admin: get user: %w", err)
		}
		if err == nil && u.AccountingSoftware && u.Status != store.UserDeleted {
			return true, nil
		}
	}
	return false, nil
}

// checkAssignment verifies every ID belongs to the group and the role suits
// the user (rule 3 for an accounting software user: View on Account summary
// and Manage statements, nothing more). Submission and approval both run it:
// the role may change in between.
func (s *Server) checkAssignment(ctx context.Context, bg string, p assignPayload) error {
	u, err := s.getUser(ctx, bg, p.UserID)
	if err != nil {
		return err
	}
	if u.Status == store.UserDeleted {
		return apihttp.NotFound("user", p.UserID)
	}
	role, err := s.getJobRole(ctx, bg, p.JobRoleID)
	if err != nil {
		return err
	}
	if _, err := s.getAccountGroup(ctx, bg, p.AccountGroupID); err != nil {
		return err
	}
	if p.LegalEntityID != "" {
		if _, err := s.getLegalEntity(ctx, bg, p.LegalEntityID); err != nil {
			return err
		}
	}
	if err := store.CheckAssignable(u, role); err != nil {
		var rule *store.RuleError
		if errors.As(err, &rule) && u.AccountingSoftware {
			return apihttp.InvalidField("jobRoleId", "the job role %q cannot be given to the accounting software user %q: %s", role.Name, u.LoginID, rule.Message)
		}
		return err
	}
	return nil
}

package store

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Onboarding a business (issue 10 §3): the bank's operator creates the
// business group and its first administrators; from then on everything goes
// through the business's own maker-checker. The operator API, the CLI and
// the demo seed all go through OpenBusinessGroup and AddAdministrator.

// The built-ins every business group is created with. They are found by
// name (the name is unique in a business group), so a group created before
// they existed gets them from its first AddAdministrator.
const (
	// AdministratorRoleName is the job role holding AdminGrants: the
	// article's three lists, so two holders can run the maker-checker.
	AdministratorRoleName = "Administrator"
	// AdministratorsGroupName is the account group of the administrators'
	// assignments: created empty, since administering needs no account.
	AdministratorsGroupName = "Administrators"
)

// BuiltIns are a business group's built-in job role and account group.
type BuiltIns struct {
	AdministratorRole   JobRole
	AdministratorsGroup AccountGroup
	// RoleCreated and GroupCreated tell which of them this call created.
	RoleCreated, GroupCreated bool
}

var businessGroupIDRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// OpenBusinessGroup creates g, its names trimmed, with its built-ins in one
// transaction (ctx's, if any): ErrConflict on a duplicate ID; ErrInvalid
// without a name or with an ID (if given) other than 1 to 64 letters,
// digits, _ or -.
func OpenBusinessGroup(ctx context.Context, st Store, g BusinessGroup) (BusinessGroup, BuiltIns, error) {
	g.Name, g.LegalName = strings.TrimSpace(g.Name), strings.TrimSpace(g.LegalName)
	if g.ID != "" && !businessGroupIDRE.MatchString(g.ID) {
		return BusinessGroup{}, BuiltIns{}, Invalid("id", "must be 1 to 64 letters, digits, _ or -")
	}
	if g.Name == "" {
		return BusinessGroup{}, BuiltIns{}, Invalid("name", "is required")
	}
	var b BuiltIns
	err := st.InTx(ctx, func(ctx context.Context) error {
		var err error
		if g, err = st.CreateBusinessGroup(ctx, g); err != nil {
			return fmt.Errorf("store: open business group: %w", err)
		}
		b, err = ensureBuiltIns(ctx, st, g.ID, g.CreatedAt)
		return err
	})
	if err != nil {
		return BusinessGroup{}, BuiltIns{}, err
	}
	return g, b, nil
}

// ensureBuiltIns finds the business group's built-ins, creating those
// missing. Of two transactions creating them at once, the second's insert
// waits for the first and finds the name taken (ErrConflict): it then reads
// the first's, so a group never gets two.
func ensureBuiltIns(ctx context.Context, st Store, bg string, now time.Time) (BuiltIns, error) {
	var b BuiltIns
	role, created, err := findOrCreate(ctx, AdministratorRoleName,
		func(ctx context.Context, p Page) ([]JobRole, string, error) { return st.ListJobRoles(ctx, bg, p) },
		func(r JobRole) string { return r.Name },
		func(ctx context.Context) (JobRole, error) {
			return st.CreateJobRole(ctx, JobRole{ID: NewID("rol"), BusinessGroupID: bg, Name: AdministratorRoleName,
				Description: "Built in: business administration (users, job roles, account groups, assignments); every change needs a second administrator's approval",
				Grants:      AdminGrants().Normalize(), CreatedAt: now, UpdatedAt: now})
		})
	if err != nil {
		return BuiltIns{}, fmt.Errorf("store: built-in job role: %w", err)
	}
	b.AdministratorRole, b.RoleCreated = role, created
	group, created, err := findOrCreate(ctx, AdministratorsGroupName,
		func(ctx context.Context, p Page) ([]AccountGroup, string, error) {
			return st.ListAccountGroups(ctx, bg, p)
		},
		func(g AccountGroup) string { return g.Name },
		func(ctx context.Context) (AccountGroup, error) {
			return st.CreateAccountGroup(ctx, AccountGroup{ID: NewID("agr"), BusinessGroupID: bg, Name: AdministratorsGroupName,
				AccountIDs: []string{}, CreatedAt: now, UpdatedAt: now})
		})
	if err != nil {
		return BuiltIns{}, fmt.Errorf("store: built-in account group: %w", err)
	}
	b.AdministratorsGroup, b.GroupCreated = group, created
	return b, nil
}

// findOrCreate is the record named name (case-insensitive, as the admin API
// compares names) or a new one; ErrConflict from create means another
// transaction created it meanwhile, so it is read again.
func findOrCreate[T any](ctx context.Context, name string, list func(context.Context, Page) ([]T, string, error),
	nameOf func(T) string, create func(context.Context) (T, error)) (T, bool, error) {
	find := func() (T, bool, error) {
		var zero T
		p := Page{Limit: 1000}
		for {
			items, next, err := list(ctx, p)
			if err != nil {
				return zero, false, err
			}
			for _, it := range items {
				if strings.EqualFold(nameOf(it), name) {
					return it, true, nil
				}
			}
			if next == "" {
				return zero, false, nil
			}
			p.After = next
		}
	}
	if v, ok, err := find(); err != nil || ok {
		return v, false, err
	}
	v, err := create(ctx)
	if err == nil {
		return v, true, nil
	}
	if !errors.Is(err, ErrConflict) {
		return v, false, err
	}
	v, ok, ferr := find()
	if ferr != nil {
		return v, false, ferr
	} else if !ok {
		return v, false, err
	}
	return v, false, nil
}

// NewAdministrator is the person an operator makes a business group's
// administrator.
type NewAdministrator struct {
	LoginID     string
	DisplayName string
	Email       string // optional
}

var loginIDRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{2,63}$`)

func (a NewAdministrator) trimmed() NewAdministrator {
	return NewAdministrator{LoginID: strings.TrimSpace(a.LoginID), DisplayName: strings.TrimSpace(a.DisplayName), Email: strings.TrimSpace(a.Email)}
}

// Problems lists every invalid field (after trimming spaces); empty: valid.
func (a NewAdministrator) Problems() []*RuleError {
	a = a.trimmed()
	return UserIdentityProblems(a.LoginID, a.DisplayName, a.Email)
}

// UserIdentityProblems is the one rule for a new user's login ID, display
// name and optional e-mail, for the admin API's user creation and for
// onboarding alike; empty: valid.
func UserIdentityProblems(loginID, displayName, email string) []*RuleError {
	var out []*RuleError
	if !loginIDRE.MatchString(loginID) {
		out = append(out, &RuleError{Field: "loginId", Message: "must be 3 to 64 letters, digits or . _ @ - (starting with a letter or digit)"})
	}
	if displayName == "" || len(displayName) > 200 {
		out = append(out, &RuleError{Field: "displayName", Message: "is required (at most 200 characters)"})
	}
	if email != "" && (!strings.Contains(email, "@") || len(email) > 254) {
		out = append(out, &RuleError{Field: "email", Message: "is not an e-mail address"})
	}
	return out
}

// Administrator is what AddAdministrator created. TemporaryPassword is the
// only clear copy of the user's password: show it once, never log or audit it.
type Administrator struct {
	User              User
	BuiltIns          BuiltIns
	Assignment        Assignment
	TemporaryPassword string
}

// AddAdministrator creates, in one transaction (ctx's, if any), a user of the
// business group with a temporary password it must replace at first sign-in
// (AWAITING_FIRST_SIGN_IN, as a user created through maker-checker), assigned
// the built-in Administrator role and Administrators account group in the
// business group overview context; the built-ins are created if the group
// predates them. audit, if not nil, runs last in the same transaction (its
// error undoes everything). Errors: *RuleError (ErrInvalid) for bad input;
// ErrNotFound for an unknown business group; ErrConflict for a login ID held
// by any user not deleted, of any business group. Nothing is written on error.
func AddAdministrator(ctx context.Context, st Store, businessGroupID string, a NewAdministrator, now time.Time,
	audit func(ctx context.Context, added Administrator) error) (Administrator, error) {
	a = a.trimmed()
	if ps := a.Problems(); len(ps) > 0 {
		errs := make([]error, len(ps))
		for i, p := range ps {
			errs[i] = p
		}
		return Administrator{}, errors.Join(errs...)
	}
	// The slow hash runs before the transaction, not while it holds locks.
	temp, err := TemporaryPassword()
	if err != nil {
		return Administrator{}, err
	}
	hash, err := HashSecret(temp)
	if err != nil {
		return Administrator{}, err
	}
	now = now.UTC()
	var out Administrator
	err = st.InTx(ctx, func(ctx context.Context) error {
		g, err := st.GetBusinessGroup(ctx, businessGroupID)
		if err != nil {
			return fmt.Errorf("store: add administrator: business group %q: %w", businessGroupID, err)
		}
		if out.BuiltIns, err = ensureBuiltIns(ctx, st, g.ID, now); err != nil {
			return err
		}
		out.User, err = st.CreateUser(ctx, User{ID: NewID("usr"), BusinessGroupID: g.ID, LoginID: a.LoginID, DisplayName: a.DisplayName,
			Email: a.Email, Status: UserAwaitingSignIn, PasswordHash: hash, MustChangePassword: true, CreatedAt: now, UpdatedAt: now})
		if err != nil {
			return fmt.Errorf("store: add administrator: create user: %w", err)
		}
		out.Assignment, err = st.PutAssignment(ctx, Assignment{ID: NewID("asg"), BusinessGroupID: g.ID, UserID: out.User.ID,
			JobRoleID: out.BuiltIns.AdministratorRole.ID, AccountGroupID: out.BuiltIns.AdministratorsGroup.ID, CreatedAt: now, UpdatedAt: now})
		if err != nil {
			return fmt.Errorf("store: add administrator: assign: %w", err)
		}
		if audit != nil {
			return audit(ctx, out)
		}
		return nil
	})
	if err != nil {
		return Administrator{}, err
	}
	out.TemporaryPassword = temp
	return out, nil
}

package gormstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/bankfeed/bankfeed/store"
)

type userRow struct {
	ID                 string `gorm:"column:id;primaryKey"`
	BusinessGroupID    string `gorm:"column:business_group_id"`
	LegalEntityID      string `gorm:"column:legal_entity_id"`
	LoginID            string `gorm:"column:login_id"`
	DisplayName        string `gorm:"column:display_name"`
	Email              string `gorm:"column:email"`
	AccountingSoftware bool   `gorm:"column:accounting_software"`
	Status             string `gorm:"column:status"`
	PasswordHash       string `gorm:"column:password_hash"`
	MustChangePassword bool   `gorm:"column:must_change_password"`
	SecurityQuestion   string `gorm:"column:security_question"`
	SecurityAnswerHash string `gorm:"column:security_answer_hash"`
	FailedAttempts     int64  `gorm:"column:failed_attempts"`
	LastFailedAt       int64  `gorm:"column:last_failed_at"`
	LockedUntil        int64  `gorm:"column:locked_until"`
	Created            int64  `gorm:"column:created_at"`
	Updated            int64  `gorm:"column:updated_at"`
	Deleted            int64  `gorm:"column:deleted_at"`
	Version            int64  `gorm:"column:version"`
}

func (userRow) TableName() string { return "users" }

var userMap = mapper[store.User, userRow]{
	toDomain: func(r userRow) (store.User, error) {
		return store.User{ID: r.ID, BusinessGroupID: r.BusinessGroupID, LegalEntityID: r.LegalEntityID, LoginID: r.LoginID, DisplayName: r.DisplayName,
			Email: r.Email, AccountingSoftware: r.AccountingSoftware, Status: store.UserStatus(r.Status),
			PasswordHash: r.PasswordHash, MustChangePassword: r.MustChangePassword,
			SecurityQuestion: r.SecurityQuestion, SecurityAnswerHash: r.SecurityAnswerHash,
			FailedAttempts: int(r.FailedAttempts), LastFailedAt: fromMicros(r.LastFailedAt), LockedUntil: fromMicros(r.LockedUntil),
			CreatedAt: fromMicros(r.Created), UpdatedAt: fromMicros(r.Updated), DeletedAt: fromMicros(r.Deleted),
			Version: r.Version}, nil
	},
	fromDomain: func(u store.User) (userRow, error) {
		return userRow{ID: u.ID, BusinessGroupID: u.BusinessGroupID, LegalEntityID: u.LegalEntityID, LoginID: u.LoginID, DisplayName: u.DisplayName,
			Email: u.Email, AccountingSoftware: u.AccountingSoftware, Status: string(u.Status),
			PasswordHash: u.PasswordHash, MustChangePassword: u.MustChangePassword,
			SecurityQuestion: u.SecurityQuestion, SecurityAnswerHash: u.SecurityAnswerHash,
			FailedAttempts: int64(u.FailedAttempts), LastFailedAt: micros(u.LastFailedAt), LockedUntil: micros(u.LockedUntil),
			Created: micros(u.CreatedAt), Updated: micros(u.UpdatedAt), Deleted: micros(u.DeletedAt),
			Version: u.Version}, nil
	},
	version: func(r *userRow) *int64 { return &r.Version },
	id:      func(u store.User) string { return u.ID },
	stamp:   func(u *store.User, now time.Time, v int64) { u.UpdatedAt, u.Version = now, v },
	check: func(old, u store.User) error {
		switch {
		case u.AccountingSoftware != old.AccountingSoftware:
			return store.Invalid("accountingSoftware", "is set at creation and can never change; delete the user and create it again")
		case u.BusinessGroupID != old.BusinessGroupID:
			return store.Invalid("businessGroupId", "cannot change")
		case strings.TrimSpace(u.LoginID) == "":
			return store.Invalid("loginId", "is required")
		}
		return nil
	},
	// The sign-in bookkeeping is written by UpdateUserSignIn outside the
	// version; an update that leaves it alone must not overwrite a failure
	// counted since its read.
	keep: func(old, u store.User) []string {
		if u.SignIn() == old.SignIn() {
			return signInColumns
		}
		return nil
	},
}

func (s *Store) CreateUser(ctx context.Context, u store.User) (store.User, error) {
	if u.ID == "" {
		u.ID = store.NewID("usr")
	}
	if strings.TrimSpace(u.LoginID) == "" {
		return store.User{}, store.Invalid("loginId", "is required")
	}
	if u.Status == "" {
		u.Status = store.UserPendingApproval
	}
	now := s.nowUTC()
	u.CreatedAt, u.UpdatedAt, u.Version = orNow(u.CreatedAt, now), now, 1
	r, _ := userMap.fromDomain(u)
	if err := s.insert(ctx, "create user", &r); err != nil {
		return store.User{}, err
	}
	return userMap.toDomain(r)
}

func (s *Store) GetUser(ctx context.Context, id string) (store.User, error) {
	r, err := take[userRow](ctx, s, "get user", "id = ?", id)
	if err != nil {
		return store.User{}, err
	}
	return userMap.toDomain(r)
}

func (s *Store) GetUserByLogin(ctx context.Context, loginID string) (store.User, error) {
	r, err := take[userRow](ctx, s, "get user by login", "lower(login_id) = lower(?) AND status <> ?", strings.TrimSpace(loginID), string(store.UserDeleted))
	if err != nil {
		return store.User{}, err
	}
	return userMap.toDomain(r)
}

func (s *Store) ListUsers(ctx context.Context, f store.UserFilter, p store.Page) ([]store.User, string, error) {
	q := s.read(ctx).Model(&userRow{})
	if f.BusinessGroupID != "" {
		q = q.Where("business_group_id = ?", f.BusinessGroupID)
	}
	if f.LegalEntityID != nil {
		q = q.Where("legal_entity_id = ?", *f.LegalEntityID)
	}
	if f.AccountingSoftware != nil {
		q = q.Where("accounting_software = ?", *f.AccountingSoftware)
	}
	if f.Status != nil {
		q = q.Where("status = ?", string(*f.Status))
	}
	if !f.IncludeDeleted {
		q = q.Where("status <> ?", string(store.UserDeleted))
	}
	rows, next, err := pageByID(q, p, func(r userRow) string { return r.ID })
	if err != nil {
		return nil, "", wrap("list users", err)
	}
	out, err := mapAll(rows, userMap.toDomain)
	return out, next, err
}

func (s *Store) UpdateUser(ctx context.Context, id string, fn func(store.User) (store.User, error)) (store.User, error) {
	return casUpdate(ctx, s, "update user", id, userMap, fn)
}

// Job roles, account groups, assignments.

type jobRoleRow struct {
	ID              string `gorm:"column:id;primaryKey"`
	BusinessGroupID string `gorm:"column:business_group_id"`
	Name            string `gorm:"column:name"`
	Description     string `gorm:"column:description"`
	Grants          string `gorm:"column:grants"`
	Created         int64  `gorm:"column:created_at"`
	Updated         int64  `gorm:"column:updated_at"`
	Version         int64  `gorm:"column:version"`
}

func (jobRoleRow) TableName() string { return "job_roles" }

var jobRoleMap = mapper[store.JobRole, jobRoleRow]{
	toDomain: func(r jobRoleRow) (store.JobRole, error) {
		g, err := decodeGrants(r.Grants)
		if err != nil {
			return store.JobRole{}, fmt.Errorf("job role %s: decode grants: %w", r.ID, err)
		}
		return store.JobRole{ID: r.ID, BusinessGroupID: r.BusinessGroupID, Name: r.Name, Description: r.Description,
			Grants: g, CreatedAt: fromMicros(r.Created), UpdatedAt: fromMicros(r.Updated), Version: r.Version}, nil
	},
	fromDomain: func(j store.JobRole) (jobRoleRow, error) {
		g := j.Grants
		if g == nil {
			g = store.Grants{}
		}
		b, err := json.Marshal(g)
		if err != nil {
			return jobRoleRow{}, fmt.Errorf("encode grants: %w", err)
		}
		return jobRoleRow{ID: j.ID, BusinessGroupID: j.BusinessGroupID, Name: j.Name, Description: j.Description,
			Grants: string(b), Created: micros(j.CreatedAt), Updated: micros(j.UpdatedAt), Version: j.Version}, nil
	},
	version: func(r *jobRoleRow) *int64 { return &r.Version },
	id:      func(j store.JobRole) string { return j.ID },
	stamp:   func(j *store.JobRole, now time.Time, v int64) { j.UpdatedAt, j.Version = now, v },
	check: func(old, j store.JobRole) error {
		if j.BusinessGroupID != old.BusinessGroupID {
			return store.Invalid("businessGroupId", "cannot change")
		}
		if strings.TrimSpace(j.Name) == "" {
			return store.Invalid("name", "is required")
		}
		return nil
	},
}

func (s *Store) CreateJobRole(ctx context.Context, j store.JobRole) (store.JobRole, error) {
	if j.ID == "" {
		j.ID = store.NewID("role")
	}
	if strings.TrimSpace(j.Name) == "" {
		return store.JobRole{}, store.Invalid("name", "is required")
	}
	now := s.nowUTC()
	j.CreatedAt, j.UpdatedAt, j.Version = orNow(j.CreatedAt, now), now, 1
	r, err := jobRoleMap.fromDomain(j)
	if err != nil {
		return store.JobRole{}, err
	}
	if err := s.insert(ctx, "create job role", &r); err != nil {
		return store.JobRole{}, err
	}
	return jobRoleMap.toDomain(r)
}

func (s *Store) GetJobRole(ctx context.Context, id string) (store.JobRole, error) {
	r, err := take[jobRoleRow](ctx, s, "get job role", "id = ?", id)
	if err != nil {
		return store.JobRole{}, err
	}
	return jobRoleMap.toDomain(r)
}

func (s *Store) ListJobRoles(ctx context.Context, businessGroupID string, p store.Page) ([]store.JobRole, string, error) {
	q := s.read(ctx).Model(&jobRoleRow{}).Where("business_group_id = ?", businessGroupID)
	rows, next, err := pageByID(q, p, func(r jobRoleRow) string { return r.ID })
	if err != nil {
		return nil, "", wrap("list job roles", err)
	}
	out, err := mapAll(rows, jobRoleMap.toDomain)
	return out, next, err
}

func (s *Store) UpdateJobRole(ctx context.Context, id string, fn func(store.JobRole) (store.JobRole, error)) (store.JobRole, error) {
	return casUpdate(ctx, s, "update job role", id, jobRoleMap, fn)
}

// deleteUnassigned deletes a role or account group unless an assignment
// still uses it (ErrConflict); the foreign key is the backstop for a
// concurrent assignment.
func (s *Store) deleteUnassigned(ctx context.Context, op, table, column, id string) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		used, err := s.exists(ctx, "assignments", column+" = ?", id)
		if err != nil {
			return wrap(op, err)
		}
		if used {
			return fmt.Errorf("gormstore: %s: %w: still assigned to a user", op, store.ErrConflict)
		}
		res := s.write(ctx).Exec("DELETE FROM "+table+" WHERE id = ?", id)
		if res.Error != nil {
			if isForeignKey(res.Error) {
				return fmt.Errorf("gormstore: %s: %w: still assigned to a user", op, store.ErrConflict)
			}
			return wrap(op, res.Error)
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("gormstore: %s: %w", op, store.ErrNotFound)
		}
		return nil
	})
}

func (s *Store) DeleteJobRole(ctx context.Context, id string) error {
	return s.deleteUnassigned(ctx, "delete job role", "job_roles", "job_role_id", id)
}

type accountGroupRow struct {
	ID              string `gorm:"column:id;primaryKey"`
	BusinessGroupID string `gorm:"column:business_group_id"`
	Name            string `gorm:"column:name"`
	AccountIDs      string `gorm:"column:account_ids"`
	Created         int64  `gorm:"column:created_at"`
	Updated         int64  `gorm:"column:updated_at"`
	Version         int64  `gorm:"column:version"`
}

func (accountGroupRow) TableName() string { return "account_groups" }

var accountGroupMap = mapper[store.AccountGroup, accountGroupRow]{
	toDomain: func(r accountGroupRow) (store.AccountGroup, error) {
		ids, err := fromJSONList(r.AccountIDs)
		if err != nil {
			return store.AccountGroup{}, fmt.Errorf("account group %s: %w", r.ID, err)
		}
		return store.AccountGroup{ID: r.ID, BusinessGroupID: r.BusinessGroupID, Name: r.Name, AccountIDs: ids,
			CreatedAt: fromMicros(r.Created), UpdatedAt: fromMicros(r.Updated), Version: r.Version}, nil
	},
	fromDomain: func(g store.AccountGroup) (accountGroupRow, error) {
		return accountGroupRow{ID: g.ID, BusinessGroupID: g.BusinessGroupID, Name: g.Name,
			AccountIDs: jsonList(sortedUnique(g.AccountIDs)),
			Created:    micros(g.CreatedAt), Updated: micros(g.UpdatedAt), Version: g.Version}, nil
	},
	version: func(r *accountGroupRow) *int64 { return &r.Version },
	id:      func(g store.AccountGroup) string { return g.ID },
	stamp:   func(g *store.AccountGroup, now time.Time, v int64) { g.UpdatedAt, g.Version = now, v },
	check: func(old, g store.AccountGroup) error {
		if g.BusinessGroupID != old.BusinessGroupID {
			return store.Invalid("businessGroupId", "cannot change")
		}
		if strings.TrimSpace(g.Name) == "" {
			return store.Invalid("name", "is required")
		}
		return nil
	},
}

func (s *Store) CreateAccountGroup(ctx context.Context, g store.AccountGroup) (store.AccountGroup, error) {
	if g.ID == "" {
		g.ID = store.NewID("ag")
	}
	if strings.TrimSpace(g.Name) == "" {
		return store.AccountGroup{}, store.Invalid("name", "is required")
	}
	now := s.nowUTC()
	g.CreatedAt, g.UpdatedAt, g.Version = orNow(g.CreatedAt, now), now, 1
	r, _ := accountGroupMap.fromDomain(g)
	var out store.AccountGroup
	err := s.InTx(ctx, func(ctx context.Context) error {
		if err := s.insert(ctx, "create account group", &r); err != nil {
			return err
		}
		var err error
		if out, err = accountGroupMap.toDomain(r); err != nil {
			return err
		}
		return s.putMembers(ctx, out)
	})
	return out, err
}

// putMembers rewrites g's rows in account_group_members (see
// accountGroupMembersV2) from g.AccountIDs, in ctx's transaction.
func (s *Store) putMembers(ctx context.Context, g store.AccountGroup) error {
	db := s.write(ctx)
	if err := db.Exec(`DELETE FROM account_group_members WHERE group_id = ?`, g.ID).Error; err != nil {
		return wrap("account group members", err)
	}
	ids := sortedUnique(g.AccountIDs)
	for start := 0; start < len(ids); start += 100 {
		chunk := ids[start:min(start+100, len(ids))]
		args := make([]any, 0, 2*len(chunk))
		for _, id := range chunk {
			args = append(args, g.ID, id)
		}
		q := `INSERT INTO account_group_members (group_id, account_id) VALUES (?, ?)` + strings.Repeat(`, (?, ?)`, len(chunk)-1)
		if err := db.Exec(q, args...).Error; err != nil {
			return wrap("account group members", err)
		}
	}
	return nil
}

func (s *Store) GetAccountGroup(ctx context.Context, id string) (store.AccountGroup, error) {
	r, err := take[accountGroupRow](ctx, s, "get account group", "id = ?", id)
	if err != nil {
		return store.AccountGroup{}, err
	}
	return accountGroupMap.toDomain(r)
}

func (s *Store) ListAccountGroups(ctx context.Context, businessGroupID string, p store.Page) ([]store.AccountGroup, string, error) {
	q := s.read(ctx).Model(&accountGroupRow{}).Where("business_group_id = ?", businessGroupID)
	rows, next, err := pageByID(q, p, func(r accountGroupRow) string { return r.ID })
	if err != nil {
		return nil, "", wrap("list account groups", err)
	}
	out, err := mapAll(rows, accountGroupMap.toDomain)
	return out, next, err
}

func (s *Store) UpdateAccountGroup(ctx context.Context, id string, fn func(store.AccountGroup) (store.AccountGroup, error)) (store.AccountGroup, error) {
	var out store.AccountGroup
	err := s.InTx(ctx, func(ctx context.Context) error {
		var err error
		if out, err = casUpdate(ctx, s, "update account group", id, accountGroupMap, fn); err != nil {
			return err
		}
		return s.putMembers(ctx, out)
	})
	return out, err
}

func (s *Store) DeleteAccountGroup(ctx context.Context, id string) error {
	return s.deleteUnassigned(ctx, "delete account group", "account_groups", "account_group_id", id)
}

type assignmentRow struct {
	ID              string `gorm:"column:id;primaryKey"`
	BusinessGroupID string `gorm:"column:business_group_id"`
	LegalEntityID   string `gorm:"column:legal_entity_id"`
	UserID          string `gorm:"column:user_id"`
	JobRoleID       string `gorm:"column:job_role_id"`
	AccountGroupID  string `gorm:"column:account_group_id"`
	Created         int64  `gorm:"column:created_at"`
	Updated         int64  `gorm:"column:updated_at"`
	Version         int64  `gorm:"column:version"`
}

func (assignmentRow) TableName() string { return "assignments" }

func (r assignmentRow) domain() store.Assignment {
	return store.Assignment{ID: r.ID, BusinessGroupID: r.BusinessGroupID, LegalEntityID: r.LegalEntityID,
		UserID: r.UserID, JobRoleID: r.JobRoleID, AccountGroupID: r.AccountGroupID,
		CreatedAt: fromMicros(r.Created), UpdatedAt: fromMicros(r.Updated), Version: r.Version}
}

func (s *Store) PutAssignment(ctx context.Context, a store.Assignment) (store.Assignment, error) {
	var out store.Assignment
	err := s.InTx(ctx, func(ctx context.Context) error {
		now := micros(s.nowUTC())
		cur, err := take[assignmentRow](ctx, s, "put assignment", "user_id = ? AND legal_entity_id = ?", a.UserID, a.LegalEntityID)
		switch {
		case err == nil:
			res := s.write(ctx).Model(&assignmentRow{}).Where("id = ? AND version = ?", cur.ID, cur.Version).
				Updates(map[string]any{"job_role_id": a.JobRoleID, "account_group_id": a.AccountGroupID,
					"business_group_id": a.BusinessGroupID, "updated_at": now, "version": cur.Version + 1})
			if res.Error != nil {
				return wrap("put assignment", res.Error)
			}
			if res.RowsAffected == 0 {
				return fmt.Errorf("gormstore: put assignment: %w: changed concurrently", store.ErrConflict)
			}
		case isNotFound(err):
			id := a.ID
			if id == "" {
				id = store.NewID("asg")
			}
			r := assignmentRow{ID: id, BusinessGroupID: a.BusinessGroupID, LegalEntityID: a.LegalEntityID,
				UserID: a.UserID, JobRoleID: a.JobRoleID, AccountGroupID: a.AccountGroupID,
				Created: now, Updated: now, Version: 1}
			if err := s.insert(ctx, "put assignment", &r); err != nil {
				return err
			}
			cur.ID = id
		default:
			return err
		}
		got, err := take[assignmentRow](ctx, s, "put assignment", "id = ?", cur.ID)
		out = got.domain()
		return err
	})
	return out, err
}

func (s *Store) GetAssignment(ctx context.Context, id string) (store.Assignment, error) {
	r, err := take[assignmentRow](ctx, s, "get assignment", "id = ?", id)
	if err != nil {
		return store.Assignment{}, err
	}
	return r.domain(), nil
}

func (s *Store) UserAssignment(ctx context.Context, userID, legalEntityID string) (store.Assignment, error) {
	r, err := take[assignmentRow](ctx, s, "user assignment", "user_id = ? AND legal_entity_id = ?", userID, legalEntityID)
	if err != nil {
		return store.Assignment{}, err
	}
	return r.domain(), nil
}

func (s *Store) ListAssignments(ctx context.Context, businessGroupID string, p store.Page) ([]store.Assignment, string, error) {
	q := s.read(ctx).Model(&assignmentRow{}).Where("business_group_id = ?", businessGroupID)
	rows, next, err := pageByID(q, p, func(r assignmentRow) string { return r.ID })
	if err != nil {
		return nil, "", wrap("list assignments", err)
	}
	out := make([]store.Assignment, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, next, nil
}

func (s *Store) DeleteAssignment(ctx context.Context, id string) error {
	res := s.write(ctx).Exec("DELETE FROM assignments WHERE id = ?", id)
	if res.Error != nil {
		return wrap("delete assignment", res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("gormstore: delete assignment: %w", store.ErrNotFound)
	}
	return nil
}

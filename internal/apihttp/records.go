package apihttp

import (
	"time"

	"github.com/bankfeed/bankfeed/store"
)

// The records both APIs show: the operator API answers and audits the
// administrator, job role and account group it creates in the shapes
// /admin/v1 shows and audits them, so the audit log holds one shape of
// each whichever API changed it.

// UserJSON is a business user.
type UserJSON struct {
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

// ToUserJSON is u as both APIs show it.
func ToUserJSON(u store.User) UserJSON {
	return UserJSON{ID: u.ID, LoginID: u.LoginID, DisplayName: u.DisplayName, Email: u.Email, LegalEntityID: u.LegalEntityID,
		AccountingSoftware: u.AccountingSoftware, Status: u.Status, MustChangePassword: u.MustChangePassword, LockedUntil: TimeOrNil(u.LockedUntil),
		CreatedAt: u.CreatedAt.UTC(), UpdatedAt: u.UpdatedAt.UTC(), DeletedAt: TimeOrNil(u.DeletedAt), Version: u.Version}
}

// JobRoleJSON is a job role, its grants normalized.
type JobRoleJSON struct {
	ID          string       `json:"id"`
	Name        string       `json:"name"`
	Description string       `json:"description,omitempty"`
	Grants      store.Grants `json:"grants"`
	CreatedAt   time.Time    `json:"createdAt"`
	UpdatedAt   time.Time    `json:"updatedAt"`
	Version     int64        `json:"version"`
}

// ToJobRoleJSON is r as both APIs show it.
func ToJobRoleJSON(r store.JobRole) JobRoleJSON {
	g := r.Grants.Normalize()
	return JobRoleJSON{ID: r.ID, Name: r.Name, Description: r.Description, Grants: g, CreatedAt: r.CreatedAt.UTC(),
		UpdatedAt: r.UpdatedAt.UTC(), Version: r.Version}
}

// AccountGroupJSON is an account group.
type AccountGroupJSON struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	AccountIDs []string  `json:"accountIds"`
	CreatedAt  time.Time `json:"createdAt"`
	UpdatedAt  time.Time `json:"updatedAt"`
	Version    int64     `json:"version"`
}

// ToAccountGroupJSON is g as both APIs show it.
func ToAccountGroupJSON(g store.AccountGroup) AccountGroupJSON {
	ids := g.AccountIDs
	if ids == nil {
		ids = []string{}
	}
	return AccountGroupJSON{ID: g.ID, Name: g.Name, AccountIDs: ids, CreatedAt: g.CreatedAt.UTC(), UpdatedAt: g.UpdatedAt.UTC(), Version: g.Version}
}

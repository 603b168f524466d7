package store

import "time"

// JobRole is a named set of permission grants inside a business group.
type JobRole struct {
	ID              string
	BusinessGroupID string
	Name            string // unique per business group
	Description     string
	Grants          Grants
	CreatedAt       time.Time
	UpdatedAt       time.Time
	Version         int64 // incremented on every update; approvals check it
}

// AccountGroup is a named set of accounts of one business group.
type AccountGroup struct {
	ID              string
	BusinessGroupID string
	Name            string   // unique per business group
	AccountIDs      []string // sorted
	CreatedAt       time.Time
	UpdatedAt       time.Time
	Version         int64
}

// Assignment gives a user a job role and an account group, in the business
// group overview context (LegalEntityID empty) or one entity's context.
// A user has at most one assignment per context.
type Assignment struct {
	ID              string
	BusinessGroupID string
	LegalEntityID   string
	UserID          string
	JobRoleID       string
	AccountGroupID  string
	CreatedAt       time.Time
	UpdatedAt       time.Time
	Version         int64
}

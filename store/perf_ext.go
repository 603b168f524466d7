package store

import "context"

// GrantReader is an optional extension of Store that authz uses when the
// backend provides it: every token grant re-checks the consent, the user and
// the user's job role, and on a hot path (refresh grants, code exchanges)
// reading them in one round trip instead of four matters.
type GrantReader interface {
	// GrantRecords reads the consent, the user and the job role of the
	// user's own assignment (legal entity "") together. ok is false when
	// any of them is missing; the caller then reads them one by one to
	// learn which. It reads, never writes, and joins the transaction in ctx.
	GrantRecords(ctx context.Context, consentID, userID string) (c Consent, u User, role JobRole, ok bool, err error)
}

// Access is what the data API re-checks on every request, read as it is now:
// the consent behind the token, its user, the user's own assignment (legal
// entity "") with its job role and account group, and the account the
// request names.
type Access struct {
	Consent    Consent
	User       User
	Assignment Assignment
	Role       JobRole
	// Group's AccountIDs are read only when no account was asked for: with
	// one, the store checks the membership itself.
	Group   AccountGroup
	Account Account // zero when none was asked for
	MaxSeq  int64   // as MaxSeq, read in the same statement
}

// AccessReader is an optional extension of Store that the data API uses
// when the backend provides it: every request re-reads six records, and one
// round trip instead of eight is most of the difference between a fast and a
// slow page.
type AccessReader interface {
	// ReadAccess reads Access in one statement. With accountID "" it reads
	// the group's AccountIDs; otherwise it reads that account, which must be
	// in the group's list. ok is false when any record is missing (or the
	// account is not in the list); the caller then reads them one by one to
	// learn which. It reads, never writes, and joins the transaction in ctx.
	ReadAccess(ctx context.Context, consentID, userID, accountID string) (a Access, ok bool, err error)
	// ReadTokenAccess is ReadAccess for the consent (RequestID) and user
	// (Subject) of the access token record stored under signature, read with
	// that record in the same statement. ok is false, and rec zero, when the
	// record or any of the others is missing.
	ReadTokenAccess(ctx context.Context, signature, accountID string) (rec TokenRecord, a Access, ok bool, err error)
}

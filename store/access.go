package store

import "context"

// Access is what a grant is judged on (JudgeGrant), read as it is now: the
// consent behind the token, its user, the user's own assignment (legal
// entity "") with its job role and account group, and the account the
// request names. A record that does not exist is zero (its ID ""): the rule,
// not the read, says what that means.
type Access struct {
	Consent    Consent
	User       User
	Assignment Assignment
	Role       JobRole
	// Group's AccountIDs are read only when no account was asked for: with
	// one, the store checks the membership itself.
	Group AccountGroup
	// Account is the account asked for, and only when it is in Group.
	Account Account
	MaxSeq  int64 // as MaxSeq, read in the same statement
}

// AccessStore reads what every token grant and every data API request
// re-checks. Each read is one statement when every record is there (the
// hot path: a request re-reads six records, and one round trip instead of
// eight is most of the difference between a fast and a slow page); a
// missing record costs more reads, to tell which. They read, never write,
// and join the transaction in ctx. GrantRecords, ReadAccess,
// ReadTokenAccess and SessionAccessFlow return the User Secretless (and
// SessionAccessFlow the client without its secret hashes): nothing that
// judges a grant or shows the consent page checks a password. SessionAccess
// and UserAccess return the user whole (the sign-in pages compare its
// password hash).
type AccessStore interface {
	// GrantRecords reads the consent, the user, and the user's own
	// assignment and its job role (Access without Group, Account and
	// MaxSeq), for a token grant (code exchange, refresh).
	GrantRecords(ctx context.Context, consentID, userID string) (Access, error)
	// ReadAccess reads Access. With accountID "" it reads the group's
	// AccountIDs; otherwise it reads that account if it is in the group
	// (Account zero when it is not, or is missing) and leaves AccountIDs nil.
	ReadAccess(ctx context.Context, consentID, userID, accountID string) (Access, error)
	// ReadTokenAccess is ReadAccess for the consent (RequestID) and user
	// (Subject) of the access token record stored under signature, read
	// with that record; of the user, its standing only (User.Standing: what
	// JudgeGrant and the data API read). ErrNotFound when there is no such
	// record.
	ReadTokenAccess(ctx context.Context, signature, accountID string) (TokenRecord, Access, error)
	// SessionAccess reads the unexpired browser session stored under id
	// with its user and the user's own assignment, its job role and its
	// account group (Access without Consent, Account and MaxSeq), for the
	// bank's sign-in and consent pages. ErrNotFound when there is no such
	// session; a missing user or assignment is zero.
	SessionAccess(ctx context.Context, id string) (BrowserSession, Access, error)
	// UserAccess reads the user with their own assignment, its job role
	// and its account group (Access without Consent, Account and MaxSeq),
	// for the authorization step. ErrNotFound when there is no such user; a
	// missing assignment or role is zero.
	UserAccess(ctx context.Context, userID string) (Access, error)
	// SessionAccessFlow is SessionAccess with the unexpired flow stored
	// under flowID and the flow's client, in one statement, for the consent
	// page and its form, which read both. A session or flow missing or
	// expired is zero, as is any record missing (the client gone too);
	// never ErrNotFound.
	SessionAccessFlow(ctx context.Context, sessionID, flowID string) (SessionFlow, error)
}

// SessionFlow is what SessionAccessFlow reads.
type SessionFlow struct {
	Session BrowserSession
	Access  Access // the session user's, as SessionAccess reads it, the user Secretless
	Flow    AuthFlow
	Client  Client // the flow's
}

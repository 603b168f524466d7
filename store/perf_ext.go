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

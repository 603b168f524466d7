package gormstore

import (
	"context"
	"errors"
	"slices"

	"github.com/bankfeed/bankfeed/store"
)

// allowHead, allowConsentRow and allowTail enclose the rows of
// AllowReadAuthFlow's statement on PostgreSQL: the flow finished as read
// (FinishReadAuthFlow's SET and WHERE, its client too) while the consent
// lock of its (user, client) is free (tried, never waited for: a waiting
// statement would go on with a snapshot older than what the holder
// commits), then consentReplace's revocation, tokens' end and insert, made
// only when the flow was finished, and the code's records, only when the
// consent was inserted. The consent's insert reads r, so it runs after the
// revocation: the unique index consents_user_client sees the standing
// consent it replaces revoked. A consent that another authorization
// committed after this statement's snapshot is not in r; then the insert
// breaks that index and the whole statement fails, changing nothing. One
// statement and no transaction, where the consent form's Allow took BEGIN,
// the flow's finish, ReplaceConsent, the code's insert and COMMIT: five
// round trips to the database (issue 15).
var allowHead = `WITH f AS (` + allowFlowUpdate + `
		AND pg_try_advisory_xact_lock(` + consentLockKey("user_id", "client_id") + `) RETURNING id),
	r AS (UPDATE consents SET revoked_at = ? WHERE ` + activeConsentOf + ` AND EXISTS (SELECT 1 FROM f) RETURNING id),
	t AS (UPDATE tokens SET active = FALSE WHERE active AND request_id IN (SELECT id FROM r)),
	i AS (INSERT INTO consents (id, user_id, client_id, scopes, granted_at, expires_at, revoked_at, last_used_at)
		SELECT ` + allowConsentRow + ` WHERE EXISTS (SELECT 1 FROM f) AND (SELECT count(*) FROM r) >= 0 RETURNING id),
	ins AS (INSERT INTO tokens (` + tokenColumns + `) SELECT * FROM (VALUES `

// allowFlowUpdate is FinishReadAuthFlow's UPDATE (readFinish), narrowed to
// the flow's client; its arguments are readFinish's, then the client, then
// the time now.
var allowFlowUpdate = flowFinishUpdate(finishReadShape.cols, finishReadShape.where+" AND client_id = ?")

const (
	allowConsentRow = `?::text, ?::text, ?::text, ?::text, ?::bigint, ?::bigint, ?::bigint, ?::bigint`
	allowTail       = `) v WHERE EXISTS (SELECT 1 FROM i) RETURNING 1)
	SELECT id, FALSE FROM r UNION ALL SELECT id, TRUE FROM i`
)

// errNotAllowed: AllowReadAuthFlow's conditions do not hold (SQLite).
var errNotAllowed = errors.New("gormstore: flow not allowed in one step")

// AllowReadAuthFlow is store.FlowStore's: on PostgreSQL one statement; on
// SQLite, whose single writer takes no locks, the steps in one
// transaction.
func (s *Store) AllowReadAuthFlow(ctx context.Context, read store.AuthFlow, d store.FlowDecision, c store.Consent, rs ...store.TokenRecord) (store.Consent, bool, error) {
	rows, _, err := tokenRows(rs)
	if err != nil || len(rows) == 0 || d.DenyReason != "" || c.ID == "" || c.UserID != read.UserID || c.ClientID != read.ClientID {
		return store.Consent{}, false, err
	}
	for _, r := range rows {
		if r.RequestID != c.ID {
			return store.Consent{}, false, nil
		}
	}
	c.GrantedAt = orNow(c.GrantedAt, s.nowUTC())
	cr := s.newConsentRow(c)
	f := s.readFinish(read, d)
	flowArgs := slices.Concat(f.vals, f.args, []any{read.ClientID, micros(s.nowUTC())})
	if s.dialect == dialectPostgres {
		args := slices.Concat(flowArgs, []any{cr.Granted, c.UserID, c.ClientID,
			cr.ID, cr.UserID, cr.ClientID, cr.Scopes, cr.Granted, cr.Expires, cr.Revoked, cr.LastUsed})
		var replaced []string
		inserted := false
		err := s.writeQuery(ctx, allowHead+valuesRows(len(rows))+allowTail, tokenInsertArgs(args, rows), scanReplaced(&replaced, &inserted))
		if errors.Is(translate(err), store.ErrConflict) || (err == nil && !inserted) {
			return store.Consent{}, false, nil
		}
		if err != nil {
			return store.Consent{}, false, wrap("allow auth flow", err)
		}
		out, err := cr.domain()
		if err != nil { // written: not "nothing changed"
			return store.Consent{}, true, err
		}
		out.Replaced = replaced
		return out, true, nil
	}
	var out store.Consent
	err = s.InTx(ctx, func(ctx context.Context) error {
		n, err := s.exec(ctx, allowFlowUpdate, flowArgs)
		if err != nil {
			return err
		}
		if n != 1 {
			return errNotAllowed
		}
		if out, err = s.ReplaceConsent(ctx, c); err != nil {
			return err
		}
		return s.insertTokens(ctx, rows)
	})
	if errors.Is(err, errNotAllowed) || errors.Is(err, store.ErrConflict) {
		return store.Consent{}, false, nil
	}
	if err != nil {
		return store.Consent{}, false, wrap("allow auth flow", err)
	}
	return out, true, nil
}

package gormstore

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"

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
	t AS (UPDATE tokens SET active = FALSE WHERE active AND request_id IN (SELECT id FROM r) RETURNING 1),
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
	// allowAuditTail is allowTail with the grant's audit event
	// (store.GrantAudit), numbered as appendAuditOnce numbers one: the
	// counter's row (n) is taken only once every other write is made (its
	// condition reads ins and t, which therefore run first), so that this
	// statement, like an audited transaction, locks the counter last and
	// holds it only until its commit; the action and After are the
	// Replaced event's when r revoked a consent (issue 15: the event was a
	// statement of its own after the grant's).
	allowAuditTail = `) v WHERE EXISTS (SELECT 1 FROM i) RETURNING 1),
	n AS (UPDATE seq_counters SET value = value + 1 WHERE name = 'audit'
		AND EXISTS (SELECT 1 FROM ins) AND (SELECT count(*) FROM t) >= 0 RETURNING value),
	a AS (INSERT INTO audit_events (seq, business_group_id, actor_id, action, target_type, target_id, request_id,
		remote_addr, user_agent, outcome, http_request_id, before_json, after_json, at)
		SELECT value, ?::text, ?::text, CASE WHEN EXISTS (SELECT 1 FROM r) THEN ?::text ELSE ?::text END,
		?::text, ?::text, ?::text, ?::text, ?::text, ?::text, ?::text, ?::text,
		CASE WHEN EXISTS (SELECT 1 FROM r) THEN ?::text || to_json((SELECT min(id) FROM r))::text || ?::text ELSE ?::text END,
		?::bigint FROM n RETURNING seq)
	SELECT id, FALSE FROM r UNION ALL SELECT id, TRUE FROM i UNION ALL SELECT seq::text, NULL FROM a`
)

// allowAuditArgs are allowAuditTail's arguments for g's event at now.
func allowAuditArgs(g store.GrantAudit, now time.Time) []any {
	e := g.Granted
	before, after, _ := g.ReplacedAfter()
	return []any{e.BusinessGroupID, e.ActorID, g.Replaced.Action, e.Action, e.TargetType, e.TargetID, e.RequestID,
		e.RemoteAddr, e.UserAgent, e.Outcome, e.HTTPRequestID, rawOrEmpty(e.Before), string(before), string(after), rawOrEmpty(e.After),
		micros(orNow(e.At, now))}
}

// errNotAllowed: AllowReadAuthFlow's conditions do not hold (SQLite).
var errNotAllowed = errors.New("gormstore: flow not allowed in one step")

// AllowReadAuthFlow is store.FlowStore's: on PostgreSQL one statement; on
// SQLite, whose single writer takes no locks, the steps in one
// transaction.
func (s *Store) AllowReadAuthFlow(ctx context.Context, read store.AuthFlow, d store.FlowDecision, c store.Consent, g store.GrantAudit, rs ...store.TokenRecord) (store.Consent, bool, error) {
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
	audited := g.Granted.Action != ""
	if _, _, ok := g.ReplacedAfter(); audited && !ok {
		return store.Consent{}, false, store.Invalid("audit", "the Replaced event's After does not name the replaced consent")
	}
	if s.dialect == dialectPostgres {
		args := tokenInsertArgs(slices.Concat(flowArgs, []any{cr.Granted, c.UserID, c.ClientID,
			cr.ID, cr.UserID, cr.ClientID, cr.Scopes, cr.Granted, cr.Expires, cr.Revoked, cr.LastUsed}), rows)
		tail := allowTail
		if audited {
			args, tail = append(args, allowAuditArgs(g, s.nowUTC())...), allowAuditTail
		}
		var replaced []string
		inserted, appended := false, false
		err := s.writeQuery(ctx, allowHead+valuesRows(len(rows))+tail, args, func(sc rowScanner) error {
			var id string
			var isNew sql.NullBool
			if err := sc.Scan(&id, &isNew); err != nil {
				return err
			}
			switch {
			case !isNew.Valid:
				appended = true
			case isNew.Bool:
				inserted = true
			default:
				replaced = append(replaced, id)
			}
			return nil
		})
		if errors.Is(translate(err), store.ErrConflict) || (err == nil && !inserted) {
			return store.Consent{}, false, nil
		}
		if err != nil {
			return store.Consent{}, false, wrap("allow auth flow", err)
		}
		// Written from here on: not "nothing changed".
		if audited && !appended {
			return store.Consent{}, true, errors.New("gormstore: allow auth flow: audit event not appended (counter missing: migrations not applied?)")
		}
		out, err := cr.domain()
		if err != nil {
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
		if err := s.insertTokens(ctx, rows); err != nil || !audited {
			return err
		}
		e, err := g.Event(out.Replaced)
		if err != nil {
			return err
		}
		_, err = s.AppendAudit(ctx, e)
		return err
	})
	if errors.Is(err, errNotAllowed) || errors.Is(err, store.ErrConflict) {
		return store.Consent{}, false, nil
	}
	if err != nil {
		return store.Consent{}, false, wrap("allow auth flow", err)
	}
	return out, true, nil
}

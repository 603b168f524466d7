package gormstore

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/bankfeed/bankfeed/store"
)

// rotateCreatingHead and rotateCreatingTail enclose the rows of
// RotateRefreshTokenCreating's statement on PostgreSQL: tokenRotatePair's
// consent share lock and rotation, narrowed to a standing consent that is
// the new records' (c: an inner join, so nothing matches otherwise), and
// the new records' insert, made only when the rotation matched (ins). One
// statement and no transaction around it, where the steps took BEGIN, the
// rotation, the insert and COMMIT: four round trips to the database for
// every refresh grant (issue 15). The inserted values are cast because they
// are a query's, not the insert's own VALUES list; without ON CONFLICT, a
// record already stored fails the whole statement, rotation included.
const (
	rotateCreatingHead = `WITH c AS (SELECT id FROM consents WHERE id = ? AND revoked_at = 0
		AND id = (SELECT request_id FROM tokens WHERE kind = 'refresh_token' AND signature = ?) FOR SHARE),
	r AS (UPDATE tokens SET active = FALSE, first_used_at = CASE WHEN first_used_at = 0 THEN ? ELSE first_used_at END
		FROM c WHERE tokens.kind = 'refresh_token' AND tokens.signature = ? AND tokens.active
		RETURNING tokens.access_signature),
	paired AS (UPDATE tokens SET active = FALSE WHERE kind = 'access_token' AND active
		AND signature IN (SELECT access_signature FROM r WHERE access_signature <> '')),
	ins AS (INSERT INTO tokens (` + tokenColumns + `) SELECT * FROM (VALUES `
	rotateCreatingRow  = `(?::text,?::text,?::text,?::text,?::text,?::boolean,?::bigint,?::bigint,?::bigint,?::text,?::text,?::text,?::bytea)`
	rotateCreatingTail = `) v WHERE EXISTS (SELECT 1 FROM r) RETURNING 1)
	SELECT count(*) FROM r`
)

// consumeCreatingHead is ConsumeCodeCreating's statement on PostgreSQL, as
// rotateCreatingHead is RotateRefreshTokenCreating's (and ending with the
// same rows and tail): codeConsume's lock of the consent, taken by
// selecting it for update (c) rather than by stamping it, so that the stamp
// (used) is made only when the code was consumed (r).
const consumeCreatingHead = `WITH c AS (SELECT id FROM consents WHERE id = ? AND revoked_at = 0
		AND id = (SELECT request_id FROM tokens WHERE kind = 'authorize_code' AND signature = ?) FOR NO KEY UPDATE),
	r AS (UPDATE tokens SET active = FALSE FROM c WHERE tokens.kind = 'authorize_code' AND tokens.signature = ? AND tokens.active
		RETURNING tokens.request_id),
	used AS (UPDATE consents SET last_used_at = ? WHERE id IN (SELECT request_id FROM r)),
	ins AS (INSERT INTO tokens (` + tokenColumns + `) SELECT * FROM (VALUES `

// rotateOfConsent is tokenRotate for a refresh token of one consent,
// answering the access token it names (SQLite's RotateRefreshTokenCreating).
const rotateOfConsent = `UPDATE tokens SET active = ?, first_used_at = CASE WHEN first_used_at = 0 THEN ? ELSE first_used_at END
	WHERE kind = 'refresh_token' AND signature = ? AND active = ? AND request_id = ? RETURNING access_signature`

// errNotSpent: the usual grant's conditions do not hold (SQLite's
// spendCreatingSQLite).
var errNotSpent = errors.New("gormstore: code or refresh token not spent")

// grantRows are the rows of a grant's new records rs and their one
// consent; ok is false unless every record belongs to the same one.
func grantRows(rs []store.TokenRecord) (rows []tokenRow, consentID string, ok bool, err error) {
	rows, consents, err := tokenRows(rs)
	if err != nil || len(rows) == 0 || len(consents) != 1 {
		return nil, "", false, err
	}
	for _, r := range rows {
		if r.RequestID != consents[0] {
			return nil, "", false, nil
		}
	}
	return rows, consents[0], true, nil
}

// valuesRows is n rows of rotateCreatingRow.
func valuesRows(n int) string {
	return rotateCreatingRow + strings.Repeat(","+rotateCreatingRow, n-1)
}

// RotateRefreshTokenCreating is store.TokenStore's: on PostgreSQL one
// statement; on SQLite, whose single writer takes no locks, the steps in
// one transaction.
func (s *Store) RotateRefreshTokenCreating(ctx context.Context, signature string, at time.Time, rs ...store.TokenRecord) (bool, error) {
	rows, consentID, ok, err := grantRows(rs)
	if !ok || err != nil {
		return false, err
	}
	if at.IsZero() {
		at = s.nowUTC()
	}
	us := micros(at)
	if s.dialect == dialectPostgres {
		return s.spendCreating(ctx, "rotate refresh token and create tokens", rotateCreatingHead+valuesRows(len(rows))+rotateCreatingTail,
			tokenInsertArgs([]any{consentID, signature, us, signature}, rows))
	}
	return s.spendCreatingSQLite(ctx, "rotate refresh token and create tokens", consentID, rows, func(ctx context.Context) (bool, error) {
		var paired []string
		err := s.writeQuery(ctx, rotateOfConsent, []any{false, us, signature, true, consentID}, func(sc rowScanner) error {
			paired = append(paired, "")
			return sc.Scan(&paired[len(paired)-1])
		})
		if err != nil || len(paired) != 1 {
			return false, err
		}
		if paired[0] != "" {
			if err := s.DeactivateToken(ctx, store.TokenAccess, paired[0]); err != nil && !errors.Is(err, store.ErrNotFound) {
				return false, err
			}
		}
		return true, nil
	})
}

// ConsumeCodeCreating is store.TokenStore's, as RotateRefreshTokenCreating
// is.
func (s *Store) ConsumeCodeCreating(ctx context.Context, signature string, rs ...store.TokenRecord) (bool, error) {
	rows, consentID, ok, err := grantRows(rs)
	if !ok || err != nil {
		return false, err
	}
	now := micros(s.nowUTC())
	if s.dialect == dialectPostgres {
		return s.spendCreating(ctx, "consume code and create tokens", consumeCreatingHead+valuesRows(len(rows))+rotateCreatingTail,
			tokenInsertArgs([]any{consentID, signature, signature, now}, rows))
	}
	return s.spendCreatingSQLite(ctx, "consume code and create tokens", consentID, rows, func(ctx context.Context) (bool, error) {
		n, err := s.exec(ctx, "UPDATE tokens SET active = ? WHERE kind = ? AND signature = ? AND active = ? AND request_id = ?",
			[]any{false, string(store.TokenAuthorizeCode), signature, true, consentID})
		if err != nil || n != 1 {
			return false, err
		}
		_, err = s.exec(ctx, "UPDATE consents SET last_used_at = ? WHERE id = ?", []any{now, consentID})
		return err == nil, err
	})
}

// spendCreating runs one of the PostgreSQL statements above, which answer
// how many records they spent (0 or 1).
func (s *Store) spendCreating(ctx context.Context, what, q string, args []any) (bool, error) {
	var n int64
	if err := s.writeQuery(ctx, q, args, func(sc rowScanner) error { return sc.Scan(&n) }); err != nil {
		return false, wrap(what, err)
	}
	return n == 1, nil
}

// spendCreatingSQLite is the steps on SQLite, in one transaction: the
// consent's check first, so that a refusal has written nothing (even in the
// caller's transaction), then spend (false: it matched nothing and wrote
// nothing), then the new records.
func (s *Store) spendCreatingSQLite(ctx context.Context, what, consentID string, rows []tokenRow, spend func(context.Context) (bool, error)) (bool, error) {
	err := s.InTx(ctx, func(ctx context.Context) error {
		if revoked, err := s.lockConsent(ctx, consentID); err != nil {
			return err
		} else if revoked || !s.standingConsents(ctx)[consentID] {
			return errNotSpent // revoked, or no such consent
		}
		if spent, err := spend(ctx); err != nil {
			return err
		} else if !spent {
			return errNotSpent
		}
		return s.insertTokens(ctx, rows)
	})
	if errors.Is(err, errNotSpent) {
		return false, nil
	}
	if err != nil {
		return false, wrap(what, err)
	}
	return true, nil
}

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

// rotateOfConsent is tokenRotate for a refresh token of one consent,
// answering the access token it names (SQLite's RotateRefreshTokenCreating).
const rotateOfConsent = `UPDATE tokens SET active = ?, first_used_at = CASE WHEN first_used_at = 0 THEN ? ELSE first_used_at END
	WHERE kind = 'refresh_token' AND signature = ? AND active = ? AND request_id = ? RETURNING access_signature`

// errNotRotated rolls back SQLite's RotateRefreshTokenCreating when the
// usual grant's conditions do not hold.
var errNotRotated = errors.New("gormstore: refresh token not rotated")

// RotateRefreshTokenCreating is store.TokenStore's: on PostgreSQL one
// statement; on SQLite, whose single writer takes no locks, the steps in
// one transaction.
func (s *Store) RotateRefreshTokenCreating(ctx context.Context, signature string, at time.Time, rs ...store.TokenRecord) (bool, error) {
	rows, consents, err := tokenRows(rs)
	if err != nil {
		return false, err
	}
	if len(rows) == 0 || len(consents) != 1 || consents[0] != rows[0].RequestID {
		return false, nil
	}
	for _, r := range rows {
		if r.RequestID != consents[0] {
			return false, nil
		}
	}
	if at.IsZero() {
		at = s.nowUTC()
	}
	us := micros(at)
	if s.dialect == dialectPostgres {
		q := rotateCreatingHead + rotateCreatingRow + strings.Repeat(","+rotateCreatingRow, len(rows)-1) + rotateCreatingTail
		args := tokenInsertArgs([]any{consents[0], signature, us, signature}, rows)
		var n int64
		err := s.writeQuery(ctx, q, args, func(sc rowScanner) error { return sc.Scan(&n) })
		if err != nil {
			return false, wrap("rotate refresh token and create tokens", err)
		}
		return n == 1, nil
	}
	err = s.InTx(ctx, func(ctx context.Context) error {
		// The checks first, so that a refusal has written nothing, even
		// inside the caller's transaction.
		if revoked, err := s.lockConsent(ctx, consents[0]); err != nil {
			return err
		} else if revoked || !s.standingConsents(ctx)[consents[0]] {
			return errNotRotated // revoked, or no such consent
		}
		var paired []string
		err := s.writeQuery(ctx, rotateOfConsent, []any{false, us, signature, true, consents[0]}, func(sc rowScanner) error {
			paired = append(paired, "")
			return sc.Scan(&paired[len(paired)-1])
		})
		if err != nil {
			return err
		}
		if len(paired) != 1 {
			return errNotRotated
		}
		if paired[0] != "" {
			if err := s.DeactivateToken(ctx, store.TokenAccess, paired[0]); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		return s.insertTokens(ctx, rows)
	})
	if errors.Is(err, errNotRotated) {
		return false, nil
	}
	if err != nil {
		return false, wrap("rotate refresh token and create tokens", err)
	}
	return true, nil
}

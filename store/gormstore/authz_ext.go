package gormstore

import (
	"context"
	"fmt"

	"gorm.io/gorm/clause"

	"github.com/bankfeed/bankfeed/store"
)

// ConsumeToken is store.TokenStore's: the conditional UPDATE (active = true)
// lets exactly one concurrent caller win, on SQLite and PostgreSQL alike, and
// RETURNING hands the winner the record in the same round trip (only an
// active record matches, so the record before differs only in Active).
//
// A code's consent is stamped used: on PostgreSQL in a transaction by the
// statement that consumes the code (codeConsume); otherwise by one after
// the consumption.
func (s *Store) ConsumeToken(ctx context.Context, kind store.TokenKind, signature string) (store.TokenRecord, error) {
	if kind == store.TokenAuthorizeCode && s.txFrom(ctx) == nil {
		// The consumption and the stamp are kept or lost together.
		var out store.TokenRecord
		err := s.InTx(ctx, func(ctx context.Context) error {
			var err error
			out, err = s.consumeToken(ctx, kind, signature)
			return err
		})
		return out, err
	}
	return s.consumeToken(ctx, kind, signature)
}

// codeConsume is consumeToken's one statement for a code on PostgreSQL in a
// transaction: the code's consent stamped used and so locked (c), and the
// code deactivated. The UPDATE joins c, so its row (a left join: a code
// without a consent is consumed too) is there before the code's row is
// locked: the consent is locked first, as lockRecordConsent and every
// revocation lock them (issue 15: these were two statements). When no
// active code matches, c still runs (a data-modifying WITH always does):
// the caller's transaction, which fails on ErrConflict, rolls its stamp
// back.
const codeConsume = `WITH c AS (UPDATE consents SET last_used_at = ?
		WHERE id = (SELECT request_id FROM tokens WHERE kind = ? AND signature = ?) RETURNING id, revoked_at)
	UPDATE tokens SET active = FALSE FROM (SELECT 1 AS one) d LEFT JOIN c ON TRUE
	WHERE tokens.kind = ? AND tokens.signature = ? AND tokens.active
	RETURNING ` + tokenColumns + `, COALESCE(c.id, ''), COALESCE(c.revoked_at, 0)`

func (s *Store) consumeToken(ctx context.Context, kind store.TokenKind, signature string) (store.TokenRecord, error) {
	if kind == store.TokenAuthorizeCode && s.dialect == dialectPostgres && s.txFrom(ctx) != nil {
		return s.consumeCode(ctx, signature)
	}
	if err := s.lockRecordConsent(ctx, kind, signature); err != nil {
		return store.TokenRecord{}, err
	}
	stamp := kind == store.TokenAuthorizeCode
	var rows []tokenRow
	res := s.write(ctx).Model(&rows).Clauses(clause.Returning{}).
		Where("kind = ? AND signature = ? AND active = ?", string(kind), signature, true).
		Update("active", false)
	if res.Error != nil {
		return store.TokenRecord{}, wrap("consume token", res.Error)
	}
	if len(rows) == 1 {
		out := rows[0].domain()
		out.Active = true
		if stamp && out.RequestID != "" {
			if err := s.write(ctx).Exec("UPDATE consents SET last_used_at = ? WHERE id = ?", micros(s.nowUTC()), out.RequestID).Error; err != nil {
				return store.TokenRecord{}, wrap("consume token: stamp consent", err)
			}
		}
		return out, nil
	}
	return store.TokenRecord{}, s.notConsumed(ctx, kind, signature)
}

// notConsumed says why a consumption matched nothing: missing, or already
// used.
func (s *Store) notConsumed(ctx context.Context, kind store.TokenKind, signature string) error {
	if _, err := s.GetToken(ctx, kind, signature); err != nil {
		return err
	}
	return fmt.Errorf("gormstore: consume token: already used: %w", store.ErrConflict)
}

// consumeCode runs codeConsume and remembers the consent it found standing
// as lockRecordConsent does.
func (s *Store) consumeCode(ctx context.Context, signature string) (store.TokenRecord, error) {
	kind := string(store.TokenAuthorizeCode)
	var rows []tokenRow
	var consentID string
	var revokedAt int64
	err := s.writeQuery(ctx, codeConsume, []any{micros(s.nowUTC()), kind, signature, kind, signature}, func(sc rowScanner) error {
		rows = append(rows, tokenRow{})
		return sc.Scan(append(rows[len(rows)-1].pointers(), &consentID, &revokedAt)...)
	})
	if err != nil {
		return store.TokenRecord{}, wrap("consume token", err)
	}
	if len(rows) != 1 {
		return store.TokenRecord{}, s.notConsumed(ctx, store.TokenAuthorizeCode, signature)
	}
	s.noteStanding(ctx, consentID, revokedAt)
	out := rows[0].domain()
	out.Active = true
	return out, nil
}

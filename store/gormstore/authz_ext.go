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
// statement that takes the consent's lock (lockRecordConsent), which for a
// code is an UPDATE (the exchange stamped it by a statement of its own
// before, issue 15); otherwise by one after the consumption.
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

func (s *Store) consumeToken(ctx context.Context, kind store.TokenKind, signature string) (store.TokenRecord, error) {
	stamp := kind == store.TokenAuthorizeCode
	locked, err := s.lockRecordConsentUsed(ctx, kind, signature, stamp)
	if err != nil {
		return store.TokenRecord{}, err
	}
	if locked {
		stamp = false
	}
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
	// Missing, or already used: say which.
	if _, err := s.GetToken(ctx, kind, signature); err != nil {
		return store.TokenRecord{}, err
	}
	return store.TokenRecord{}, fmt.Errorf("gormstore: consume token: already used: %w", store.ErrConflict)
}

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
func (s *Store) ConsumeToken(ctx context.Context, kind store.TokenKind, signature string) (store.TokenRecord, error) {
	if err := s.lockRecordConsent(ctx, kind, signature); err != nil {
		return store.TokenRecord{}, err
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
		return out, nil
	}
	// Missing, or already used: say which.
	if _, err := s.GetToken(ctx, kind, signature); err != nil {
		return store.TokenRecord{}, err
	}
	return store.TokenRecord{}, fmt.Errorf("gormstore: consume token: already used: %w", store.ErrConflict)
}

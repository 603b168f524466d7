package gormstore

import (
	"context"
	"fmt"

	"github.com/bankfeed/bankfeed/store"
)

var _ store.TokenConsumer = (*Store)(nil)

// ConsumeToken is store.TokenConsumer: the conditional UPDATE (active = true)
// lets exactly one concurrent caller win, on SQLite and PostgreSQL alike.
func (s *Store) ConsumeToken(ctx context.Context, kind store.TokenKind, signature string) (store.TokenRecord, error) {
	var out store.TokenRecord
	err := s.InTx(ctx, func(ctx context.Context) error {
		before, err := s.GetToken(ctx, kind, signature)
		if err != nil {
			return err
		}
		res := s.write(ctx).Model(&tokenRow{}).
			Where("kind = ? AND signature = ? AND active = ?", string(kind), signature, true).
			Update("active", false)
		if res.Error != nil {
			return wrap("consume token", res.Error)
		}
		if res.RowsAffected != 1 {
			return fmt.Errorf("gormstore: consume token: already used: %w", store.ErrConflict)
		}
		out = before
		return nil
	})
	return out, err
}

package gormstore

import (
	"context"
	"fmt"
	"time"

	"github.com/bankfeed/bankfeed/store"
)

type registrationTokenRow struct {
	ID        string `gorm:"column:id;primaryKey"`
	TokenHash string `gorm:"column:token_hash"`
	Expires   int64  `gorm:"column:expires_at"`
	UsesLeft  int64  `gorm:"column:uses_left"`
	CreatedBy string `gorm:"column:created_by"`
	Created   int64  `gorm:"column:created_at"`
}

func (registrationTokenRow) TableName() string { return "registration_tokens" }

func (s *Store) CreateRegistrationToken(ctx context.Context, t store.RegistrationToken) (store.RegistrationToken, error) {
	switch {
	case t.TokenHash == "":
		return store.RegistrationToken{}, store.Invalid("token", "is required")
	case t.UsesLeft < 1:
		return store.RegistrationToken{}, store.Invalid("uses", "must be at least 1")
	case t.ExpiresAt.IsZero():
		return store.RegistrationToken{}, store.Invalid("expires", "is required")
	}
	if t.ID == "" {
		t.ID = store.NewID("iat")
	}
	t.CreatedAt = orNow(t.CreatedAt, s.nowUTC())
	r := registrationTokenRow{ID: t.ID, TokenHash: t.TokenHash, Expires: micros(t.ExpiresAt), UsesLeft: int64(t.UsesLeft),
		CreatedBy: t.CreatedBy, Created: micros(t.CreatedAt)}
	if err := s.insert(ctx, "create registration token", &r); err != nil {
		return store.RegistrationToken{}, err
	}
	return t, nil
}

// UseRegistrationToken spends a use in one conditional UPDATE, so two
// registrations racing for the last use cannot both have it.
func (s *Store) UseRegistrationToken(ctx context.Context, tokenHash string, now time.Time) error {
	res := s.write(ctx).Exec(`UPDATE registration_tokens SET uses_left = uses_left - 1
		WHERE token_hash = ? AND uses_left > 0 AND expires_at > ?`, tokenHash, micros(now))
	if res.Error != nil {
		return wrap("use registration token", res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("gormstore: use registration token: %w", store.ErrNotFound)
	}
	return nil
}

package gormstore

import (
	"context"
	"fmt"
	"time"

	"github.com/bankfeed/bankfeed/store"
)

// The sign-in bookkeeping is written without a version: each write is a
// compare-and-swap on the values it read, retried a few times, so that
// concurrent failures are all counted and a failure never makes an
// administrator's pending request about the user stale.

// signInColumns are the users columns of store.SignInState.
var signInColumns = []string{"failed_attempts", "last_failed_at", "locked_until"}

// signInRetries bounds the compare-and-swap loops; only a burst of
// concurrent failures of one login ID loses this many times in a row.
const signInRetries = 8

func (s *Store) UpdateUserSignIn(ctx context.Context, userID string, fn func(store.SignInState) store.SignInState) (store.User, error) {
	const op = "update user sign-in"
	for range signInRetries {
		r, err := take[userRow](ctx, s, op, "id = ?", userID)
		if err != nil {
			return store.User{}, err
		}
		u, err := userMap.toDomain(r)
		if err != nil {
			return store.User{}, fmt.Errorf("gormstore: %s: %w", op, err)
		}
		old := u.SignIn()
		next := fn(old)
		if next == old {
			return u, nil
		}
		res := s.write(ctx).Exec(`UPDATE users SET failed_attempts = ?, last_failed_at = ?, locked_until = ?
			WHERE id = ? AND failed_attempts = ? AND last_failed_at = ? AND locked_until = ?`,
			next.FailedAttempts, micros(next.LastFailedAt), micros(next.LockedUntil),
			userID, r.FailedAttempts, r.LastFailedAt, r.LockedUntil)
		if res.Error != nil {
			return store.User{}, wrap(op, res.Error)
		}
		if res.RowsAffected == 1 {
			return u.WithSignIn(next), nil
		}
	}
	return store.User{}, fmt.Errorf("gormstore: %s: %w: changed concurrently", op, store.ErrConflict)
}

type loginFailuresRow struct {
	Key            string `gorm:"column:login_key;primaryKey"`
	FailedAttempts int64  `gorm:"column:failed_attempts"`
	LastFailedAt   int64  `gorm:"column:last_failed_at"`
	LockedUntil    int64  `gorm:"column:locked_until"`
	Expires        int64  `gorm:"column:expires_at"`
}

func (loginFailuresRow) TableName() string { return "login_failures" }

func (r loginFailuresRow) domain() store.LoginFailures {
	return store.LoginFailures{Key: r.Key, ExpiresAt: fromMicros(r.Expires), SignInState: store.SignInState{
		FailedAttempts: int(r.FailedAttempts), LastFailedAt: fromMicros(r.LastFailedAt), LockedUntil: fromMicros(r.LockedUntil)}}
}

func loginFailuresRowOf(f store.LoginFailures) loginFailuresRow {
	return loginFailuresRow{Key: f.Key, FailedAttempts: int64(f.FailedAttempts), LastFailedAt: micros(f.LastFailedAt),
		LockedUntil: micros(f.LockedUntil), Expires: micros(f.ExpiresAt)}
}

// getLoginFailures is the row under key and whether it exists.
func (s *Store) getLoginFailures(ctx context.Context, op, key string) (loginFailuresRow, bool, error) {
	var rows []loginFailuresRow
	if err := s.read(ctx).Where("login_key = ?", key).Limit(1).Find(&rows).Error; err != nil {
		return loginFailuresRow{}, false, wrap(op, err)
	}
	if len(rows) == 0 {
		return loginFailuresRow{Key: key}, false, nil
	}
	return rows[0], true, nil
}

func (s *Store) GetLoginFailures(ctx context.Context, key string) (store.LoginFailures, error) {
	r, _, err := s.getLoginFailures(ctx, "get login failures", key)
	return r.domain(), err
}

func (s *Store) UpdateLoginFailures(ctx context.Context, key string, fn func(store.LoginFailures) store.LoginFailures) (store.LoginFailures, error) {
	const op = "update login failures"
	if key == "" {
		return store.LoginFailures{}, store.Invalid("key", "is required")
	}
	for range signInRetries {
		cur, found, err := s.getLoginFailures(ctx, op, key)
		if err != nil {
			return store.LoginFailures{}, err
		}
		next := fn(cur.domain())
		if next.Key != key {
			return store.LoginFailures{}, store.Invalid("key", "cannot change")
		}
		nr := loginFailuresRowOf(next)
		if nr == cur {
			return next, nil
		}
		db := s.write(ctx)
		if !found {
			res := db.Exec(`INSERT INTO login_failures (login_key, failed_attempts, last_failed_at, locked_until, expires_at)
				VALUES (?, ?, ?, ?, ?) ON CONFLICT (login_key) DO NOTHING`,
				nr.Key, nr.FailedAttempts, nr.LastFailedAt, nr.LockedUntil, nr.Expires)
			if res.Error != nil {
				return store.LoginFailures{}, wrap(op, res.Error)
			}
			if res.RowsAffected == 1 {
				return next, nil
			}
			continue
		}
		res := db.Exec(`UPDATE login_failures SET failed_attempts = ?, last_failed_at = ?, locked_until = ?, expires_at = ?
			WHERE login_key = ? AND failed_attempts = ? AND last_failed_at = ? AND locked_until = ? AND expires_at = ?`,
			nr.FailedAttempts, nr.LastFailedAt, nr.LockedUntil, nr.Expires,
			key, cur.FailedAttempts, cur.LastFailedAt, cur.LockedUntil, cur.Expires)
		if res.Error != nil {
			return store.LoginFailures{}, wrap(op, res.Error)
		}
		if res.RowsAffected == 1 {
			return next, nil
		}
	}
	return store.LoginFailures{}, fmt.Errorf("gormstore: %s: %w: changed concurrently", op, store.ErrConflict)
}

func (s *Store) DeleteExpiredLoginFailures(ctx context.Context, before time.Time) (int64, error) {
	res := s.write(ctx).Exec(`DELETE FROM login_failures WHERE expires_at < ?`, micros(before))
	if res.Error != nil {
		return 0, wrap("delete expired login failures", res.Error)
	}
	return res.RowsAffected, nil
}

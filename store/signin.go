package store

import (
	"context"
	"time"
)

// SignInState is the bookkeeping of failed sign-ins of one login ID. It is
// kept apart from the versioned administrative record: counting a failure
// changes nothing an administrator's pending request changes, so it must not
// make that request stale (issue 10, finding 2).
type SignInState struct {
	FailedAttempts int       // failures in the current run
	LastFailedAt   time.Time // the run's latest failure
	LockedUntil    time.Time // zero: not locked by failures
}

// Locked reports whether failures lock the login ID at now.
func (s SignInState) Locked(now time.Time) bool {
	return !s.LockedUntil.IsZero() && now.Before(s.LockedUntil)
}

// Lockout is the sign-in page's rule against guessing: MaxFailures failures
// in a run lock the login ID for Duration. A run ends with a lock that has
// run out, or when no failure came for Window (≤ 0: never), so that the
// state of any login ID — a user's or one nobody holds — can be forgotten
// after Forget.
type Lockout struct {
	MaxFailures int
	Duration    time.Duration
	Window      time.Duration
}

// Fail is s after a failed attempt at now.
func (l Lockout) Fail(s SignInState, now time.Time) SignInState {
	if s.Locked(now) {
		return s // locked meanwhile by a concurrent failure
	}
	if !s.LockedUntil.IsZero() || (l.Window > 0 && !s.LastFailedAt.IsZero() && !now.Before(s.LastFailedAt.Add(l.Window))) {
		s = SignInState{}
	}
	s.FailedAttempts++
	s.LastFailedAt = now
	if s.FailedAttempts >= l.MaxFailures {
		s.LockedUntil = now.Add(l.Duration)
	}
	return s
}

// Forget is when s stops mattering: its lock has run out and its run has
// ended. Zero for a state that counts nothing.
func (l Lockout) Forget(s SignInState) time.Time {
	if s.FailedAttempts == 0 && s.LockedUntil.IsZero() {
		return time.Time{}
	}
	t := s.LastFailedAt.Add(max(l.Window, 0))
	if s.LockedUntil.After(t) {
		t = s.LockedUntil
	}
	return t
}

// SignIn is the user's sign-in bookkeeping.
func (u User) SignIn() SignInState {
	return SignInState{FailedAttempts: u.FailedAttempts, LastFailedAt: u.LastFailedAt, LockedUntil: u.LockedUntil}
}

// WithSignIn is u with s as its sign-in bookkeeping.
func (u User) WithSignIn(s SignInState) User {
	u.FailedAttempts, u.LastFailedAt, u.LockedUntil = s.FailedAttempts, s.LastFailedAt, s.LockedUntil
	return u
}

// LoginFailures is the sign-in bookkeeping of a login ID that no user can
// sign in with, so that it locks like a user's (issue 10, finding 7).
type LoginFailures struct {
	Key string // a digest of the normalized login ID, never the ID itself
	SignInState
	ExpiresAt time.Time // swept after this
}

// SignInStore keeps the sign-in page's bookkeeping. Nothing here changes a
// record's Version or UpdatedAt.
type SignInStore interface {
	// UpdateUserSignIn applies fn to the user's SignInState atomically and
	// returns the user; no other field changes. ErrNotFound for an unknown
	// user.
	UpdateUserSignIn(ctx context.Context, userID string, fn func(SignInState) SignInState) (User, error)
	// GetLoginFailures is the state kept under key; none is the zero state
	// (with Key set), not an error.
	GetLoginFailures(ctx context.Context, key string) (LoginFailures, error)
	// UpdateLoginFailures applies fn to the state under key (the zero state
	// when none) atomically and keeps the result; Key cannot change.
	UpdateLoginFailures(ctx context.Context, key string, fn func(LoginFailures) LoginFailures) (LoginFailures, error)
	// DeleteExpiredLoginFailures removes the states that expired before t
	// and returns how many.
	DeleteExpiredLoginFailures(ctx context.Context, before time.Time) (int64, error)
}

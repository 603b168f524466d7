package storetest

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/store"
)

// testSignInBookkeeping: the sign-in counters are written outside the
// user's version (a failure must not make an administrator's pending
// request stale), every concurrent failure counts, and an administrative
// update neither loses a failure counted meanwhile nor is refused for it.
func testSignInBookkeeping(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := newOrg(t, s)
	u := newUser(t, s, o.group.ID, "counted", false)
	l := store.Lockout{MaxFailures: 5, Duration: 15 * time.Minute, Window: 24 * time.Hour}
	fail := func(st store.SignInState) store.SignInState { return l.Fail(st, t0) }

	got := must(s.UpdateUserSignIn(ctx, u.ID, fail))(t)
	if got.FailedAttempts != 1 || !got.LastFailedAt.Equal(t0) || !got.LockedUntil.IsZero() || got.Version != u.Version {
		t.Errorf("UpdateUserSignIn = %+v", got)
	}
	stored := must(s.GetUser(ctx, u.ID))(t)
	if stored.SignIn() != got.SignIn() || stored.Version != u.Version || !stored.UpdatedAt.Equal(u.UpdatedAt) {
		t.Errorf("stored after UpdateUserSignIn = %+v, want the counters only", stored)
	}
	_, err := s.UpdateUserSignIn(ctx, "usr_missing", fail)
	mustBe(t, err, store.ErrNotFound, "UpdateUserSignIn(missing)")

	// Concurrent failures all count (fewer than the store's retries).
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			_, err := s.UpdateUserSignIn(ctx, u.ID, func(st store.SignInState) store.SignInState {
				st.FailedAttempts++
				return st
			})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		noErr(t, err, "concurrent UpdateUserSignIn")
	}
	if got := must(s.GetUser(ctx, u.ID))(t); got.FailedAttempts != 5 || got.Version != u.Version {
		t.Errorf("after concurrent failures: attempts %d, version %d", got.FailedAttempts, got.Version)
	}

	// A failure counted while an administrator's update decides: the update
	// is not refused and the failure is not lost.
	upd := must(s.UpdateUser(ctx, u.ID, func(cur store.User) (store.User, error) {
		must(s.UpdateUserSignIn(ctx, u.ID, func(st store.SignInState) store.SignInState {
			st.FailedAttempts++
			return st
		}))(t)
		cur.Status = store.UserLocked
		return cur, nil
	}))(t)
	if upd.Status != store.UserLocked || upd.FailedAttempts != 6 || upd.Version != u.Version+1 {
		t.Errorf("UpdateUser racing a failure = %+v", upd)
	}
	// An update that changes the counters writes them.
	upd = must(s.UpdateUser(ctx, u.ID, func(cur store.User) (store.User, error) {
		cur.Status, cur.FailedAttempts, cur.LockedUntil = store.UserActive, 0, time.Time{}
		return cur, nil
	}))(t)
	if upd.FailedAttempts != 0 || must(s.GetUser(ctx, u.ID))(t).FailedAttempts != 0 {
		t.Errorf("UpdateUser resetting the counters = %+v", upd)
	}
}

// testLoginFailures: the failures of a login ID nobody holds, by key.
func testLoginFailures(t *testing.T, s store.Store) {
	ctx := t.Context()
	l := store.Lockout{MaxFailures: 3, Duration: 15 * time.Minute, Window: time.Hour}
	key := "sha256:" + strings.Repeat("ab", 32)
	fail := func(at time.Time) func(store.LoginFailures) store.LoginFailures {
		return func(f store.LoginFailures) store.LoginFailures {
			f.SignInState = l.Fail(f.SignInState, at)
			f.ExpiresAt = l.Forget(f.SignInState)
			return f
		}
	}
	diff(t, "GetLoginFailures(none)", store.LoginFailures{Key: key}, must(s.GetLoginFailures(ctx, key))(t))
	for i := range 3 {
		must(s.UpdateLoginFailures(ctx, key, fail(t0.Add(time.Duration(i)*time.Minute))))(t)
	}
	want := store.LoginFailures{Key: key, ExpiresAt: t0.Add(2*time.Minute + time.Hour), SignInState: store.SignInState{
		FailedAttempts: 3, LastFailedAt: t0.Add(2 * time.Minute), LockedUntil: t0.Add(17 * time.Minute)}}
	diff(t, "after three failures", want, must(s.GetLoginFailures(ctx, key))(t))
	_, err := s.UpdateLoginFailures(ctx, key, func(f store.LoginFailures) store.LoginFailures {
		f.Key = "other"
		return f
	})
	mustBe(t, err, store.ErrInvalid, "UpdateLoginFailures(change key)")

	// Concurrent first failures of a new key all count.
	fresh := "sha256:" + strings.Repeat("cd", 32)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			_, err := s.UpdateLoginFailures(ctx, fresh, func(f store.LoginFailures) store.LoginFailures {
				f.FailedAttempts++
				f.ExpiresAt = t0.Add(time.Hour)
				return f
			})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		noErr(t, err, "concurrent UpdateLoginFailures")
	}
	if got := must(s.GetLoginFailures(ctx, fresh))(t); got.FailedAttempts != 4 {
		t.Errorf("after concurrent failures: %+v", got)
	}

	// Swept once expired.
	if n := must(s.DeleteExpiredLoginFailures(ctx, t0.Add(time.Hour)))(t); n != 0 {
		t.Errorf("swept %d before expiry", n)
	}
	if n := must(s.DeleteExpiredLoginFailures(ctx, t0.Add(2*time.Hour)))(t); n != 2 {
		t.Errorf("swept %d after expiry, want 2", n)
	}
	diff(t, "GetLoginFailures(swept)", store.LoginFailures{Key: key}, must(s.GetLoginFailures(ctx, key))(t))
}

// testLoginIDReuse: a deleted user's login ID may be given to a new user
// (the article's "delete the user and create it again"); the deleted record
// keeps everything of its own and cannot come back while the ID is held.
func testLoginIDReuse(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := newOrg(t, s)
	old := newUser(t, s, o.group.ID, "Reuse.Me", true)
	old = must(s.UpdateUser(ctx, old.ID, func(u store.User) (store.User, error) {
		u.Status, u.DeletedAt = store.UserDeleted, t0
		return u, nil
	}))(t)
	_, err := s.GetUserByLogin(ctx, "reuse.me")
	mustBe(t, err, store.ErrNotFound, "GetUserByLogin(deleted user's login)")

	other := newOrg(t, s)
	nu := must(s.CreateUser(ctx, store.User{BusinessGroupID: other.group.ID, LoginID: "REUSE.me", DisplayName: "New",
		Status: store.UserAwaitingSignIn}))(t)
	if nu.ID == old.ID {
		t.Fatal("the new user has the deleted user's ID")
	}
	diff(t, "GetUserByLogin(reused)", nu, must(s.GetUserByLogin(ctx, "reuse.me"))(t))
	diff(t, "the deleted user is untouched", old, must(s.GetUser(ctx, old.ID))(t))

	_, err = s.CreateUser(ctx, store.User{BusinessGroupID: o.group.ID, LoginID: "reuse.ME", Status: store.UserActive})
	mustBe(t, err, store.ErrConflict, "CreateUser(login held by a live user again)")
	_, err = s.UpdateUser(ctx, old.ID, func(u store.User) (store.User, error) {
		u.Status, u.DeletedAt = store.UserActive, time.Time{}
		return u, nil
	})
	mustBe(t, err, store.ErrConflict, "UpdateUser(revive a deleted user whose login ID is held)")
}

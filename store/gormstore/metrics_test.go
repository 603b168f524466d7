package gormstore_test

import (
	"encoding/json"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/store/gormstore/gormtest"
)

// TestInstrumentTimesStatements: once instrumented, every statement —
// gorm's processors, raw SQL and PostgreSQL's pgx read path — reaches the
// observer by its verb, failures marked, and a missing row is no failure.
func TestInstrumentTimesStatements(t *testing.T) {
	st := gormtest.OpenStore(t, "metrics")
	ctx := t.Context()
	var mu sync.Mutex
	seen := map[string]int{}
	failures := 0
	if err := st.Instrument(func(op string, d time.Duration, failed bool) {
		mu.Lock()
		defer mu.Unlock()
		seen[op]++
		if failed {
			failures++
		}
		if d < 0 {
			t.Errorf("negative duration for %s", op)
		}
	}); err != nil {
		t.Fatal(err)
	}
	bg, err := st.CreateBusinessGroup(ctx, store.BusinessGroup{ID: "bg_m", Name: "M"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.GetBusinessGroup(ctx, bg.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := st.GetBusinessGroup(ctx, "bg_none"); err == nil {
		t.Fatal("found a business group nobody created")
	}
	if err := st.DeleteUserBrowserSessions(ctx, "usr_none"); err != nil { // raw Exec
		t.Fatal(err)
	}
	mu.Lock()
	selects := seen["select"]
	mu.Unlock()
	_, _ = st.GrantRecords(ctx, "cns_none", "usr_none") // query(): pgx on PostgreSQL, found or not
	mu.Lock()
	if seen["select"] == selects {
		t.Errorf("GrantRecords' read was not observed: %v", seen)
	}
	if failures != 0 {
		t.Errorf("%d failed statements observed, want none (a missing row is an answer): %v", failures, seen)
	}
	mu.Unlock()
	// A database gone: the statement fails.
	st.Close()
	if _, err := st.GetBusinessGroup(ctx, bg.ID); err == nil {
		t.Fatal("read a closed database")
	}
	mu.Lock()
	defer mu.Unlock()
	for _, op := range []string{"select", "insert", "delete"} {
		if seen[op] == 0 {
			t.Errorf("no %s statement observed: %v", op, seen)
		}
	}
	if failures != 1 {
		t.Errorf("%d failed statements observed, want 1 (the read of a closed database): %v", failures, seen)
	}
	for op := range seen {
		if !slices.Contains([]string{"select", "insert", "update", "delete", "other"}, op) {
			t.Errorf("operation %q is not a known verb", op)
		}
	}
}

// TestOperationalState counts sessions that have not expired, login IDs
// locked now (a user's and one nobody holds; not a lock that ran out) and
// requests pending a decision, on either database.
func TestOperationalState(t *testing.T) {
	st := gormtest.OpenStore(t, "metrics")
	ctx := t.Context()
	now := time.Now()
	bg, err := st.CreateBusinessGroup(ctx, store.BusinessGroup{ID: "bg_s", Name: "S"})
	if err != nil {
		t.Fatal(err)
	}
	var users []string
	for _, login := range []string{"ann", "bob", "cat"} {
		u, err := st.CreateUser(ctx, store.User{ID: store.NewID("usr"), BusinessGroupID: bg.ID, LoginID: login, DisplayName: login, Status: store.UserActive})
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, u.ID)
	}
	for i, exp := range []time.Time{now.Add(time.Hour), now.Add(time.Hour), now.Add(-time.Minute)} {
		if err := st.CreateBrowserSession(ctx, store.BrowserSession{ID: store.NewID("bs"), UserID: users[i], AuthTime: now, ExpiresAt: exp}); err != nil {
			t.Fatal(err)
		}
	}
	lock := func(until time.Time) func(store.SignInState) store.SignInState {
		return func(s store.SignInState) store.SignInState {
			return store.SignInState{FailedAttempts: 5, LastFailedAt: now, LockedUntil: until}
		}
	}
	if _, err := st.UpdateUserSignIn(ctx, users[0], lock(now.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	if _, err := st.UpdateUserSignIn(ctx, users[1], lock(now.Add(-time.Hour))); err != nil {
		t.Fatal(err)
	}
	if _, err := st.UpdateLoginFailures(ctx, "key-nobody", func(f store.LoginFailures) store.LoginFailures {
		f.SignInState = lock(now.Add(time.Hour))(f.SignInState)
		f.ExpiresAt = now.Add(24 * time.Hour)
		return f
	}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		a, err := st.CreateApproval(ctx, store.ApprovalRequest{ID: store.NewID("apr"), BusinessGroupID: bg.ID, Kind: store.KindLockUser,
			Permission: store.PermManageUsers, TargetID: users[2], Payload: json.RawMessage(`{}`), InitiatorID: users[0], Status: store.ApprovalPending})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			if _, err := st.DecideApproval(ctx, a.ID, store.ApprovalApproved, users[1], "", now); err != nil {
				t.Fatal(err)
			}
		}
	}

	sessions, locked, pending, err := st.OperationalState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sessions != 2 || locked != 2 || pending != 2 {
		t.Errorf("OperationalState = %d sessions, %d locked, %d pending; want 2, 2, 2", sessions, locked, pending)
	}
}

package gormstore_test

import (
	"errors"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/store/gormstore"
	"github.com/bankfeed/bankfeed/store/gormstore/gormtest"
)

// TestSessionAccess: a browser session is read with its user and the user's
// own assignment, job role and account group in one statement; a session
// that expired or never existed is ErrNotFound; a user without an
// assignment comes without one (the pages then share nothing). UserAccess
// reads the same records for a user.
func TestSessionAccess(t *testing.T) {
	st := gormtest.OpenStore(t, "session_access")
	ctx := t.Context()
	statements := 0
	if err := st.Instrument(func(string, time.Duration, bool) { statements++ }); err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	bg, err := st.CreateBusinessGroup(ctx, store.BusinessGroup{ID: store.NewID("bg"), Name: "Maple Foods"})
	must(err)
	role, err := st.CreateJobRole(ctx, store.JobRole{ID: store.NewID("role"), BusinessGroupID: bg.ID, Name: "Bookkeeping",
		Grants: store.Grants{{Permission: store.PermAccountSummary, Rights: store.Rights(store.RightView)}}})
	must(err)
	newUser := func(login string) store.User {
		u, err := st.CreateUser(ctx, store.User{ID: store.NewID("usr"), BusinessGroupID: bg.ID, LoginID: login,
			DisplayName: "Avery Clerk", Status: store.UserActive})
		must(err)
		return u
	}
	u, alone := newUser("avery"), newUser("blair")
	ag, err := st.CreateAccountGroup(ctx, store.AccountGroup{ID: store.NewID("ag"), BusinessGroupID: bg.ID, Name: "All"})
	must(err)
	asg, err := st.PutAssignment(ctx, store.Assignment{ID: store.NewID("asg"), BusinessGroupID: bg.ID, UserID: u.ID,
		JobRoleID: role.ID, AccountGroupID: ag.ID})
	must(err)
	now := time.Now()
	session := func(id string, u store.User, expires time.Time) {
		must(st.CreateBrowserSession(ctx, store.BrowserSession{ID: id, UserID: u.ID, AuthTime: now, CSRFToken: "csrf-" + id,
			ExpiresAt: expires, CreatedAt: now}))
	}
	session("sess-live", u, now.Add(time.Hour))
	session("sess-alone", alone, now.Add(time.Hour))
	session("sess-expired", u, now.Add(-time.Minute))

	statements = 0
	s, a, err := st.SessionAccess(ctx, "sess-live")
	must(err)
	if statements != 1 {
		t.Errorf("%d statements, want 1", statements)
	}
	if s.ID != "sess-live" || s.UserID != u.ID || s.CSRFToken != "csrf-sess-live" || !s.ExpiresAt.After(now) {
		t.Errorf("session %+v", s)
	}
	if a.User.ID != u.ID || a.User.LoginID != "avery" || a.Assignment.ID != asg.ID || a.Role.ID != role.ID ||
		len(a.Role.Grants) != 1 || a.Group.ID != ag.ID || a.Consent.ID != "" {
		t.Errorf("access %+v", a)
	}

	s, a, err = st.SessionAccess(ctx, "sess-alone")
	must(err)
	if s.UserID != alone.ID || a.User.ID != alone.ID || a.Assignment.ID != "" || a.Role.ID != "" || a.Group.ID != "" {
		t.Errorf("user without an assignment: session %+v, access %+v", s, a)
	}
	for _, id := range []string{"sess-expired", "sess-unknown"} {
		if _, _, err := st.SessionAccess(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: %v, want ErrNotFound", id, err)
		}
	}

	// UserAccess: the same records without a session.
	statements = 0
	a, err = st.UserAccess(ctx, u.ID)
	must(err)
	if statements != 1 {
		t.Errorf("UserAccess: %d statements, want 1", statements)
	}
	if a.User.ID != u.ID || a.Assignment.ID != asg.ID || a.Role.ID != role.ID || a.Group.ID != ag.ID {
		t.Errorf("UserAccess: %+v", a)
	}
	if a, err = st.UserAccess(ctx, alone.ID); err != nil || a.User.ID != alone.ID || a.Assignment.ID != "" || a.Role.ID != "" {
		t.Errorf("UserAccess without an assignment: %+v, %v", a, err)
	}
	if _, err := st.UserAccess(ctx, "usr_unknown"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UserAccess of an unknown user: %v, want ErrNotFound", err)
	}
}

var _ store.AccessStore = (*gormstore.Store)(nil)

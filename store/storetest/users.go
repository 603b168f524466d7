package storetest

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/store"
)

func newUser(t *testing.T, s store.Store, groupID, login string, software bool) store.User {
	t.Helper()
	return must(s.CreateUser(t.Context(), store.User{
		BusinessGroupID: groupID, LoginID: login, DisplayName: "User " + login, Email: login + "@example.com",
		AccountingSoftware: software, Status: store.UserActive, PasswordHash: "$argon2id$fake", MustChangePassword: true,
	}))(t)
}

func testUsers(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := newOrg(t, s)
	u := newUser(t, s, o.group.ID, "Alice.Admin", false)
	if u.ID == "" || u.Version != 1 || u.CreatedAt.IsZero() {
		t.Errorf("created user = %+v", u)
	}
	diff(t, "GetUser", u, must(s.GetUser(ctx, u.ID))(t))
	diff(t, "GetUserByLogin (case-insensitive)", u, must(s.GetUserByLogin(ctx, "alice.ADMIN"))(t))
	_, err := s.GetUserByLogin(ctx, "nobody")
	mustBe(t, err, store.ErrNotFound, "GetUserByLogin(missing)")
	_, err = s.GetUser(ctx, "usr_missing")
	mustBe(t, err, store.ErrNotFound, "GetUser(missing)")
	_, err = s.CreateUser(ctx, store.User{BusinessGroupID: o.group.ID, LoginID: "ALICE.admin", Status: store.UserActive})
	mustBe(t, err, store.ErrConflict, "CreateUser(login differing only in case)")
	other := newOrg(t, s)
	_, err = s.CreateUser(ctx, store.User{BusinessGroupID: other.group.ID, LoginID: "alice.admin", Status: store.UserActive})
	mustBe(t, err, store.ErrConflict, "CreateUser(login taken in another group: unique bank-wide)")
	_, err = s.CreateUser(ctx, store.User{BusinessGroupID: "bg_missing", LoginID: "zed", Status: store.UserActive})
	mustBe(t, err, store.ErrNotFound, "CreateUser(unknown group)")

	locked := t0.Add(15 * time.Minute)
	upd := must(s.UpdateUser(ctx, u.ID, func(u store.User) (store.User, error) {
		u.FailedAttempts, u.LockedUntil, u.Status = 5, locked, store.UserLocked
		return u, nil
	}))(t)
	if upd.Version != 2 || upd.FailedAttempts != 5 || !upd.LockedUntil.Equal(locked) || upd.Status != store.UserLocked {
		t.Errorf("UpdateUser = %+v", upd)
	}
	diff(t, "Get after update", upd, must(s.GetUser(ctx, u.ID))(t))

	soft := newUser(t, s, o.group.ID, "books", true)
	_, err = s.UpdateUser(ctx, soft.ID, func(u store.User) (store.User, error) {
		u.AccountingSoftware = false
		return u, nil
	})
	mustBe(t, err, store.ErrInvalid, "UpdateUser(clear AccountingSoftware)")
	_, err = s.UpdateUser(ctx, u.ID, func(u store.User) (store.User, error) {
		u.AccountingSoftware = true
		return u, nil
	})
	mustBe(t, err, store.ErrInvalid, "UpdateUser(set AccountingSoftware)")
	_, err = s.UpdateUser(ctx, u.ID, func(u store.User) (store.User, error) {
		u.BusinessGroupID = other.group.ID
		return u, nil
	})
	mustBe(t, err, store.ErrInvalid, "UpdateUser(move group)")
	_, err = s.UpdateUser(ctx, u.ID, func(u store.User) (store.User, error) {
		u.ID = "usr_other"
		return u, nil
	})
	mustBe(t, err, store.ErrInvalid, "UpdateUser(change ID)")
	if got := must(s.GetUser(ctx, soft.ID))(t); !got.AccountingSoftware || got.Version != 1 {
		t.Errorf("refused update changed the user: %+v", got)
	}
	_, err = s.UpdateUser(ctx, soft.ID, func(u store.User) (store.User, error) {
		u.LoginID = "ALICE.ADMIN"
		return u, nil
	})
	mustBe(t, err, store.ErrConflict, "UpdateUser(login taken)")
	_, err = s.UpdateUser(ctx, "usr_missing", func(u store.User) (store.User, error) { return u, nil })
	mustBe(t, err, store.ErrNotFound, "UpdateUser(missing)")

	t.Run("SignInBookkeeping", func(t *testing.T) { testSignInBookkeeping(t, s) })
	t.Run("LoginFailures", func(t *testing.T) { testLoginFailures(t, s) })
	t.Run("LoginIDReuse", func(t *testing.T) { testLoginIDReuse(t, s) })
}

func testUserPaging(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := newOrg(t, s)
	var software, deleted int
	for i := range 17 {
		u := newUser(t, s, o.group.ID, fmt.Sprintf("user%02d", i), i%4 == 0)
		if i%4 == 0 {
			software++
		}
		if i%5 == 0 {
			must(s.UpdateUser(ctx, u.ID, func(u store.User) (store.User, error) {
				u.Status, u.DeletedAt = store.UserDeleted, t0
				return u, nil
			}))(t)
			deleted++
		}
	}
	newUser(t, s, newOrg(t, s).group.ID, "elsewhere", false)
	walkUsers := func(f store.UserFilter) []store.User {
		var out []store.User
		after := ""
		for range 50 {
			page, next := must2(s.ListUsers(ctx, f, store.Page{After: after, Limit: 3}))(t)
			out = append(out, page...)
			if next == "" {
				return out
			}
			after = next
		}
		t.Fatal("paging does not end")
		return nil
	}
	all := walkUsers(store.UserFilter{BusinessGroupID: o.group.ID, IncludeDeleted: true})
	if len(all) != 17 {
		t.Fatalf("walked %d users, want 17", len(all))
	}
	for i := 1; i < len(all); i++ {
		if all[i-1].ID >= all[i].ID {
			t.Fatalf("users not in ID order")
		}
	}
	if n := len(walkUsers(store.UserFilter{BusinessGroupID: o.group.ID})); n != 17-deleted {
		t.Errorf("without deleted: %d, want %d", n, 17-deleted)
	}
	yes := true
	for _, u := range walkUsers(store.UserFilter{BusinessGroupID: o.group.ID, AccountingSoftware: &yes, IncludeDeleted: true}) {
		if !u.AccountingSoftware {
			t.Errorf("ordinary user %s in the accounting software list", u.LoginID)
		}
		software--
	}
	if software != 0 {
		t.Errorf("accounting software users missing from the list: %d", software)
	}
	st := store.UserDeleted
	if n := len(walkUsers(store.UserFilter{BusinessGroupID: o.group.ID, Status: &st, IncludeDeleted: true})); n != deleted {
		t.Errorf("status filter: %d deleted, want %d", n, deleted)
	}
}

// testUserCompareAndSwap: an update based on a version that moved on
// meanwhile is refused with ErrConflict.
func testUserCompareAndSwap(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := newOrg(t, s)
	u := newUser(t, s, o.group.ID, "cas", false)
	_, err := s.UpdateUser(ctx, u.ID, func(cur store.User) (store.User, error) {
		// Someone else updates the user while we decide.
		must(s.UpdateUser(ctx, u.ID, func(x store.User) (store.User, error) {
			x.DisplayName = "Theirs"
			return x, nil
		}))(t)
		cur.DisplayName = "Ours"
		return cur, nil
	})
	mustBe(t, err, store.ErrConflict, "UpdateUser on a stale version")
	got := must(s.GetUser(ctx, u.ID))(t)
	if got.DisplayName != "Theirs" || got.Version != 2 {
		t.Errorf("after the lost race: %q v%d", got.DisplayName, got.Version)
	}
}

func testRolesAndGroups(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := newOrg(t, s)
	other := newOrg(t, s)
	r := must(s.CreateJobRole(ctx, store.JobRole{BusinessGroupID: o.group.ID, Name: "Accounting software — read only",
		Description: "View only", Grants: store.AccountingSoftwareReadOnlyGrants()}))(t)
	if r.Version != 1 {
		t.Errorf("new role version %d", r.Version)
	}
	diff(t, "GetJobRole", r, must(s.GetJobRole(ctx, r.ID))(t))
	_, err := s.CreateJobRole(ctx, store.JobRole{BusinessGroupID: o.group.ID, Name: r.Name})
	mustBe(t, err, store.ErrConflict, "CreateJobRole(name taken in the group)")
	must(s.CreateJobRole(ctx, store.JobRole{BusinessGroupID: other.group.ID, Name: r.Name}))(t)
	admin := must(s.CreateJobRole(ctx, store.JobRole{BusinessGroupID: o.group.ID, Name: "Admin", Grants: store.AdminGrants()}))(t)
	diff(t, "admin grants round trip", store.AdminGrants(), must(s.GetJobRole(ctx, admin.ID))(t).Grants)

	upd := must(s.UpdateJobRole(ctx, r.ID, func(j store.JobRole) (store.JobRole, error) {
		j.Grants = append(j.Grants, store.PermissionGrant{Permission: store.PermManageUsers, Rights: store.Rights(store.RightView), SelfApproved: store.Rights(store.RightView)})
		return j, nil
	}))(t)
	if upd.Version != 2 || len(upd.Grants) != 3 || upd.Grants[2].SelfApproved != store.Rights(store.RightView) {
		t.Errorf("UpdateJobRole = %+v", upd)
	}
	_, err = s.UpdateJobRole(ctx, r.ID, func(j store.JobRole) (store.JobRole, error) {
		j.Name = "Admin"
		return j, nil
	})
	mustBe(t, err, store.ErrConflict, "UpdateJobRole(rename onto a taken name)")
	roles, next := must2(s.ListJobRoles(ctx, o.group.ID, store.Page{Limit: 1}))(t)
	if len(roles) != 1 || next == "" {
		t.Fatalf("first page = %d roles, next %q", len(roles), next)
	}
	rest, next2 := must2(s.ListJobRoles(ctx, o.group.ID, store.Page{After: next, Limit: 5}))(t)
	if len(rest) != 1 || next2 != "" || rest[0].ID <= roles[0].ID {
		t.Errorf("second page = %+v, next %q", rest, next2)
	}

	g := must(s.CreateAccountGroup(ctx, store.AccountGroup{BusinessGroupID: o.group.ID, Name: "Books",
		AccountIDs: []string{o.accounts[1].ID, o.accounts[0].ID}}))(t)
	if len(g.AccountIDs) != 2 || g.AccountIDs[0] > g.AccountIDs[1] {
		t.Errorf("AccountIDs not sorted: %v", g.AccountIDs)
	}
	diff(t, "GetAccountGroup", g, must(s.GetAccountGroup(ctx, g.ID))(t))
	_, err = s.CreateAccountGroup(ctx, store.AccountGroup{BusinessGroupID: o.group.ID, Name: "Books"})
	mustBe(t, err, store.ErrConflict, "CreateAccountGroup(name taken)")
	g2 := must(s.UpdateAccountGroup(ctx, g.ID, func(x store.AccountGroup) (store.AccountGroup, error) {
		x.AccountIDs = x.AccountIDs[:1]
		return x, nil
	}))(t)
	if len(g2.AccountIDs) != 1 || g2.Version != 2 {
		t.Errorf("UpdateAccountGroup = %+v", g2)
	}
	groups, _ := must2(s.ListAccountGroups(ctx, o.group.ID, store.Page{}))(t)
	diff(t, "ListAccountGroups", []store.AccountGroup{g2}, groups)

	noErr(t, s.DeleteJobRole(ctx, admin.ID), "DeleteJobRole(unassigned)")
	mustBe(t, s.DeleteJobRole(ctx, admin.ID), store.ErrNotFound, "DeleteJobRole twice")
	_, err = s.GetJobRole(ctx, admin.ID)
	mustBe(t, err, store.ErrNotFound, "GetJobRole(deleted)")
	noErr(t, s.DeleteAccountGroup(ctx, g.ID), "DeleteAccountGroup(unassigned)")
	mustBe(t, s.DeleteAccountGroup(ctx, g.ID), store.ErrNotFound, "DeleteAccountGroup twice")
}

func testAssignments(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := newOrg(t, s)
	u := newUser(t, s, o.group.ID, "assignee", true)
	r1 := must(s.CreateJobRole(ctx, store.JobRole{BusinessGroupID: o.group.ID, Name: "R1", Grants: store.AccountingSoftwareReadOnlyGrants()}))(t)
	r2 := must(s.CreateJobRole(ctx, store.JobRole{BusinessGroupID: o.group.ID, Name: "R2", Grants: store.AccountingSoftwareReadOnlyGrants()}))(t)
	g := must(s.CreateAccountGroup(ctx, store.AccountGroup{BusinessGroupID: o.group.ID, Name: "G", AccountIDs: []string{o.accounts[0].ID}}))(t)

	_, err := s.UserAssignment(ctx, u.ID, "")
	mustBe(t, err, store.ErrNotFound, "UserAssignment(none)")
	a := must(s.PutAssignment(ctx, store.Assignment{BusinessGroupID: o.group.ID, UserID: u.ID, JobRoleID: r1.ID, AccountGroupID: g.ID}))(t)
	if a.ID == "" || a.Version != 1 {
		t.Errorf("PutAssignment = %+v", a)
	}
	diff(t, "UserAssignment", a, must(s.UserAssignment(ctx, u.ID, ""))(t))
	diff(t, "GetAssignment", a, must(s.GetAssignment(ctx, a.ID))(t))
	// Replacing in the same context keeps one assignment.
	b := must(s.PutAssignment(ctx, store.Assignment{BusinessGroupID: o.group.ID, UserID: u.ID, JobRoleID: r2.ID, AccountGroupID: g.ID}))(t)
	if b.ID != a.ID || b.JobRoleID != r2.ID || b.Version != 2 {
		t.Errorf("replaced assignment = %+v (first %s)", b, a.ID)
	}
	c := must(s.PutAssignment(ctx, store.Assignment{BusinessGroupID: o.group.ID, LegalEntityID: o.entity.ID, UserID: u.ID, JobRoleID: r1.ID, AccountGroupID: g.ID}))(t)
	if c.ID == a.ID {
		t.Error("an entity-context assignment replaced the overview one")
	}
	list, _ := must2(s.ListAssignments(ctx, o.group.ID, store.Page{}))(t)
	if len(list) != 2 {
		t.Errorf("ListAssignments = %d, want 2", len(list))
	}
	_, err = s.PutAssignment(ctx, store.Assignment{BusinessGroupID: o.group.ID, UserID: u.ID, LegalEntityID: "le_x", JobRoleID: "role_missing", AccountGroupID: g.ID})
	mustBe(t, err, store.ErrNotFound, "PutAssignment(unknown role)")

	mustBe(t, s.DeleteJobRole(ctx, r2.ID), store.ErrConflict, "DeleteJobRole(assigned)")
	mustBe(t, s.DeleteAccountGroup(ctx, g.ID), store.ErrConflict, "DeleteAccountGroup(assigned)")
	noErr(t, s.DeleteAssignment(ctx, a.ID), "DeleteAssignment")
	mustBe(t, s.DeleteAssignment(ctx, a.ID), store.ErrNotFound, "DeleteAssignment twice")
	noErr(t, s.DeleteJobRole(ctx, r2.ID), "DeleteJobRole(no longer assigned)")
	mustBe(t, s.DeleteAccountGroup(ctx, g.ID), store.ErrConflict, "DeleteAccountGroup(still assigned in the entity)")
}

func newApproval(t *testing.T, s store.Store, groupID, initiator string) store.ApprovalRequest {
	t.Helper()
	perm, right := store.KindEditJobRole.ApprovalPermission()
	return must(s.CreateApproval(t.Context(), store.ApprovalRequest{
		BusinessGroupID: groupID, Kind: store.KindEditJobRole, Permission: perm, Right: right,
		TargetID: "role_x", TargetVersion: 3, Payload: json.RawMessage(`{"name":"Clerk","grants":[]}`),
		InitiatorID: initiator,
	}))(t)
}

func testApprovals(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := newOrg(t, s)
	a := newApproval(t, s, o.group.ID, "usr_maker")
	if a.Status != store.ApprovalPending || a.ID == "" || a.CreatedAt.IsZero() {
		t.Errorf("created approval = %+v", a)
	}
	got := must(s.GetApproval(ctx, a.ID))(t)
	diff(t, "GetApproval", a, got)
	if string(got.Payload) != `{"name":"Clerk","grants":[]}` || got.Right != store.RightEdit {
		t.Errorf("payload/right = %s / %v", got.Payload, got.Right)
	}
	b := newApproval(t, s, o.group.ID, "usr_other")
	newApproval(t, s, newOrg(t, s).group.ID, "usr_maker")
	_, err := s.GetApproval(ctx, "apr_missing")
	mustBe(t, err, store.ErrNotFound, "GetApproval(missing)")

	_, err = s.DecideApproval(ctx, a.ID, store.ApprovalPending, "usr_checker", "", t0)
	mustBe(t, err, store.ErrInvalid, "DecideApproval(to pending)")
	d := must(s.DecideApproval(ctx, a.ID, store.ApprovalRejected, "usr_checker", "not now", t0))(t)
	if d.Status != store.ApprovalRejected || d.DecidedBy != "usr_checker" || d.Reason != "not now" || !d.DecidedAt.Equal(t0) {
		t.Errorf("decided = %+v", d)
	}
	_, err = s.DecideApproval(ctx, a.ID, store.ApprovalApproved, "usr_checker2", "", t0)
	mustBe(t, err, store.ErrConflict, "DecideApproval(already decided)")
	_, err = s.DecideApproval(ctx, "apr_missing", store.ApprovalApproved, "usr_checker", "", t0)
	mustBe(t, err, store.ErrNotFound, "DecideApproval(missing)")

	pend := store.ApprovalPending
	list, _ := must2(s.ListApprovals(ctx, store.ApprovalFilter{BusinessGroupID: o.group.ID, Status: &pend}, store.Page{}))(t)
	diff(t, "pending approvals", []string{b.ID}, approvalIDs(list))
	maker := "usr_maker"
	list, _ = must2(s.ListApprovals(ctx, store.ApprovalFilter{BusinessGroupID: o.group.ID, InitiatorID: &maker}, store.Page{}))(t)
	diff(t, "approvals by initiator", []string{a.ID}, approvalIDs(list))
	list, _ = must2(s.ListApprovals(ctx, store.ApprovalFilter{BusinessGroupID: o.group.ID}, store.Page{}))(t)
	if len(list) != 2 || list[0].ID >= list[1].ID {
		t.Errorf("all approvals of the group = %v", approvalIDs(list))
	}
}

func approvalIDs(rs []store.ApprovalRequest) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

// testApprovalDecidedOnce: of 20 concurrent deciders exactly one wins and
// the others get ErrConflict.
func testApprovalDecidedOnce(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := newOrg(t, s)
	a := newApproval(t, s, o.group.ID, "usr_maker")
	const n = 20
	var wg sync.WaitGroup
	results := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			status := store.ApprovalApproved
			if i%2 == 1 {
				status = store.ApprovalRejected
			}
			_, results[i] = s.DecideApproval(ctx, a.ID, status, fmt.Sprintf("usr_checker%d", i), "", t0)
		})
	}
	close(start)
	wg.Wait()
	winners := 0
	winner := -1
	for i, err := range results {
		switch {
		case err == nil:
			winners++
			winner = i
		case !isConflict(err):
			t.Errorf("decider %d: %v, want nil or ErrConflict", i, err)
		}
	}
	if winners != 1 {
		t.Fatalf("%d deciders won, want exactly 1", winners)
	}
	got := must(s.GetApproval(ctx, a.ID))(t)
	if got.DecidedBy != fmt.Sprintf("usr_checker%d", winner) {
		t.Errorf("stored decision by %s, winner was %d", got.DecidedBy, winner)
	}
}

func testNotifications(t *testing.T, s store.Store) {
	ctx := t.Context()
	var made []store.Notification
	for i := range 5 {
		made = append(made, must(s.CreateNotification(ctx, store.Notification{RecipientID: "usr_r", Kind: "approval.pending",
			Text: fmt.Sprintf("Request %d awaits you", i), RequestID: "apr_1"}))(t))
	}
	must(s.CreateNotification(ctx, store.Notification{RecipientID: "usr_other", Kind: "approval.decided", Text: "x"}))(t)
	all, _ := must2(s.ListNotifications(ctx, "usr_r", false, store.Page{}))(t)
	if len(all) != 5 {
		t.Fatalf("ListNotifications = %d, want 5", len(all))
	}
	noErr(t, s.MarkNotificationRead(ctx, "usr_r", made[2].ID), "MarkNotificationRead")
	noErr(t, s.MarkNotificationRead(ctx, "usr_r", made[2].ID), "MarkNotificationRead twice")
	mustBe(t, s.MarkNotificationRead(ctx, "usr_other", made[3].ID), store.ErrNotFound, "MarkNotificationRead(another recipient's)")
	mustBe(t, s.MarkNotificationRead(ctx, "usr_r", "ntf_missing"), store.ErrNotFound, "MarkNotificationRead(missing)")
	unread, _ := must2(s.ListNotifications(ctx, "usr_r", true, store.Page{}))(t)
	if len(unread) != 4 {
		t.Errorf("unread = %d, want 4", len(unread))
	}
	for _, n := range unread {
		if n.ID == made[2].ID || n.Read {
			t.Errorf("read notification %s listed as unread", n.ID)
		}
	}
	p1, next := must2(s.ListNotifications(ctx, "usr_r", false, store.Page{Limit: 3}))(t)
	p2, next2 := must2(s.ListNotifications(ctx, "usr_r", false, store.Page{After: next, Limit: 3}))(t)
	if len(p1) != 3 || len(p2) != 2 || next2 != "" || p2[0].ID <= p1[2].ID {
		t.Errorf("paging: %d + %d, next %q", len(p1), len(p2), next2)
	}
}

func testAudit(t *testing.T, s store.Store) {
	ctx := t.Context()
	var made []store.AuditEvent
	for i := range 7 {
		g := "bg_a"
		if i%2 == 1 {
			g = "bg_b"
		}
		e := must(s.AppendAudit(ctx, store.AuditEvent{BusinessGroupID: g, ActorID: "usr_1", Action: "job_role.create.submitted",
			TargetType: "job_role", TargetID: fmt.Sprintf("role_%d", i), RequestID: "apr_1", RemoteAddr: "192.0.2.1",
			Before: json.RawMessage(`null`), After: json.RawMessage(`{"n":1}`), At: t0.Add(time.Duration(i) * time.Minute)}))(t)
		if i > 0 && e.Seq <= made[i-1].Seq {
			t.Fatalf("audit Seq not increasing: %d then %d", made[i-1].Seq, e.Seq)
		}
		made = append(made, e)
	}
	var walked []store.AuditEvent
	after := ""
	for range 10 {
		page, next := must2(s.ListAudit(ctx, store.AuditFilter{}, store.Page{After: after, Limit: 3}))(t)
		walked = append(walked, page...)
		if next == "" {
			break
		}
		after = next
	}
	diff(t, "audit walk", made, walked)
	g := "bg_b"
	byGroup, _ := must2(s.ListAudit(ctx, store.AuditFilter{BusinessGroupID: &g}, store.Page{}))(t)
	if len(byGroup) != 3 {
		t.Errorf("bg_b events = %d, want 3", len(byGroup))
	}
	target := "role_4"
	byTarget, _ := must2(s.ListAudit(ctx, store.AuditFilter{TargetID: &target}, store.Page{}))(t)
	diff(t, "by target", []store.AuditEvent{made[4]}, byTarget)
	window, _ := must2(s.ListAudit(ctx, store.AuditFilter{Since: t0.Add(2 * time.Minute), Until: t0.Add(4 * time.Minute)}, store.Page{}))(t)
	diff(t, "time window [2m, 4m)", []store.AuditEvent{made[2], made[3]}, window)
	_, _, err := s.ListAudit(ctx, store.AuditFilter{}, store.Page{After: "not-a-cursor"})
	mustBe(t, err, store.ErrInvalid, "ListAudit(bad cursor)")
}

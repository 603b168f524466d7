package admin_test

import (
	"net/http"
	"testing"

	"github.com/bankfeed/bankfeed/internal/apihttp/apitest"
	"github.com/bankfeed/bankfeed/store"
)

// TestDeleteUserCutsAccess: approving a user's deletion revokes the user's
// standing consents (and so their tokens) in the same transaction; a
// consent revoked earlier keeps its own revocation time.
func TestDeleteUserCutsAccess(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	a := e.newUser(e.bg1, "maker", store.AdminGrants())
	b := e.newUser(e.bg1, "checker", store.AdminGrants())
	app := e.seedSoftwareUser("books-app")
	role := e.seedRole("Books", store.AccountingSoftwareReadOnlyGrants())
	if _, err := e.st.PutAssignment(ctx, store.Assignment{BusinessGroupID: e.bg1, UserID: app.ID, JobRoleID: role.ID, AccountGroupID: e.adminGroup1}); err != nil {
		t.Fatal(err)
	}
	cl, err := e.st.CreateClient(ctx, store.Client{ID: "ledgerly", Name: "Ledgerly"})
	if err != nil {
		t.Fatal(err)
	}
	conns := e.seedConnections(app.ID, cl.ID, store.TokenAccess, "live-sig")

	e.approve(b, e.submit(a, http.MethodDelete, "/admin/v1/users/"+app.ID, nil))
	e.checkCut(conns, "the deletion")
	if u, err := e.st.GetUser(ctx, app.ID); err != nil || u.Status != store.UserDeleted || u.DeletedAt.IsZero() {
		t.Fatalf("user = %+v, %v", u, err)
	}
}

// TestUserActionStatus: each action suits only some statuses; the others
// are refused at submission (nothing pending) with the status named.
func TestUserActionStatus(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	a := e.newUser(e.bg1, "maker", store.AdminGrants())
	b := e.newUser(e.bg1, "checker", store.AdminGrants())
	// A new user awaiting first sign-in, locked, unlocks back to awaiting
	// sign-in, not active.
	fresh, err := e.st.CreateUser(ctx, store.User{BusinessGroupID: e.bg1, LoginID: "fresh", DisplayName: "Fresh",
		Status: store.UserAwaitingSignIn, MustChangePassword: true})
	if err != nil {
		t.Fatal(err)
	}
	e.approve(b, e.submit(a, http.MethodPost, "/admin/v1/users/"+fresh.ID+"/lock", nil))
	e.approve(b, e.submit(a, http.MethodPost, "/admin/v1/users/"+fresh.ID+"/unlock", nil))
	if u, _ := e.st.GetUser(ctx, fresh.ID); u.Status != store.UserAwaitingSignIn || !u.MustChangePassword {
		t.Fatalf("unlocked new user = %s", u.Status)
	}

	locked := e.newUser(e.bg1, "locked", nil)
	e.approve(b, e.submit(a, http.MethodPost, "/admin/v1/users/"+locked.ID+"/lock", nil))
	active := e.newUser(e.bg1, "active", nil)
	gone := e.newUser(e.bg1, "gone", nil)
	e.approve(b, e.submit(a, http.MethodDelete, "/admin/v1/users/"+gone.ID, nil))
	pendingBefore := e.countApprovals()
	for _, c := range []struct {
		user, action, detail string
	}{
		{locked.ID, "lock", "only an active user can be locked (the user is locked)"},
		{gone.ID, "lock", "only an active user can be locked (the user is deleted)"},
		{active.ID, "unlock", "the user is not locked"},
		{gone.ID, "reset-password", "the password of a deleted user cannot be reset"},
	} {
		r := e.call(a.Token, http.MethodPost, "/admin/v1/users/"+c.user+"/"+c.action, nil)
		apitest.ProblemIs(t, r, http.StatusConflict, "conflict", "")
		if r.Str("detail") != c.detail {
			t.Errorf("%s of %s: detail %q, want %q", c.action, c.user, r.Str("detail"), c.detail)
		}
	}
	if n := e.countApprovals(); n != pendingBefore {
		t.Fatalf("refused submissions left %d requests, had %d", n, pendingBefore)
	}
	for id, want := range map[string]store.UserStatus{locked.ID: store.UserLocked, active.ID: store.UserActive, gone.ID: store.UserDeleted} {
		if u, _ := e.st.GetUser(ctx, id); u.Status != want {
			t.Errorf("user %s = %s, want %s", id, u.Status, want)
		}
	}
}

func (e *env) countApprovals() int {
	e.t.Helper()
	rs, _, err := e.st.ListApprovals(e.t.Context(), store.ApprovalFilter{BusinessGroupID: e.bg1}, store.Page{Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	return len(rs)
}

// TestCreateUserWithAssignment: "Add user" names the job role and account
// group with the user (issue 14), so one approval creates the user and
// its assignment together; a role that breaks rule 3 for an accounting
// software user is refused at submission, and a maker without the right to
// assign cannot submit one.
func TestCreateUserWithAssignment(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	a := e.newUser(e.bg1, "maker", store.AdminGrants())
	b := e.newUser(e.bg1, "checker", store.AdminGrants())
	ro := e.seedRole("Books", store.AccountingSoftwareReadOnlyGrants())
	full := e.seedRole("Everything", store.AdminGrants())

	body := map[string]any{"loginId": "qbo-sync", "displayName": "QuickBooks sync", "accountingSoftware": true,
		"jobRoleId": full.ID, "accountGroupId": e.adminGroup1}
	r := e.must(http.StatusUnprocessableEntity, a.Token, http.MethodPost, "/admin/v1/users", body)
	if r.Str("errors.0.field") != "jobRoleId" {
		t.Fatalf("rule 3 refusal = %s", r.Raw)
	}
	body["jobRoleId"] = ro.ID
	body["accountGroupId"] = "agr-of-nobody"
	e.must(http.StatusNotFound, a.Token, http.MethodPost, "/admin/v1/users", body)
	delete(body, "accountGroupId")
	r = e.must(http.StatusUnprocessableEntity, a.Token, http.MethodPost, "/admin/v1/users", body)
	if r.Str("errors.0.field") != "accountGroupId" {
		t.Fatalf("missing group = %s", r.Raw)
	}
	body["accountGroupId"] = e.adminGroup1
	var creator store.Grants
	for _, req := range store.OpCreateUser.Requirements() {
		creator = append(creator, store.PermissionGrant{Permission: req.Permission, Rights: store.Rights(req.Right)})
	}
	c := e.newUser(e.bg1, "creator-only", creator.Normalize())
	if r := e.must(http.StatusForbidden, c.Token, http.MethodPost, "/admin/v1/users", body); r.Get("missing") == nil {
		t.Fatalf("403 without the missing right: %s", r.Raw)
	}

	id := e.must(http.StatusAccepted, a.Token, http.MethodPost, "/admin/v1/users", body).Str("id")
	if _, err := e.st.GetUserByLogin(ctx, "qbo-sync"); err == nil {
		t.Fatal("user exists before approval")
	}
	e.approve(b, id)
	u, err := e.st.GetUserByLogin(ctx, "qbo-sync")
	if err != nil {
		t.Fatal(err)
	}
	as, err := e.st.UserAssignment(ctx, u.ID, "")
	if err != nil || as.JobRoleID != ro.ID || as.AccountGroupID != e.adminGroup1 {
		t.Fatalf("assignment = %+v, %v", as, err)
	}
	audit := e.must(http.StatusOK, a.Token, http.MethodGet, "/admin/v1/audit?action=assignment.create.applied", nil).Items()
	if len(audit) != 1 || audit[0]["requestId"] != id {
		t.Fatalf("assignment not audited with the request: %v", audit)
	}
}

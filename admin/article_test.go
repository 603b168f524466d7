package admin_test

import (
	"errors"
	"net/http"
	"slices"
	"testing"

	"github.com/bankfeed/bankfeed/admin"
	"github.com/bankfeed/bankfeed/store"
)

// TestArticle walks the help article through the HTTP API: administrator A
// makes every request, administrator B approves, and nothing changes until
// B does.
func TestArticle(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	a := e.newUser(e.bg1, "admin-a", store.AdminGrants())
	b := e.newUser(e.bg1, "admin-b", store.AdminGrants())

	// Step 2: the accounting software user, with the box checked.
	r := e.must(http.StatusAccepted, a.Token, http.MethodPost, "/admin/v1/users",
		map[string]any{"loginId": "qbo-sync", "displayName": "QuickBooks sync", "accountingSoftware": true})
	userReq := r.Str("id")
	if r.Str("status") != string(store.ApprovalPending) || r.Str("kind") != string(store.KindCreateUser) {
		t.Fatalf("submission = %s", r.Raw)
	}
	if _, err := e.st.GetUserByLogin(ctx, "qbo-sync"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("user exists before approval: %v", err)
	}
	// Step 5: A is told it is pending; B is asked to approve.
	if !hasNotification(e.notifications(a), "approval.submitted", userReq, admin.TextSubmitted) {
		t.Fatalf("A not notified of the pending request: %v", e.notifications(a))
	}
	if !hasNotification(e.notifications(b), "approval.pending", userReq, "") {
		t.Fatalf("B not asked to approve: %v", e.notifications(b))
	}
	// A cannot approve their own request (no self-approved right), so it is
	// not in A's pending list; it is in B's.
	if ids := ids(e.must(http.StatusOK, a.Token, http.MethodGet, "/admin/v1/approvals?status=pending", nil)); slices.Contains(ids, userReq) {
		t.Fatalf("A may decide own request: %v", ids)
	}
	if ids := ids(e.must(http.StatusOK, b.Token, http.MethodGet, "/admin/v1/approvals?status=pending", nil)); !slices.Contains(ids, userReq) {
		t.Fatalf("B's pending list lacks the request: %v", ids)
	}
	d := e.approve(b, userReq)
	temp := d.Str("temporaryPassword")
	if temp == "" {
		t.Fatalf("approval did not return the temporary password: %s", d.Raw)
	}
	u, err := e.st.GetUserByLogin(ctx, "qbo-sync")
	if err != nil {
		t.Fatalf("user after approval: %v", err)
	}
	if !u.AccountingSoftware || u.Status != store.UserAwaitingSignIn || !u.MustChangePassword || !store.VerifySecret(u.PasswordHash, temp) {
		t.Fatalf("created user = %+v", u)
	}
	if !hasNotification(e.notifications(a), "approval.decided", userReq, "approved") {
		t.Fatalf("A not told of the decision")
	}
	// The password is shown once: the request read back does not hold it.
	if g := e.must(http.StatusOK, b.Token, http.MethodGet, "/admin/v1/approvals/"+userReq, nil); g.Get("temporaryPassword") != nil {
		t.Fatalf("temporary password readable again: %s", g.Raw)
	}

	// Steps 3-7: the read-only job role and the account group.
	r = e.must(http.StatusAccepted, a.Token, http.MethodPost, "/admin/v1/job-roles",
		map[string]any{"name": "Accounting software", "accountingSoftware": true, "grants": grantsRO()})
	roleReq := r.Str("id")
	r = e.must(http.StatusAccepted, a.Token, http.MethodPost, "/admin/v1/account-groups",
		map[string]any{"name": "Books", "accountIds": []string{e.acc1}})
	groupReq := r.Str("id")
	if !hasNotification(e.notifications(a), "approval.submitted", roleReq, admin.TextSubmitted) ||
		!hasNotification(e.notifications(a), "approval.submitted", groupReq, admin.TextSubmitted) {
		t.Fatal("A not notified of the role and group submissions")
	}
	if n := len(e.must(http.StatusOK, a.Token, http.MethodGet, "/admin/v1/job-roles", nil).Items()); n != 2 {
		t.Fatalf("job roles before approval = %d, want the 2 seeded", n)
	}
	roleID := e.approve(b, roleReq).Str("result.id")
	groupID := e.approve(b, groupReq).Str("result.id")
	role := e.must(http.StatusOK, a.Token, http.MethodGet, "/admin/v1/job-roles/"+roleID, nil)
	if role.Str("grants.0.permission") != "account_summary" || role.Str("grants.1.permission") != "manage_statements" {
		t.Fatalf("role = %s", role.Raw)
	}

	// Steps 8-9: assign both to the user.
	r = e.must(http.StatusAccepted, a.Token, http.MethodPost, "/admin/v1/assignments",
		map[string]any{"userId": u.ID, "jobRoleId": roleID, "accountGroupId": groupID})
	if _, err := e.st.UserAssignment(ctx, u.ID, ""); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("assignment exists before approval: %v", err)
	}
	e.approve(b, r.Str("id"))
	as, err := e.st.UserAssignment(ctx, u.ID, "")
	if err != nil || as.JobRoleID != roleID || as.AccountGroupID != groupID {
		t.Fatalf("assignment = %+v, %v", as, err)
	}

	// The operator opens a new account: it is in no group.
	acc := e.must(http.StatusCreated, e.operator, http.MethodPost, "/ops/v1/accounts",
		map[string]any{"legalEntityId": e.le1, "number": "00012-003-1000099", "type": "SAVINGS", "currency": "CAD"}).Str("id")
	groups, _, err := e.st.ListAccountGroups(ctx, e.bg1, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range groups {
		if slices.Contains(g.AccountIDs, acc) {
			t.Fatalf("new account joined group %q by itself", g.Name)
		}
	}

	// A adds it: not in the group until B approves.
	r = e.must(http.StatusAccepted, a.Token, http.MethodPost, "/admin/v1/account-groups/"+groupID+"/accounts", map[string]any{"accountId": acc})
	if g, _ := e.st.GetAccountGroup(ctx, groupID); slices.Contains(g.AccountIDs, acc) {
		t.Fatal("account in the group before approval")
	}
	e.approve(b, r.Str("id"))
	if g, _ := e.st.GetAccountGroup(ctx, groupID); !slices.Contains(g.AccountIDs, acc) || !slices.Contains(g.AccountIDs, e.acc1) {
		t.Fatalf("group after approval = %v", g.AccountIDs)
	}

	// A removes an account.
	r = e.must(http.StatusAccepted, a.Token, http.MethodDelete, "/admin/v1/account-groups/"+groupID+"/accounts/"+e.acc1, nil)
	e.approve(b, r.Str("id"))
	if g, _ := e.st.GetAccountGroup(ctx, groupID); slices.Contains(g.AccountIDs, e.acc1) || !slices.Contains(g.AccountIDs, acc) {
		t.Fatalf("group after removal = %v", g.AccountIDs)
	}

	// The audit log tells the story with who, what and from where.
	audit := e.must(http.StatusOK, a.Token, http.MethodGet, "/admin/v1/audit?limit=1000", nil).Items()
	want := map[string]bool{"user.create.submitted": false, "approval.approved": false, "user.create.applied": false,
		"job_role.create.applied": false, "account_group.edit.applied": false, "assignment.create.applied": false}
	for _, ev := range audit {
		if _, ok := want[ev["action"].(string)]; ok {
			want[ev["action"].(string)] = true
			if ev["remoteAddr"] == "" || ev["actorId"] == "" {
				t.Errorf("audit event without actor or address: %v", ev)
			}
		}
		if ev["action"] == "account_group.edit.applied" && (ev["before"] == nil || ev["after"] == nil) {
			t.Errorf("edit audited without before/after: %v", ev)
		}
	}
	for a, seen := range want {
		if !seen {
			t.Errorf("audit lacks %s", a)
		}
	}
	// The audit filters narrow it.
	f := e.must(http.StatusOK, a.Token, http.MethodGet, "/admin/v1/audit?action=approval.approved&actor="+b.ID, nil).Items()
	if len(f) != 6 {
		t.Errorf("approvals by B = %d, want 6", len(f))
	}
}

func ids(r resp) []string {
	var out []string
	for _, it := range r.Items() {
		out = append(out, it["id"].(string))
	}
	return out
}

package admin_test

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/bankfeed/bankfeed/store"
)

func withSelfApproved(g store.Grants, p store.Permission, r store.Right) store.Grants {
	out := store.Grants{}
	for _, pg := range g {
		if pg.Permission == p {
			pg.SelfApproved |= store.Rights(r)
		}
		out = append(out, pg)
	}
	return out
}

func TestSelfApproval(t *testing.T) {
	e := newEnv(t)
	plain := e.newUser(e.bg1, "plain", store.AdminGrants())
	self := e.newUser(e.bg1, "self", withSelfApproved(store.AdminGrants(), store.PermManageJobRoles, store.RightCreate))

	// Without the self-approved right: refused, named, audited, unchanged.
	id := e.must(http.StatusAccepted, plain.Token, http.MethodPost, "/admin/v1/job-roles", map[string]any{"name": "Mine", "grants": grantsRO()}).Str("id")
	r := e.call(plain.Token, http.MethodPost, "/admin/v1/approvals/"+id+"/approve", nil)
	if r.Status != http.StatusForbidden || r.Str("missing.permission") != "manage_job_roles" || !strings.Contains(r.Str("missing.right"), "Create") ||
		!strings.Contains(r.Str("detail"), "self-approved") {
		t.Fatalf("self-approval without the right = %d %s", r.Status, r.Raw)
	}
	if got := e.must(http.StatusOK, plain.Token, http.MethodGet, "/admin/v1/approvals/"+id, nil).Str("status"); got != string(store.ApprovalPending) {
		t.Fatalf("status after refused self-approval = %s", got)
	}
	refused := e.must(http.StatusOK, plain.Token, http.MethodGet, "/admin/v1/audit?action=approval.approve.refused", nil).Items()
	if len(refused) != 1 || refused[0]["actorId"] != plain.ID || refused[0]["targetId"] != id {
		t.Fatalf("refusal audit = %v", refused)
	}
	// With it: allowed, and the request is in their own pending list.
	id2 := e.must(http.StatusAccepted, self.Token, http.MethodPost, "/admin/v1/job-roles", map[string]any{"name": "Mine too", "grants": grantsRO()}).Str("id")
	if !slices.Contains(ids(e.must(http.StatusOK, self.Token, http.MethodGet, "/admin/v1/approvals?status=pending", nil)), id2) {
		t.Fatal("self-approver's pending list lacks their own request")
	}
	e.approve(self, id2)
	// The self-approved right covers only its right: an edit by the same
	// user still needs another checker.
	roles := e.must(http.StatusOK, self.Token, http.MethodGet, "/admin/v1/job-roles", nil).Items()
	var roleID string
	for _, r := range roles {
		if r["name"] == "Mine too" {
			roleID = r["id"].(string)
		}
	}
	id3 := e.must(http.StatusAccepted, self.Token, http.MethodPatch, "/admin/v1/job-roles/"+roleID, map[string]any{"description": "x"}).Str("id")
	if r := e.call(self.Token, http.MethodPost, "/admin/v1/approvals/"+id3+"/approve", nil); r.Status != http.StatusForbidden || r.Str("missing.right") != "self-approved Edit" {
		t.Fatalf("self-approving an edit = %d %s", r.Status, r.Raw)
	}
	// A checker without Approve on the permission is refused too.
	noApprove := e.newUser(e.bg1, "no-approve", without(store.AdminGrants(), store.Requirement{Permission: store.PermManageJobRoles, Right: store.RightApprove}))
	if r := e.call(noApprove.Token, http.MethodPost, "/admin/v1/approvals/"+id+"/approve", nil); r.Status != http.StatusForbidden || r.Str("missing.right") != "Approve" {
		t.Fatalf("approve without Approve = %d %s", r.Status, r.Raw)
	}
	if r := e.call(noApprove.Token, http.MethodPost, "/admin/v1/approvals/"+id+"/reject", map[string]any{"reason": "no"}); r.Status != http.StatusForbidden {
		t.Fatalf("reject without Approve = %d %s", r.Status, r.Raw)
	}
}

func TestConcurrentDecisions(t *testing.T) {
	e := newEnv(t)
	a := e.newUser(e.bg1, "maker", store.AdminGrants())
	b := e.newUser(e.bg1, "checker-b", store.AdminGrants())
	c := e.newUser(e.bg1, "checker-c", store.AdminGrants())
	for i := range 5 {
		name := fmt.Sprintf("Race %d", i)
		id := e.must(http.StatusAccepted, a.Token, http.MethodPost, "/admin/v1/job-roles", map[string]any{"name": name, "grants": grantsRO()}).Str("id")
		var wg sync.WaitGroup
		var approve, reject resp
		wg.Add(2)
		go func() {
			defer wg.Done()
			approve = e.call(b.Token, http.MethodPost, "/admin/v1/approvals/"+id+"/approve", nil)
		}()
		go func() {
			defer wg.Done()
			reject = e.call(c.Token, http.MethodPost, "/admin/v1/approvals/"+id+"/reject", map[string]any{"reason": "duplicate"})
		}()
		wg.Wait()
		codes := []int{approve.Status, reject.Status}
		slices.Sort(codes)
		if codes[0] != http.StatusOK || codes[1] != http.StatusConflict {
			t.Fatalf("round %d: approve %d %s, reject %d %s; want one 200 and one 409", i, approve.Status, approve.Raw, reject.Status, reject.Raw)
		}
		exists := false
		roles, _, _ := e.st.ListJobRoles(t.Context(), e.bg1, store.Page{Limit: 1000})
		for _, r := range roles {
			exists = exists || r.Name == name
		}
		final := e.must(http.StatusOK, a.Token, http.MethodGet, "/admin/v1/approvals/"+id, nil).Str("status")
		if (approve.Status == http.StatusOK) != exists || (exists != (final == string(store.ApprovalApproved))) {
			t.Fatalf("round %d: approved=%v role exists=%v status=%s", i, approve.Status == http.StatusOK, exists, final)
		}
		// Deciding again is a conflict.
		if r := e.call(b.Token, http.MethodPost, "/admin/v1/approvals/"+id+"/approve", nil); r.Status != http.StatusConflict {
			t.Fatalf("second decision = %d", r.Status)
		}
	}
}

func TestStaleTarget(t *testing.T) {
	e := newEnv(t)
	a := e.newUser(e.bg1, "maker", store.AdminGrants())
	b := e.newUser(e.bg1, "checker", store.AdminGrants())
	g, err := e.st.CreateAccountGroup(t.Context(), store.AccountGroup{BusinessGroupID: e.bg1, Name: "Books"})
	if err != nil {
		t.Fatal(err)
	}
	first := e.must(http.StatusAccepted, a.Token, http.MethodPost, "/admin/v1/account-groups/"+g.ID+"/accounts", map[string]any{"accountId": e.acc1}).Str("id")
	second := e.must(http.StatusAccepted, a.Token, http.MethodPost, "/admin/v1/account-groups/"+g.ID+"/accounts", map[string]any{"accountId": e.acc2}).Str("id")
	e.approve(b, first)
	r := e.call(b.Token, http.MethodPost, "/admin/v1/approvals/"+second+"/approve", nil)
	if r.Status != http.StatusConflict || !strings.Contains(r.Str("detail"), "changed since the request was submitted") {
		t.Fatalf("stale approval = %d %s", r.Status, r.Raw)
	}
	cur, _ := e.st.GetAccountGroup(t.Context(), g.ID)
	if slices.Contains(cur.AccountIDs, e.acc2) {
		t.Fatal("stale request applied")
	}
	if st := e.must(http.StatusOK, b.Token, http.MethodGet, "/admin/v1/approvals/"+second, nil).Str("status"); st != string(store.ApprovalPending) {
		t.Fatalf("stale request status = %s, want still pending", st)
	}
	// It can be rejected with a reason, which the initiator is told.
	e.must(http.StatusOK, b.Token, http.MethodPost, "/admin/v1/approvals/"+second+"/reject", map[string]any{"reason": "stale; resubmit"})
	if !hasNotification(e.notifications(a), "approval.decided", second, "stale; resubmit") {
		t.Fatal("initiator not told of the rejection")
	}
	// A reason is required.
	third := e.must(http.StatusAccepted, a.Token, http.MethodPost, "/admin/v1/account-groups/"+g.ID+"/accounts", map[string]any{"accountId": e.acc2}).Str("id")
	if r := e.call(b.Token, http.MethodPost, "/admin/v1/approvals/"+third+"/reject", map[string]any{"reason": " "}); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("reject without reason = %d", r.Status)
	}
	// Only the initiator cancels.
	if r := e.call(b.Token, http.MethodPost, "/admin/v1/approvals/"+third+"/cancel", nil); r.Status != http.StatusForbidden {
		t.Fatalf("cancel by another = %d", r.Status)
	}
	if r := e.must(http.StatusOK, a.Token, http.MethodPost, "/admin/v1/approvals/"+third+"/cancel", nil); r.Str("approval.status") != string(store.ApprovalCancelled) {
		t.Fatalf("cancel = %s", r.Raw)
	}
	// A decided request is not decided again, by its initiator or a checker.
	for _, again := range []struct {
		who  person
		verb string
		body any
	}{{a, "cancel", nil}, {b, "reject", map[string]any{"reason": "late"}}, {b, "approve", nil}} {
		r := e.call(again.who.Token, http.MethodPost, "/admin/v1/approvals/"+third+"/"+again.verb, again.body)
		if r.Status != http.StatusConflict || r.Str("detail") != "the request is already cancelled" {
			t.Errorf("%s after cancel = %d %s", again.verb, r.Status, r.Raw)
		}
	}
	cancelled := "approval.cancelled"
	evs, _, err := e.st.ListAudit(t.Context(), store.AuditFilter{TargetID: &third, Action: &cancelled}, store.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].ActorID != a.ID || evs[0].RequestID != third {
		t.Errorf("audit of the cancellation = %+v", evs)
	}
}

func TestUserLifecycle(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	a := e.newUser(e.bg1, "maker", store.AdminGrants())
	b := e.newUser(e.bg1, "checker", store.AdminGrants())
	target := e.newUser(e.bg1, "clerk", store.AccountingSoftwareReadOnlyGrants())

	e.approve(b, e.must(http.StatusAccepted, a.Token, http.MethodPost, "/admin/v1/users/"+target.ID+"/lock", nil).Str("id"))
	if u, _ := e.st.GetUser(ctx, target.ID); u.Status != store.UserLocked {
		t.Fatalf("after lock: %s", u.Status)
	}
	if r := e.call(target.Token, http.MethodGet, "/admin/v1/permissions", nil); r.Status != http.StatusForbidden {
		t.Fatalf("locked user's call = %d", r.Status)
	}
	e.approve(b, e.must(http.StatusAccepted, a.Token, http.MethodPost, "/admin/v1/users/"+target.ID+"/unlock", nil).Str("id"))
	if u, _ := e.st.GetUser(ctx, target.ID); u.Status != store.UserActive {
		t.Fatalf("after unlock: %s", u.Status)
	}
	d := e.approve(b, e.must(http.StatusAccepted, a.Token, http.MethodPost, "/admin/v1/users/"+target.ID+"/reset-password", nil).Str("id"))
	u, _ := e.st.GetUser(ctx, target.ID)
	if u.Status != store.UserAwaitingSignIn || !u.MustChangePassword || !store.VerifySecret(u.PasswordHash, d.Str("temporaryPassword")) {
		t.Fatalf("after reset: %+v / %s", u, d.Raw)
	}
	e.approve(b, e.must(http.StatusAccepted, a.Token, http.MethodDelete, "/admin/v1/users/"+target.ID, nil).Str("id"))
	if u, _ := e.st.GetUser(ctx, target.ID); u.Status != store.UserDeleted {
		t.Fatalf("after delete: %s", u.Status)
	}
	if _, err := e.st.UserAssignment(ctx, target.ID, ""); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted user keeps an assignment: %v", err)
	}
	if r := e.call(a.Token, http.MethodDelete, "/admin/v1/users/"+target.ID, nil); r.Status != http.StatusConflict {
		t.Fatalf("deleting twice = %d", r.Status)
	}
	if r := e.call(a.Token, http.MethodDelete, "/admin/v1/users/"+a.ID, nil); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("deleting oneself = %d", r.Status)
	}
}

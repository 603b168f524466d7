package admin_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/bankfeed/bankfeed/store"
)

// TestCheckerNeedsSelfApprovedRight (issue 10, finding 3): a job-role
// request that changes self-approved rights also exercises Manage
// self-approved permissions, so its maker needs View and Edit there and its
// checker Approve there too — Approve on Manage job roles alone is not
// enough. A refused decision changes nothing and leaves the request pending.
func TestCheckerNeedsSelfApprovedRight(t *testing.T) {
	e := newEnv(t)
	maker := e.newUser(e.bg1, "maker", store.AdminGrants())
	full := e.newUser(e.bg1, "full-checker", store.AdminGrants())
	noSAApprove := store.Requirement{Permission: store.PermManageSelfApprovedPermissions, Right: store.RightApprove}
	checker := e.newUser(e.bg1, "roles-checker", without(store.AdminGrants(), noSAApprove))
	role := e.seedRole("Clerk", store.Grants{{Permission: store.PermManageJobRoles, Rights: store.Rights(store.RightView, store.RightCreate)}})
	addsSelfApproved := map[string]any{"grants": []map[string]any{
		{"permission": "manage_job_roles", "rights": []string{"View", "Create"}, "selfApproved": []string{"Create"}}}}

	// The maker needs Edit on Manage self-approved permissions to submit it.
	noSAEdit := e.newUser(e.bg1, "no-sa-edit", without(store.AdminGrants(),
		store.Requirement{Permission: store.PermManageSelfApprovedPermissions, Right: store.RightEdit}))
	for _, c := range []struct{ method, path string }{
		{http.MethodPatch, "/admin/v1/job-roles/" + role.ID},
		{http.MethodPost, "/admin/v1/job-roles"},
	} {
		body := map[string]any{"grants": addsSelfApproved["grants"], "name": "Self-approving clerk"}
		if r := e.call(noSAEdit.Token, c.method, c.path, body); r.Status != http.StatusForbidden ||
			r.Str("missing.permission") != string(store.PermManageSelfApprovedPermissions) || r.Str("missing.right") != "Edit" {
			t.Fatalf("%s %s without Edit on Manage self-approved permissions = %d %s", c.method, c.path, r.Status, r.Raw)
		}
	}
	if n := e.countApprovals(); n != 0 {
		t.Fatalf("%d requests recorded after refused submissions", n)
	}

	edit := e.submit(maker, http.MethodPatch, "/admin/v1/job-roles/"+role.ID, addsSelfApproved)
	create := e.submit(maker, http.MethodPost, "/admin/v1/job-roles", map[string]any{"name": "Self-approver", "grants": addsSelfApproved["grants"]})
	plain := e.submit(maker, http.MethodPatch, "/admin/v1/job-roles/"+role.ID, map[string]any{"description": "no self-approved change"})

	// The checker holds Approve on Manage job roles but not on Manage
	// self-approved permissions: neither listed, notified nor allowed.
	pending := ids(e.must(http.StatusOK, checker.Token, http.MethodGet, "/admin/v1/approvals?status=pending", nil))
	if slices.Contains(pending, edit) || slices.Contains(pending, create) || !slices.Contains(pending, plain) {
		t.Fatalf("checker's pending list = %v; want %s only of %s, %s, %s", pending, plain, edit, create, plain)
	}
	ns := e.notifications(checker)
	if hasNotification(ns, "approval.pending", edit, "") || hasNotification(ns, "approval.pending", create, "") || !hasNotification(ns, "approval.pending", plain, "") {
		t.Fatalf("checker's notifications = %v", ns)
	}
	for _, id := range []string{edit, create} {
		r := e.call(checker.Token, http.MethodPost, "/admin/v1/approvals/"+id+"/approve", nil)
		if r.Status != http.StatusForbidden || r.Header.Get("Content-Type") != "application/problem+json" ||
			r.Str("missing.permission") != string(store.PermManageSelfApprovedPermissions) || r.Str("missing.right") != "Approve" ||
			!strings.Contains(r.Str("detail"), "Manage self-approved permissions") {
			t.Fatalf("approve %s without Approve on Manage self-approved permissions = %d %s", id, r.Status, r.Raw)
		}
		e.pending(id)
	}
	if got := e.role(role.ID); got.Version != role.Version || got.Grants.SelfApproved(store.PermManageJobRoles) != 0 {
		t.Fatalf("role after the refused approval = %+v", got)
	}
	if n := e.countRoles("Self-approver"); n != 0 {
		t.Fatalf("%d roles named Self-approver after the refused approval", n)
	}

	// The maker approving their own request needs the self-approved Edit
	// right on Manage self-approved permissions as well as on Manage job roles.
	selfRoles := e.newUser(e.bg1, "self-roles", withSelfApproved(store.AdminGrants(), store.PermManageJobRoles, store.RightEdit))
	own := e.submit(selfRoles, http.MethodPatch, "/admin/v1/job-roles/"+role.ID, addsSelfApproved)
	if r := e.call(selfRoles.Token, http.MethodPost, "/admin/v1/approvals/"+own+"/approve", nil); r.Status != http.StatusForbidden ||
		r.Str("missing.permission") != string(store.PermManageSelfApprovedPermissions) || r.Str("missing.right") != "self-approved Edit" {
		t.Fatalf("self-approving without the self-approved Edit on Manage self-approved permissions = %d %s", r.Status, r.Raw)
	}
	e.pending(own)
	e.must(http.StatusOK, selfRoles.Token, http.MethodPost, "/admin/v1/approvals/"+own+"/cancel", nil)

	// A change that leaves self-approved rights alone needs no more than before.
	e.approve(checker, plain)
	// The full checker may decide both.
	role = e.role(role.ID)
	edit = e.submit(maker, http.MethodPatch, "/admin/v1/job-roles/"+role.ID, addsSelfApproved)
	e.approve(full, edit)
	e.approve(full, create)
	if got := e.role(role.ID); !got.Grants.SelfApproved(store.PermManageJobRoles).Has(store.RightCreate) {
		t.Fatalf("role after approval = %+v", got)
	}
	// Removing a self-approved right is a change to self-approved rights too.
	drop := e.submit(maker, http.MethodPatch, "/admin/v1/job-roles/"+role.ID, map[string]any{"grants": []map[string]any{
		{"permission": "manage_job_roles", "rights": []string{"View", "Create"}}}})
	if r := e.call(checker.Token, http.MethodPost, "/admin/v1/approvals/"+drop+"/approve", nil); r.Status != http.StatusForbidden ||
		r.Str("missing.permission") != string(store.PermManageSelfApprovedPermissions) {
		t.Fatalf("approving the removal of a self-approved right = %d %s", r.Status, r.Raw)
	}
	e.pending(drop)
}

package admin_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/bankfeed/bankfeed/store"
)

// without returns g minus one right on one permission.
func without(g store.Grants, r store.Requirement) store.Grants {
	out := store.Grants{}
	for _, pg := range g {
		if pg.Permission == r.Permission {
			pg.Rights &^= store.Rights(r.Right)
			pg.SelfApproved &^= store.Rights(r.Right)
		}
		out = append(out, pg)
	}
	return out
}

// TestEachRight: for every (permission, right) the article's lists name, a
// caller holding everything but that right is refused (403 naming it)
// exactly by the operations whose Requirements include it, and allowed by
// every other.
func TestEachRight(t *testing.T) {
	ops := []store.Operation{
		store.OpViewUsers, store.OpCreateUser, store.OpEditUser, store.OpDeleteUser,
		store.OpViewJobRoles, store.OpCreateJobRole, store.OpEditJobRole, store.OpDeleteJobRole, store.OpEditSelfApproved,
		store.OpViewAccountGroups, store.OpCreateAccountGroup, store.OpEditAccountGroup, store.OpDeleteAccountGroup,
		store.OpViewAssignments, store.OpAssign,
	}
	var reqs []store.Requirement
	for _, op := range ops {
		for _, r := range op.Requirements() {
			if !slices.Contains(reqs, r) {
				reqs = append(reqs, r)
			}
		}
	}
	if len(reqs) < 15 {
		t.Fatalf("only %d requirements found", len(reqs))
	}
	e := newEnv(t)
	ctx := t.Context()
	full := store.AdminGrants()
	for i := range full {
		full[i].SelfApproved = 0
	}
	// Targets the calls act on (never changed: every call only submits).
	target := e.newUser(e.bg1, "target-user", store.AccountingSoftwareReadOnlyGrants())
	spare, err := e.st.CreateJobRole(ctx, store.JobRole{BusinessGroupID: e.bg1, Name: "Spare", Grants: store.AccountingSoftwareReadOnlyGrants()})
	if err != nil {
		t.Fatal(err)
	}
	spareGroup, err := e.st.CreateAccountGroup(ctx, store.AccountGroup{BusinessGroupID: e.bg1, Name: "Spare", AccountIDs: []string{e.acc1}})
	if err != nil {
		t.Fatal(err)
	}
	asg, err := e.st.UserAssignment(ctx, target.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	uniq := func() string { n++; return fmt.Sprintf("n%03d", n) }
	type call struct {
		name string
		ops  []store.Operation
		do   func(tok string) resp
	}
	get := func(path string) func(string) resp {
		return func(tok string) resp { return e.call(tok, http.MethodGet, path, nil) }
	}
	calls := []call{
		{"list users", []store.Operation{store.OpViewUsers}, get("/admin/v1/users")},
		{"show user", []store.Operation{store.OpViewUsers}, get("/admin/v1/users/" + target.ID)},
		{"create user", []store.Operation{store.OpCreateUser}, func(tok string) resp {
			return e.call(tok, http.MethodPost, "/admin/v1/users", map[string]any{"loginId": "new-" + uniq(), "displayName": "New"})
		}},
		{"lock user", []store.Operation{store.OpEditUser}, func(tok string) resp {
			return e.call(tok, http.MethodPost, "/admin/v1/users/"+target.ID+"/lock", nil)
		}},
		{"reset password", []store.Operation{store.OpEditUser}, func(tok string) resp {
			return e.call(tok, http.MethodPost, "/admin/v1/users/"+target.ID+"/reset-password", nil)
		}},
		{"delete user", []store.Operation{store.OpDeleteUser}, func(tok string) resp {
			return e.call(tok, http.MethodDelete, "/admin/v1/users/"+target.ID, nil)
		}},
		{"list job roles", []store.Operation{store.OpViewJobRoles}, get("/admin/v1/job-roles")},
		{"show job role", []store.Operation{store.OpViewJobRoles}, get("/admin/v1/job-roles/" + spare.ID)},
		{"create job role", []store.Operation{store.OpCreateJobRole}, func(tok string) resp {
			return e.call(tok, http.MethodPost, "/admin/v1/job-roles", map[string]any{"name": "R " + uniq(), "grants": grantsRO()})
		}},
		{"create job role with self-approved", []store.Operation{store.OpCreateJobRole, store.OpEditSelfApproved}, func(tok string) resp {
			return e.call(tok, http.MethodPost, "/admin/v1/job-roles", map[string]any{"name": "R " + uniq(),
				"grants": []map[string]any{{"permission": "manage_job_roles", "rights": []string{"View", "Create", "Approve"}, "selfApproved": []string{"Create"}}}})
		}},
		{"edit job role", []store.Operation{store.OpEditJobRole}, func(tok string) resp {
			return e.call(tok, http.MethodPatch, "/admin/v1/job-roles/"+spare.ID, map[string]any{"description": "d " + uniq()})
		}},
		{"edit self-approved rights", []store.Operation{store.OpEditJobRole, store.OpEditSelfApproved}, func(tok string) resp {
			return e.call(tok, http.MethodPatch, "/admin/v1/job-roles/"+spare.ID, map[string]any{
				"grants": []map[string]any{{"permission": "account_summary", "rights": []string{"View"}, "selfApproved": []string{"View"}}}})
		}},
		{"delete job role", []store.Operation{store.OpDeleteJobRole}, func(tok string) resp {
			return e.call(tok, http.MethodDelete, "/admin/v1/job-roles/"+spare.ID, nil)
		}},
		{"list account groups", []store.Operation{store.OpViewAccountGroups}, get("/admin/v1/account-groups")},
		{"show account group", []store.Operation{store.OpViewAccountGroups}, get("/admin/v1/account-groups/" + spareGroup.ID)},
		{"list accounts", []store.Operation{store.OpViewAccountGroups}, get("/admin/v1/accounts")},
		{"create account group", []store.Operation{store.OpCreateAccountGroup}, func(tok string) resp {
			return e.call(tok, http.MethodPost, "/admin/v1/account-groups", map[string]any{"name": "G " + uniq(), "accountIds": []string{e.acc2}})
		}},
		{"edit account group", []store.Operation{store.OpEditAccountGroup}, func(tok string) resp {
			return e.call(tok, http.MethodPatch, "/admin/v1/account-groups/"+spareGroup.ID, map[string]any{"name": "G " + uniq()})
		}},
		{"add account to group", []store.Operation{store.OpEditAccountGroup}, func(tok string) resp {
			return e.call(tok, http.MethodPost, "/admin/v1/account-groups/"+spareGroup.ID+"/accounts", map[string]any{"accountId": e.acc2})
		}},
		{"remove account from group", []store.Operation{store.OpEditAccountGroup}, func(tok string) resp {
			return e.call(tok, http.MethodDelete, "/admin/v1/account-groups/"+spareGroup.ID+"/accounts/"+e.acc1, nil)
		}},
		{"delete account group", []store.Operation{store.OpDeleteAccountGroup}, func(tok string) resp {
			return e.call(tok, http.MethodDelete, "/admin/v1/account-groups/"+spareGroup.ID, nil)
		}},
		{"list assignments", []store.Operation{store.OpViewAssignments}, get("/admin/v1/assignments")},
		{"show assignment", []store.Operation{store.OpViewAssignments}, get("/admin/v1/assignments/" + asg.ID)},
		{"assign", []store.Operation{store.OpAssign}, func(tok string) resp {
			return e.call(tok, http.MethodPost, "/admin/v1/assignments", map[string]any{"userId": target.ID, "jobRoleId": spare.ID, "accountGroupId": spareGroup.ID})
		}},
	}
	covered := map[store.Operation]bool{}
	for _, c := range calls {
		for _, op := range c.ops {
			covered[op] = true
		}
	}
	for _, op := range ops {
		if !covered[op] {
			t.Fatalf("no call exercises %s", op)
		}
	}

	// The full role passes every call (the baseline the table relies on).
	all := e.newUser(e.bg1, "holds-all", full)
	for _, c := range calls {
		if r := c.do(all.Token); r.Status >= 300 {
			t.Fatalf("%s with every right = %d: %s", c.name, r.Status, r.Raw)
		}
	}

	for i, missing := range reqs {
		t.Run(missing.String(), func(t *testing.T) {
			p := e.newUser(e.bg1, fmt.Sprintf("lacks-%02d", i), without(full, missing))
			for _, c := range calls {
				needs := false
				for _, op := range c.ops {
					needs = needs || slices.Contains(op.Requirements(), missing)
				}
				r := c.do(p.Token)
				if !needs {
					if r.Status >= 300 {
						t.Errorf("%s = %d, want success (it does not need %s): %s", c.name, r.Status, missing, r.Raw)
					}
					continue
				}
				if r.Status != http.StatusForbidden || r.Str("missing.permission") != string(missing.Permission) || r.Str("missing.right") != missing.Right.String() {
					t.Errorf("%s = %d %s, want 403 naming %s", c.name, r.Status, r.Raw, missing)
				}
			}
		})
	}
}

package admin_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/bankfeed/bankfeed/internal/apihttp"
	"github.com/bankfeed/bankfeed/store"
)

// The tests here approve requests whose target or surroundings changed
// between submission and decision: each refusal must be a problem naming
// why, leave the request pending and change nothing.

func (e *env) seedRole(name string, g store.Grants) store.JobRole {
	e.t.Helper()
	r, err := e.st.CreateJobRole(e.t.Context(), store.JobRole{BusinessGroupID: e.bg1, Name: name, Grants: g})
	if err != nil {
		e.t.Fatalf("seed role: %v", err)
	}
	return r
}

func (e *env) seedAccountGroup(name string, accounts ...string) store.AccountGroup {
	e.t.Helper()
	g, err := e.st.CreateAccountGroup(e.t.Context(), store.AccountGroup{BusinessGroupID: e.bg1, Name: name, AccountIDs: accounts})
	if err != nil {
		e.t.Fatalf("seed account group: %v", err)
	}
	return g
}

// seedSoftwareUser seeds an active accounting software user of bg1.
func (e *env) seedSoftwareUser(login string) store.User {
	e.t.Helper()
	u, err := e.st.CreateUser(e.t.Context(), store.User{BusinessGroupID: e.bg1, LoginID: login, DisplayName: login,
		AccountingSoftware: true, Status: store.UserActive})
	if err != nil {
		e.t.Fatalf("seed user: %v", err)
	}
	return u
}

// submit has maker submit a request and returns its ID.
func (e *env) submit(maker person, method, path string, body any) string {
	e.t.Helper()
	id := e.must(http.StatusAccepted, maker.Token, method, path, body).Str("id")
	if id == "" {
		e.t.Fatalf("%s %s: no request ID", method, path)
	}
	return id
}

// refused approves id as checker, expects a problem with status and a
// detail containing detailPart, and checks the request is still pending.
func (e *env) refused(checker person, id string, status int, detailPart string) resp {
	e.t.Helper()
	r := e.call(checker.Token, http.MethodPost, "/admin/v1/approvals/"+id+"/approve", nil)
	slug := map[int]string{http.StatusConflict: "conflict", http.StatusUnprocessableEntity: "invalid"}[status]
	if r.Status != status || r.Str("type") != apihttp.ProblemTypeBase+slug || r.Get("status") != float64(status) ||
		!strings.Contains(r.Str("detail"), detailPart) || r.Str("instance") != "/admin/v1/approvals/"+id+"/approve" {
		e.t.Fatalf("approve %s = %d %s; want %d %s with %q", id, r.Status, r.Raw, status, slug, detailPart)
	}
	e.pending(id)
	return r
}

func (e *env) pending(id string) {
	e.t.Helper()
	r, err := e.st.GetApproval(e.t.Context(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	if r.Status != store.ApprovalPending || r.DecidedBy != "" || !r.DecidedAt.IsZero() {
		e.t.Fatalf("request %s after a refused approval: %s by %q, want still pending", id, r.Status, r.DecidedBy)
	}
}

func (e *env) role(id string) store.JobRole {
	e.t.Helper()
	r, err := e.st.GetJobRole(e.t.Context(), id)
	if err != nil {
		e.t.Fatalf("job role %s: %v", id, err)
	}
	return r
}

func (e *env) group(id string) store.AccountGroup {
	e.t.Helper()
	g, err := e.st.GetAccountGroup(e.t.Context(), id)
	if err != nil {
		e.t.Fatalf("account group %s: %v", id, err)
	}
	return g
}

// TestApproveTargetGone: a request whose job role or account group was
// deleted after it was submitted is a conflict with the current state —
// the approval in the path exists, so a 404 would tell the checker the
// wrong thing — and it stays pending to be rejected.
func TestApproveTargetGone(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	a := e.newUser(e.bg1, "maker", store.AdminGrants())
	b := e.newUser(e.bg1, "checker", store.AdminGrants())
	role := e.seedRole("Bookkeeper", store.AccountingSoftwareReadOnlyGrants())
	grp := e.seedAccountGroup("Books", e.acc1)
	clerk := e.seedSoftwareUser("books-app")

	editRole := e.submit(a, http.MethodPatch, "/admin/v1/job-roles/"+role.ID, map[string]any{"description": "reads the books"})
	assign := e.submit(a, http.MethodPost, "/admin/v1/assignments", map[string]any{"userId": clerk.ID, "jobRoleId": role.ID, "accountGroupId": grp.ID})
	editGroup := e.submit(a, http.MethodPatch, "/admin/v1/account-groups/"+grp.ID, map[string]any{"name": "Ledger"})
	e.approve(b, e.submit(a, http.MethodDelete, "/admin/v1/job-roles/"+role.ID, nil))
	e.approve(b, e.submit(a, http.MethodDelete, "/admin/v1/account-groups/"+grp.ID, nil))

	e.refused(b, editRole, http.StatusConflict, "job role \""+role.ID+"\" no longer exists")
	e.refused(b, assign, http.StatusConflict, "no longer exists")
	e.refused(b, editGroup, http.StatusConflict, "account group \""+grp.ID+"\" no longer exists")
	if _, err := e.st.GetJobRole(ctx, role.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted job role after the refused edit: %v", err)
	}
	if _, err := e.st.GetAccountGroup(ctx, grp.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted account group after the refused edit: %v", err)
	}
	if _, err := e.st.UserAssignment(ctx, clerk.ID, ""); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("assignment after the refused approval: %v", err)
	}
	// The stranded requests can still be rejected.
	e.must(http.StatusOK, b.Token, http.MethodPost, "/admin/v1/approvals/"+editRole+"/reject", map[string]any{"reason": "the role is gone"})
}

// TestApproveStateChanged: each kind of request meets, at approval, a
// state its submission's checks would have refused; apply re-validates.
func TestApproveStateChanged(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	a := e.newUser(e.bg1, "maker", store.AdminGrants())
	b := e.newUser(e.bg1, "checker", store.AdminGrants())
	ro := store.AccountingSoftwareReadOnlyGrants()

	t.Run("user ID taken since", func(t *testing.T) {
		body := map[string]any{"loginId": "jdoe", "displayName": "J. Doe", "accountingSoftware": false}
		first := e.submit(a, http.MethodPost, "/admin/v1/users", body)
		second := e.submit(a, http.MethodPost, "/admin/v1/users", body)
		created := e.approve(b, first).Str("result.id")
		e.refused(b, second, http.StatusConflict, `the user ID "jdoe" is already taken`)
		if u, err := e.st.GetUserByLogin(ctx, "jdoe"); err != nil || u.ID != created {
			t.Fatalf("jdoe = %+v, %v; want the first request's %s", u, err, created)
		}
	})
	t.Run("job role name taken since", func(t *testing.T) {
		body := map[string]any{"name": "Twin", "grants": grantsRO()}
		first := e.submit(a, http.MethodPost, "/admin/v1/job-roles", body)
		second := e.submit(a, http.MethodPost, "/admin/v1/job-roles", body)
		e.approve(b, first)
		e.refused(b, second, http.StatusConflict, `a job role named "Twin" already exists`)
		if n := e.countRoles("twin"); n != 1 {
			t.Fatalf("%d roles named Twin", n)
		}
	})
	t.Run("job role edited since", func(t *testing.T) {
		r := e.seedRole("Editable", ro)
		first := e.submit(a, http.MethodPatch, "/admin/v1/job-roles/"+r.ID, map[string]any{"description": "first"})
		second := e.submit(a, http.MethodPatch, "/admin/v1/job-roles/"+r.ID, map[string]any{"description": "second"})
		e.approve(b, first)
		e.refused(b, second, http.StatusConflict, "the job role changed since the request was submitted")
		if got := e.role(r.ID); got.Description != "first" || got.Version != r.Version+1 {
			t.Fatalf("role after the refused edit = %+v", got)
		}
	})
	t.Run("job role renamed to a name taken since", func(t *testing.T) {
		r := e.seedRole("Renamable", ro)
		rename := e.submit(a, http.MethodPatch, "/admin/v1/job-roles/"+r.ID, map[string]any{"name": "Later"})
		e.approve(b, e.submit(a, http.MethodPost, "/admin/v1/job-roles", map[string]any{"name": "later", "grants": grantsRO()}))
		e.refused(b, rename, http.StatusConflict, `a job role named "later" already exists`)
		if got := e.role(r.ID); got.Name != "Renamable" || got.Version != r.Version {
			t.Fatalf("role after the refused rename = %+v", got)
		}
	})
	t.Run("job role given to accounting software since", func(t *testing.T) {
		// Submitted while no accounting software user held the role, the
		// edit adds a right such a user may not hold; approved after one
		// was assigned the role, it is refused by the rule.
		r := e.seedRole("Bookkeeping", ro)
		wider := append(grantsRO(), map[string]any{"permission": "manage_users", "rights": []string{"View"}})
		edit := e.submit(a, http.MethodPatch, "/admin/v1/job-roles/"+r.ID, map[string]any{"grants": wider})
		app := e.seedSoftwareUser("ledger-app")
		grp := e.seedAccountGroup("Ledger accounts", e.acc1)
		e.approve(b, e.submit(a, http.MethodPost, "/admin/v1/assignments", map[string]any{"userId": app.ID, "jobRoleId": r.ID, "accountGroupId": grp.ID}))
		p := e.refused(b, edit, http.StatusUnprocessableEntity, "")
		if errs, _ := p.Get("errors").([]any); len(errs) == 0 {
			t.Fatalf("422 without errors: %s", p.Raw)
		}
		if got := e.role(r.ID); got.Version != r.Version || got.Grants.Rights(store.PermManageUsers) != 0 {
			t.Fatalf("role after the refused edit = %+v", got)
		}
	})
	t.Run("job role deleted while assigned since", func(t *testing.T) {
		r := e.seedRole("Short-lived", ro)
		del := e.submit(a, http.MethodDelete, "/admin/v1/job-roles/"+r.ID, nil)
		user := e.newUser(e.bg1, "holder", nil)
		e.approve(b, e.submit(a, http.MethodPost, "/admin/v1/assignments", map[string]any{"userId": user.ID, "jobRoleId": r.ID, "accountGroupId": e.adminGroup1}))
		e.refused(b, del, http.StatusConflict, `the job role "Short-lived" is assigned to users`)
		e.role(r.ID)
	})
	t.Run("job role deleted after an edit", func(t *testing.T) {
		r := e.seedRole("Moving", ro)
		del := e.submit(a, http.MethodDelete, "/admin/v1/job-roles/"+r.ID, nil)
		e.approve(b, e.submit(a, http.MethodPatch, "/admin/v1/job-roles/"+r.ID, map[string]any{"description": "edited"}))
		e.refused(b, del, http.StatusConflict, "the job role changed since the request was submitted")
		e.role(r.ID)
	})
	t.Run("account group name taken since", func(t *testing.T) {
		first := e.submit(a, http.MethodPost, "/admin/v1/account-groups", map[string]any{"name": "Pair", "accountIds": []string{e.acc1}})
		second := e.submit(a, http.MethodPost, "/admin/v1/account-groups", map[string]any{"name": "Pair", "accountIds": []string{e.acc2}})
		e.approve(b, first)
		e.refused(b, second, http.StatusConflict, `an account group named "Pair" already exists`)
		gs, _, err := e.st.ListAccountGroups(ctx, e.bg1, store.Page{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, g := range gs {
			if g.Name == "Pair" {
				n++
				if len(g.AccountIDs) != 1 || g.AccountIDs[0] != e.acc1 {
					t.Fatalf("group Pair = %+v, want the first request's", g)
				}
			}
		}
		if n != 1 {
			t.Fatalf("%d groups named Pair", n)
		}
	})
	t.Run("account group renamed to a name taken since", func(t *testing.T) {
		g := e.seedAccountGroup("Old name", e.acc1)
		rename := e.submit(a, http.MethodPatch, "/admin/v1/account-groups/"+g.ID, map[string]any{"name": "New name", "accountIds": []string{e.acc2}})
		e.approve(b, e.submit(a, http.MethodPost, "/admin/v1/account-groups", map[string]any{"name": "NEW NAME"}))
		e.refused(b, rename, http.StatusConflict, `an account group named "NEW NAME" already exists`)
		if got := e.group(g.ID); got.Name != "Old name" || len(got.AccountIDs) != 1 || got.AccountIDs[0] != e.acc1 || got.Version != g.Version {
			t.Fatalf("group after the refused rename = %+v", got)
		}
	})
	t.Run("account group deleted while assigned since", func(t *testing.T) {
		g := e.seedAccountGroup("Assigned later")
		del := e.submit(a, http.MethodDelete, "/admin/v1/account-groups/"+g.ID, nil)
		user := e.newUser(e.bg1, "grouped", nil)
		r := e.seedRole("Grouped role", ro)
		e.approve(b, e.submit(a, http.MethodPost, "/admin/v1/assignments", map[string]any{"userId": user.ID, "jobRoleId": r.ID, "accountGroupId": g.ID}))
		e.refused(b, del, http.StatusConflict, `the account group "Assigned later" is assigned to users`)
		e.group(g.ID)
	})
	t.Run("account group deleted after an edit", func(t *testing.T) {
		g := e.seedAccountGroup("Edited later")
		del := e.submit(a, http.MethodDelete, "/admin/v1/account-groups/"+g.ID, nil)
		e.approve(b, e.submit(a, http.MethodPost, "/admin/v1/account-groups/"+g.ID+"/accounts", map[string]any{"accountId": e.acc2}))
		e.refused(b, del, http.StatusConflict, "the account group changed since the request was submitted")
		if got := e.group(g.ID); len(got.AccountIDs) != 1 {
			t.Fatalf("group = %+v", got)
		}
	})

	// Assignments: each user has at most one per context, so a request made
	// when there was none, or naming the one there was, is refused once that
	// has changed.
	r1, r2 := e.seedRole("Assigned A", ro), e.seedRole("Assigned B", ro)
	assign := func(u, role string) string {
		return e.submit(a, http.MethodPost, "/admin/v1/assignments", map[string]any{"userId": u, "jobRoleId": role, "accountGroupId": e.adminGroup1})
	}
	assignment := func(u string) store.Assignment {
		t.Helper()
		as, err := e.st.UserAssignment(ctx, u, "")
		if err != nil {
			t.Fatalf("assignment of %s: %v", u, err)
		}
		return as
	}
	t.Run("assignment made since", func(t *testing.T) {
		u := e.seedSoftwareUser("app-one")
		first, second := assign(u.ID, r1.ID), assign(u.ID, r2.ID)
		e.approve(b, first)
		e.refused(b, second, http.StatusConflict, "the user was given an assignment in this context since the request was submitted")
		if got := assignment(u.ID); got.JobRoleID != r1.ID {
			t.Fatalf("assignment = %+v", got)
		}
	})
	t.Run("assignment changed since", func(t *testing.T) {
		u := e.seedSoftwareUser("app-two")
		e.approve(b, assign(u.ID, r1.ID))
		before := assignment(u.ID)
		first, second := assign(u.ID, r2.ID), assign(u.ID, r1.ID)
		e.approve(b, first)
		e.refused(b, second, http.StatusConflict, "the assignment changed since the request was submitted")
		if got := assignment(u.ID); got.ID != before.ID || got.JobRoleID != r2.ID || got.Version != before.Version+1 {
			t.Fatalf("assignment = %+v, before %+v", got, before)
		}
	})
	t.Run("assignment removed since", func(t *testing.T) {
		// Only deleting the user removes an assignment through the API, and
		// that refuses the request earlier (the user is gone); the store
		// can still lose the row, e.g. to another bankfeed writing to it.
		u := e.seedSoftwareUser("app-three")
		e.approve(b, assign(u.ID, r1.ID))
		change := assign(u.ID, r2.ID)
		if err := e.st.DeleteAssignment(ctx, assignment(u.ID).ID); err != nil {
			t.Fatal(err)
		}
		e.refused(b, change, http.StatusConflict, "the user's assignment in this context was removed since the request was submitted")
		if _, err := e.st.UserAssignment(ctx, u.ID, ""); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("assignment after the refused change: %v", err)
		}
	})
	t.Run("user changed since", func(t *testing.T) {
		u := e.newUser(e.bg1, "clerk", ro)
		lock := e.submit(a, http.MethodPost, "/admin/v1/users/"+u.ID+"/lock", nil)
		e.approve(b, e.submit(a, http.MethodPost, "/admin/v1/users/"+u.ID+"/reset-password", nil))
		e.refused(b, lock, http.StatusConflict, "the user changed since the request was submitted")
		if got, err := e.st.GetUser(ctx, u.ID); err != nil || got.Status != store.UserAwaitingSignIn {
			t.Fatalf("user after the refused lock = %+v, %v", got, err)
		}
	})

	// Every refusal above was audited against its request, with the problem.
	refusals, _, err := e.st.ListAudit(ctx, store.AuditFilter{BusinessGroupID: &e.bg1, Action: ptr("approval.approve.refused")}, store.Page{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(refusals) != 15 {
		t.Errorf("%d audited refusals, want 15", len(refusals))
	}
}

func ptr[T any](v T) *T { return &v }

// countRoles counts bg1's roles named name (any case), or all for "".
func (e *env) countRoles(name string) int {
	e.t.Helper()
	rs, _, err := e.st.ListJobRoles(e.t.Context(), e.bg1, store.Page{Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	n := 0
	for _, r := range rs {
		if name == "" || strings.EqualFold(r.Name, name) {
			n++
		}
	}
	return n
}

// TestConcurrentApprovals approves two requests on the same target at the
// same time: one applies, the other is a 409 that says why and stays
// pending, and the target holds exactly the winner's change.
func TestConcurrentApprovals(t *testing.T) {
	e := newEnv(t)
	a := e.newUser(e.bg1, "maker", store.AdminGrants())
	b := e.newUser(e.bg1, "checker-b", store.AdminGrants())
	c := e.newUser(e.bg1, "checker-c", store.AdminGrants())
	race := func(idB, idC string) (won, lost string, loser resp) {
		t.Helper()
		var rb, rc resp
		var wg sync.WaitGroup
		wg.Go(func() { rb = e.call(b.Token, http.MethodPost, "/admin/v1/approvals/"+idB+"/approve", nil) })
		wg.Go(func() { rc = e.call(c.Token, http.MethodPost, "/admin/v1/approvals/"+idC+"/approve", nil) })
		wg.Wait()
		switch {
		case rb.Status == http.StatusOK && rc.Status == http.StatusConflict:
			return idB, idC, rc
		case rc.Status == http.StatusOK && rb.Status == http.StatusConflict:
			return idC, idB, rb
		}
		t.Fatalf("concurrent approvals = %d %s and %d %s; want one 200 and one 409", rb.Status, rb.Raw, rc.Status, rc.Raw)
		return
	}
	for i := range 5 {
		r := e.seedRole(fmt.Sprintf("Contended %d", i), store.AccountingSoftwareReadOnlyGrants())
		desc := map[string]string{}
		for _, d := range []string{"from b", "from c"} {
			desc[e.submit(a, http.MethodPatch, "/admin/v1/job-roles/"+r.ID, map[string]any{"description": d})] = d
		}
		var ids []string
		for id := range desc {
			ids = append(ids, id)
		}
		won, lost, loser := race(ids[0], ids[1])
		if !strings.Contains(loser.Str("detail"), "changed") || strings.Contains(loser.Str("detail"), "already exists") {
			t.Errorf("round %d: the loser's problem = %s; want it to say the job role changed", i, loser.Raw)
		}
		e.pending(lost)
		if got := e.role(r.ID); got.Description != desc[won] || got.Version != r.Version+1 {
			t.Fatalf("round %d: role = %+v, want %q applied once", i, got, desc[won])
		}
	}
	for i := range 5 {
		// Two roles renamed to one new name, or two created with it: the
		// name goes to one of them.
		name := fmt.Sprintf("Merged %d", i)
		ro := store.AccountingSoftwareReadOnlyGrants()
		roles := map[string]store.JobRole{}
		for _, side := range []string{"Left", "Right"} {
			r := e.seedRole(fmt.Sprintf("%s %d", side, i), ro)
			roles[e.submit(a, http.MethodPatch, "/admin/v1/job-roles/"+r.ID, map[string]any{"name": name})] = r
		}
		var ids []string
		for id := range roles {
			ids = append(ids, id)
		}
		won, lost, loser := race(ids[0], ids[1])
		if !strings.Contains(loser.Str("detail"), `"`+name+`"`) {
			t.Errorf("round %d: the loser's problem = %s; want it to name %q", i, loser.Raw, name)
		}
		e.pending(lost)
		if e.role(roles[won].ID).Name != name || e.role(roles[lost].ID).Name != roles[lost].Name || e.countRoles(name) != 1 {
			t.Fatalf("round %d: after the renames %d roles are named %q", i, e.countRoles(name), name)
		}
		created := fmt.Sprintf("Created %d", i)
		body := map[string]any{"name": created, "grants": grantsRO()}
		_, lost, loser = race(e.submit(a, http.MethodPost, "/admin/v1/job-roles", body), e.submit(a, http.MethodPost, "/admin/v1/job-roles", body))
		if !strings.Contains(loser.Str("detail"), `"`+created+`" already exists`) {
			t.Errorf("round %d: the loser's problem = %s", i, loser.Raw)
		}
		e.pending(lost)
		if n := e.countRoles(created); n != 1 {
			t.Fatalf("round %d: %d roles named %q", i, n, created)
		}
	}
	for i := range 5 {
		login := fmt.Sprintf("twin-%d", i)
		body := map[string]any{"loginId": login, "displayName": "Twin"}
		won, lost, loser := race(e.submit(a, http.MethodPost, "/admin/v1/users", body), e.submit(a, http.MethodPost, "/admin/v1/users", body))
		if !strings.Contains(loser.Str("detail"), "already taken") {
			t.Errorf("round %d: the loser's problem = %s", i, loser.Raw)
		}
		e.pending(lost)
		u, err := e.st.GetUserByLogin(t.Context(), login)
		if err != nil {
			t.Fatal(err)
		}
		if apr, _ := e.st.GetApproval(t.Context(), won); apr.Status != store.ApprovalApproved || u.Status != store.UserAwaitingSignIn {
			t.Fatalf("round %d: winner %s, user %+v", i, apr.Status, u)
		}
	}
}

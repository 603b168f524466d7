package admin_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/bankfeed/bankfeed/store"
)

// TestAssignmentNeedsBothViewRights (issue 10, finding 6): rule 3 holds at
// assignment too — an accounting software user's job role must select View
// on Account summary and on Manage statements. Submitting such an
// assignment is a 422 naming the rule, and so is approving one whose role
// lost a right after submission; neither records or changes anything.
func TestAssignmentNeedsBothViewRights(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	maker := e.newUser(e.bg1, "maker", store.AdminGrants())
	checker := e.newUser(e.bg1, "checker", store.AdminGrants())
	app := e.seedSoftwareUser("books-app")
	grp := e.seedAccountGroup("Books", e.acc1)
	summaryOnly := e.seedRole("Summary only", store.Grants{{Permission: store.PermAccountSummary, Rights: store.Rights(store.RightView)}})
	statementsOnly := e.seedRole("Statements only", store.Grants{{Permission: store.PermManageStatements, Rights: store.Rights(store.RightView)}})
	nothing := e.seedRole("Nothing", store.Grants{})

	noAssignment := func() {
		t.Helper()
		if a, err := e.st.UserAssignment(ctx, app.ID, ""); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("the software user's assignment = %+v, %v; want none", a, err)
		}
	}
	for _, c := range []struct {
		role    store.JobRole
		missing string
	}{
		{summaryOnly, "Manage statements"},
		{statementsOnly, "Account summary"},
		{nothing, "Account summary"},
	} {
		r := e.call(maker.Token, http.MethodPost, "/admin/v1/assignments", map[string]any{"userId": app.ID, "jobRoleId": c.role.ID, "accountGroupId": grp.ID})
		if r.Status != http.StatusUnprocessableEntity || r.Header.Get("Content-Type") != "application/problem+json" ||
			r.Str("errors.0.field") != "jobRoleId" ||
			!strings.Contains(r.Str("detail"), `must include "`+c.missing+`" with the View right`) ||
			!strings.Contains(r.Str("detail"), "accounting software user") {
			t.Fatalf("assigning %q = %d %s; want 422 naming rule 3", c.role.Name, r.Status, r.Raw)
		}
	}
	if n := e.countApprovals(); n != 0 {
		t.Fatalf("%d requests recorded after refused submissions", n)
	}
	noAssignment()

	// Valid when submitted; the role loses Manage statements before the
	// assignment is approved (it was not yet held by the software user, so
	// the role edit itself was allowed).
	role := e.seedRole("Books reader", store.AccountingSoftwareReadOnlyGrants())
	assign := e.submit(maker, http.MethodPost, "/admin/v1/assignments", map[string]any{"userId": app.ID, "jobRoleId": role.ID, "accountGroupId": grp.ID})
	e.approve(checker, e.submit(maker, http.MethodPatch, "/admin/v1/job-roles/"+role.ID, map[string]any{"grants": []map[string]any{
		{"permission": "account_summary", "rights": []string{"View"}}}}))
	r := e.refused(checker, assign, http.StatusUnprocessableEntity, `must include "Manage statements" with the View right`)
	if r.Str("errors.0.field") != "jobRoleId" {
		t.Fatalf("refusal names %q, want jobRoleId: %s", r.Str("errors.0.field"), r.Raw)
	}
	noAssignment()

	// An ordinary user may be given any valid role.
	person := e.newUser(e.bg1, "clerk", store.Grants{})
	e.approve(checker, e.submit(maker, http.MethodPost, "/admin/v1/assignments", map[string]any{"userId": person.ID, "jobRoleId": summaryOnly.ID, "accountGroupId": grp.ID}))
	// And the software user the article's role.
	full := e.seedRole("Books reader, both", store.AccountingSoftwareReadOnlyGrants())
	e.approve(checker, e.submit(maker, http.MethodPost, "/admin/v1/assignments", map[string]any{"userId": app.ID, "jobRoleId": full.ID, "accountGroupId": grp.ID}))
	if a, err := e.st.UserAssignment(ctx, app.ID, ""); err != nil || a.JobRoleID != full.ID {
		t.Fatalf("assignment = %+v, %v", a, err)
	}
}

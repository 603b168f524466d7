package admin_test

import (
	"net/http"
	"testing"

	"github.com/bankfeed/bankfeed/store"
)

// TestContext: rights come from the assignment of the chosen context; an
// entity context without its own assignment falls back to the overview.
func TestContext(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	le2, err := e.st.CreateLegalEntity(ctx, store.LegalEntity{ID: "bg1-le2", BusinessGroupID: e.bg1, Name: "Second Inc."})
	if err != nil {
		t.Fatal(err)
	}
	a := e.newUser(e.bg1, "admin-a", store.AdminGrants())
	none, err := e.st.CreateJobRole(ctx, store.JobRole{BusinessGroupID: e.bg1, Name: "Nothing", Grants: store.Grants{}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.PutAssignment(ctx, store.Assignment{BusinessGroupID: e.bg1, LegalEntityID: le2.ID, UserID: a.ID, JobRoleID: none.ID, AccountGroupID: e.adminGroup1}); err != nil {
		t.Fatal(err)
	}
	e.must(http.StatusOK, a.Token, http.MethodGet, "/admin/v1/users", nil)
	e.must(http.StatusOK, a.Token, http.MethodGet, "/admin/v1/users", nil, "X-Legal-Entity-ID", e.le1) // falls back
	e.must(http.StatusForbidden, a.Token, http.MethodGet, "/admin/v1/users?context="+le2.ID, nil)
	e.must(http.StatusForbidden, a.Token, http.MethodGet, "/admin/v1/users", nil, "X-Legal-Entity-ID", le2.ID)
	e.must(http.StatusNotFound, a.Token, http.MethodGet, "/admin/v1/users?context=le_nope", nil)

	// A request made in an entity context records it, and an assignment
	// made there defaults to it.
	b := e.newUser(e.bg1, "admin-b", store.AdminGrants())
	// In le1's context only le1's users can be assigned (issue 10, finding 4).
	if _, err := e.st.UpdateUser(ctx, b.ID, func(u store.User) (store.User, error) { u.LegalEntityID = e.le1; return u, nil }); err != nil {
		t.Fatal(err)
	}
	r := e.must(http.StatusAccepted, a.Token, http.MethodPost, "/admin/v1/assignments",
		map[string]any{"userId": b.ID, "jobRoleId": b.RoleID, "accountGroupId": e.adminGroup1}, "X-Legal-Entity-ID", e.le1)
	if r.Str("legalEntityId") != e.le1 || r.Str("payload.legalEntityId") != e.le1 {
		t.Fatalf("request = %s", r.Raw)
	}
	e.approve(b, r.Str("id"))
	if as, err := e.st.UserAssignment(ctx, b.ID, e.le1); err != nil || as.JobRoleID != b.RoleID {
		t.Fatalf("entity assignment = %+v, %v", as, err)
	}
}

func TestPagingAndNotifications(t *testing.T) {
	e := newEnv(t)
	a := e.newUser(e.bg1, "admin-a", store.AdminGrants())
	for _, n := range []string{"u1", "u2", "u3", "u4"} {
		e.newUser(e.bg1, n, nil)
	}
	seen := map[string]bool{}
	path := "/admin/v1/users?limit=2"
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		r := e.must(http.StatusOK, a.Token, http.MethodGet, path, nil)
		for _, it := range r.Items() {
			if seen[it["id"].(string)] {
				t.Fatalf("user %s twice", it["id"])
			}
			seen[it["id"].(string)] = true
		}
		if r.Str("next") == "" {
			break
		}
		path = "/admin/v1/users?limit=2&after=" + r.Str("next")
	}
	if len(seen) != 5 {
		t.Fatalf("paged through %d users, want 5", len(seen))
	}

	e.must(http.StatusAccepted, a.Token, http.MethodPost, "/admin/v1/job-roles", map[string]any{"name": "R", "grants": grantsRO()})
	ns := e.must(http.StatusOK, a.Token, http.MethodGet, "/admin/v1/notifications?unread=true", nil).Items()
	if len(ns) != 1 || ns[0]["read"] != false {
		t.Fatalf("unread = %v", ns)
	}
	e.must(http.StatusNoContent, a.Token, http.MethodPost, "/admin/v1/notifications/"+ns[0]["id"].(string)+"/read", nil)
	if ns := e.must(http.StatusOK, a.Token, http.MethodGet, "/admin/v1/notifications?unread=true", nil).Items(); len(ns) != 0 {
		t.Fatalf("unread after marking = %v", ns)
	}
	// Someone else's notification is not found.
	other := e.newUser(e.bg1, "other", nil)
	if r := e.call(other.Token, http.MethodPost, "/admin/v1/notifications/"+ns0(t, e, a)+"/read", nil); r.Status != http.StatusNotFound {
		t.Fatalf("marking another's = %d", r.Status)
	}
}

func ns0(t *testing.T, e *env, p person) string {
	t.Helper()
	return e.notifications(p)[0]["id"].(string)
}

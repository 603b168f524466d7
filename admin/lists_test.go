package admin_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/bankfeed/bankfeed/internal/apihttp/apitest"
	"github.com/bankfeed/bankfeed/store"
)

func TestListAssignmentsByUser(t *testing.T) {
	e := newEnv(t)
	a := e.newUser(e.bg1, "admin-a", store.AdminGrants())
	b := e.newUser(e.bg1, "admin-b", store.AdminGrants())
	users := func(path string) map[string]int {
		t.Helper()
		r := e.must(http.StatusOK, a.Token, http.MethodGet, path, nil)
		if _, ok := r.Body["items"].([]any); !ok {
			t.Fatalf("%s: items = %s", path, r.Raw)
		}
		n := map[string]int{}
		for _, it := range r.Items() {
			n[it["userId"].(string)]++
		}
		return n
	}
	if n := users("/admin/v1/assignments"); n[a.ID] != 1 || n[b.ID] != 1 {
		t.Errorf("all assignments by user = %v", n)
	}
	if n := users("/admin/v1/assignments?userId=" + b.ID); len(n) != 1 || n[b.ID] != 1 {
		t.Errorf("?userId=B = %v", n)
	}
	if n := users("/admin/v1/assignments?userId=nobody"); len(n) != 0 {
		t.Errorf("?userId=nobody = %v", n)
	}
}

// loginsOf lists the login IDs a users list returns.
func (e *env) loginsOf(token, path string) []string {
	e.t.Helper()
	var out []string
	for _, it := range e.must(http.StatusOK, token, http.MethodGet, path, nil).Items() {
		out = append(out, it["loginId"].(string))
	}
	slices.Sort(out)
	return out
}

func TestListUsersFilters(t *testing.T) {
	e := newEnv(t)
	a := e.newUser(e.bg1, "admin-a", store.AdminGrants())
	b := e.newUser(e.bg1, "admin-b", store.AdminGrants())
	e.seedSoftwareUser("books-app")
	e.newUser(e.bg2, "other-group", store.AdminGrants())
	gone := e.newUser(e.bg1, "gone", nil)
	e.approve(b, e.submit(a, http.MethodDelete, "/admin/v1/users/"+gone.ID, nil))
	locked := e.newUser(e.bg1, "locked", nil)
	e.approve(b, e.submit(a, http.MethodPost, "/admin/v1/users/"+locked.ID+"/lock", nil))

	for path, want := range map[string][]string{
		"/admin/v1/users":                               {"admin-a", "admin-b", "books-app", "locked"},
		"/admin/v1/users?includeDeleted=true":           {"admin-a", "admin-b", "books-app", "gone", "locked"},
		"/admin/v1/users?accountingSoftware=true":       {"books-app"},
		"/admin/v1/users?accountingSoftware=false":      {"admin-a", "admin-b", "locked"},
		"/admin/v1/users?status=locked":                 {"locked"},
		"/admin/v1/users?status=DELETED":                {"gone"},
		"/admin/v1/users?status=active&limit=1000":      {"admin-a", "admin-b", "books-app"},
		"/admin/v1/users?status=awaiting_first_sign_in": nil,
	} {
		if got := e.loginsOf(a.Token, path); !slices.Equal(got, want) {
			t.Errorf("%s = %v, want %v", path, got, want)
		}
	}
	for _, path := range []string{"/admin/v1/users?status=asleep", "/admin/v1/users?accountingSoftware=maybe",
		"/admin/v1/users?includeDeleted=2", "/admin/v1/users?limit=0"} {
		apitest.ProblemIs(t, e.call(a.Token, http.MethodGet, path, nil), http.StatusBadRequest, "bad-request", "")
	}
}

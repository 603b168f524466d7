package admin_test

import (
	"net/http"
	"testing"

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
		for _, it := range r.items() {
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

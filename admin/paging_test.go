package admin_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/bankfeed/bankfeed/store"
)

// walk follows ?after= from path with ?limit=limit; every page but the last
// holds exactly limit items and the last has no next (issue 10 §6).
func (e *env) walk(token, path string, limit int) []string {
	e.t.Helper()
	var out []string
	after := ""
	for i := 0; ; i++ {
		if i > 100 {
			e.t.Fatalf("walk %s: no end", path)
		}
		u, err := url.Parse(path)
		if err != nil {
			e.t.Fatal(err)
		}
		q := u.Query()
		q.Set("limit", fmt.Sprint(limit))
		if after != "" {
			q.Set("after", after)
		}
		u.RawQuery = q.Encode()
		r := e.must(http.StatusOK, token, http.MethodGet, u.String(), nil)
		got := ids(r)
		out = append(out, got...)
		next := r.str("next")
		if next == "" {
			if len(got) > limit {
				e.t.Fatalf("walk %s: last page holds %d > %d", path, len(got), limit)
			}
			return out
		}
		if len(got) != limit {
			e.t.Fatalf("walk %s: page %d holds %d items with next %q, want %d", path, i, len(got), next, limit)
		}
		after = next
	}
}

func TestApprovalsPendingPaging(t *testing.T) {
	e := newEnv(t)
	a := e.newUser(e.bg1, "pager-a", store.AdminGrants())
	b := e.newUser(e.bg1, "pager-b", store.AdminGrants())
	var decidable []string // a's pending requests: what b may decide
	for i := range 9 {
		aID := e.must(http.StatusAccepted, a.Token, http.MethodPost, "/admin/v1/job-roles", map[string]any{"name": fmt.Sprintf("A%d", i), "grants": grantsRO()}).str("id")
		e.must(http.StatusAccepted, b.Token, http.MethodPost, "/admin/v1/job-roles", map[string]any{"name": fmt.Sprintf("B%d", i), "grants": grantsRO()})
		e.must(http.StatusAccepted, b.Token, http.MethodPost, "/admin/v1/job-roles", map[string]any{"name": fmt.Sprintf("BB%d", i), "grants": grantsRO()})
		switch i % 3 {
		case 0:
			decidable = append(decidable, aID)
		case 1:
			e.must(http.StatusOK, a.Token, http.MethodPost, "/admin/v1/approvals/"+aID+"/cancel", nil)
		case 2:
			e.must(http.StatusOK, b.Token, http.MethodPost, "/admin/v1/approvals/"+aID+"/reject", map[string]any{"reason": "no"})
		}
	}
	for _, limit := range []int{1, 2, 3, 5} {
		got := e.walk(b.Token, "/admin/v1/approvals?status=pending", limit)
		slices.Sort(got)
		want := slices.Clone(decidable)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("limit %d: pending walk = %v, want %v", limit, got, want)
		}
	}
	// Every approval of the group the caller may view, once.
	if got := e.walk(b.Token, "/admin/v1/approvals", 4); len(got) != 27 {
		t.Fatalf("walk of all approvals = %d items, want 27", len(got))
	}
}

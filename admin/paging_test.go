package admin_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/bankfeed/bankfeed/internal/apihttp/apitest"
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
		next := r.Str("next")
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
		aID := e.must(http.StatusAccepted, a.Token, http.MethodPost, "/admin/v1/job-roles", map[string]any{"name": fmt.Sprintf("A%d", i), "grants": grantsRO()}).Str("id")
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

// TestUnpagedListsPaged: /admin/v1/connections and the ops organisation
// lists are keyset-paged like the other lists (issue 10 §6).
func TestUnpagedListsPaged(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	a := e.newUser(e.bg1, "lister", store.AdminGrants())
	cl, err := e.st.CreateClient(ctx, store.Client{ID: "ledgerly", Name: "Ledgerly"})
	if err != nil {
		t.Fatal(err)
	}
	var consents []string
	for i := range 3 {
		app := e.seedSoftwareUser(fmt.Sprintf("books-%d", i))
		c := e.seedConnections(app.ID, cl.ID, store.TokenAccess, fmt.Sprintf("sig-%d", i))
		consents = append(consents, c.live.ID, c.old.ID)
	}
	groups := []string{e.bg1, e.bg2}
	for i := range 5 {
		id := fmt.Sprintf("bg-extra-%d", i)
		e.must(http.StatusCreated, e.operator, http.MethodPost, "/ops/v1/business-groups", map[string]any{"id": id, "name": id})
		groups = append(groups, id)
	}
	entities := []string{e.le1}
	for i := range 4 {
		id := fmt.Sprintf("le-extra-%d", i)
		e.must(http.StatusCreated, e.operator, http.MethodPost, "/ops/v1/legal-entities", map[string]any{"id": id, "businessGroupId": e.bg1, "name": id})
		entities = append(entities, id)
	}
	var agreements []string
	for i := range 4 {
		agreements = append(agreements, e.must(http.StatusCreated, e.operator, http.MethodPost, "/ops/v1/service-agreements",
			map[string]any{"legalEntityId": e.le1, "number": fmt.Sprintf("SA-%d", i)}).Str("id"))
	}
	same := func(what string, got, want []string) {
		t.Helper()
		got, want = slices.Clone(got), slices.Clone(want)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("%s walk = %v, want %v", what, got, want)
		}
	}
	for _, limit := range []int{1, 2, 4} {
		same("connections", e.walk(a.Token, "/admin/v1/connections", limit), consents)
		same("business groups", e.walk(e.operator, "/ops/v1/business-groups", limit), groups)
		same("legal entities", e.walk(e.operator, "/ops/v1/legal-entities?businessGroupId="+e.bg1, limit), entities)
		same("service agreements", e.walk(e.operator, "/ops/v1/service-agreements?legalEntityId="+e.le1, limit), agreements)
	}
	// ?active=true pages the standing connections only.
	var live []string
	for i := 0; i < len(consents); i += 2 {
		live = append(live, consents[i])
	}
	same("active connections", e.walk(a.Token, "/admin/v1/connections?active=true", 2), live)
	apitest.ProblemIs(t, e.call(e.operator, http.MethodGet, "/ops/v1/business-groups?limit=0", nil), http.StatusBadRequest, "bad-request", "limit")
}

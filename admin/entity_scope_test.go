package admin_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/bankfeed/bankfeed/store"
)

// entities is bg1 with a second legal entity: E1 (e.le1, holding acc1 and
// acc2) and E2 (holding accE2), each with its own Administrator acting in
// its context, and a group-level one acting in the overview.
type entities struct {
	e1, e2          string // legal entity IDs
	accE2           string
	overview        person // Administrator of the overview, a group-level user
	admin1, admin2  person // Administrator in E1's, E2's context, users of E1, E2
	user1, user2    store.User
	levelUser       store.User // a group-level user
	hdr1, hdr2, hdr []string   // the context headers of E1, E2 and the overview
}

func (e *env) seedEntities() entities {
	e.t.Helper()
	le2, err := e.st.CreateLegalEntity(e.t.Context(), store.LegalEntity{ID: "bg1-le2", BusinessGroupID: e.bg1, Name: "Second Inc."})
	if err != nil {
		e.t.Fatal(err)
	}
	x := entities{e1: e.le1, e2: le2.ID, accE2: e.seedAccount(e.bg1, le2.ID, "00012-003-1000009")}
	x.overview = e.newUser(e.bg1, "overview-admin", store.AdminGrants())
	x.admin1 = e.newEntityUser(x.e1, "e1-admin", store.AdminGrants())
	x.admin2 = e.newEntityUser(x.e2, "e2-admin", store.AdminGrants())
	x.user1 = e.seedEntityUser(x.e1, "e1-user")
	x.user2 = e.seedEntityUser(x.e2, "e2-user")
	x.levelUser = e.seedEntityUser("", "level-user")
	x.hdr1, x.hdr2 = []string{"X-Legal-Entity-ID", x.e1}, []string{"X-Legal-Entity-ID", x.e2}
	return x
}

// seedEntityUser seeds an active user of bg1 belonging to entity le ("" the
// group level), with no assignment.
func (e *env) seedEntityUser(le, login string) store.User {
	e.t.Helper()
	u, err := e.st.CreateUser(e.t.Context(), store.User{BusinessGroupID: e.bg1, LegalEntityID: le, LoginID: login,
		DisplayName: login, Status: store.UserActive})
	if err != nil {
		e.t.Fatalf("seed user: %v", err)
	}
	return u
}

// newEntityUser seeds a user of entity le of bg1 holding grants in le's
// context only (no overview assignment), with an admin token.
func (e *env) newEntityUser(le, login string, grants store.Grants) person {
	e.t.Helper()
	ctx := e.t.Context()
	u := e.seedEntityUser(le, login)
	r, err := e.st.CreateJobRole(ctx, store.JobRole{BusinessGroupID: e.bg1, Name: "role of " + login, Grants: grants})
	if err != nil {
		e.t.Fatalf("seed role: %v", err)
	}
	if _, err := e.st.PutAssignment(ctx, store.Assignment{BusinessGroupID: e.bg1, LegalEntityID: le, UserID: u.ID,
		JobRoleID: r.ID, AccountGroupID: e.adminGroup1}); err != nil {
		e.t.Fatalf("seed assignment: %v", err)
	}
	tok := e.v.Add(store.Grant{RequestID: store.NewID("req"), ClientID: "online-banking", UserID: u.ID, Scopes: []string{store.ScopeAdmin}, FirstParty: true})
	return person{ID: u.ID, Token: tok, RoleID: r.ID}
}

// TestEntityAdministratorFinding reproduces issue 10, finding 4 as stated:
// a user assigned the Administrator role in the context of one legal entity
// listed every user of the business group, and approved adding another
// entity's account to an account group. In E1's context it lists E1's
// users only, and its approval is a 403 that changes nothing.
func TestEntityAdministratorFinding(t *testing.T) {
	e := newEnv(t)
	x := e.seedEntities()

	var logins []string
	for _, it := range e.must(http.StatusOK, x.admin1.Token, http.MethodGet, "/admin/v1/users", nil, x.hdr1...).Items() {
		logins = append(logins, it["loginId"].(string))
	}
	slices.Sort(logins)
	if want := []string{"e1-admin", "e1-user"}; !slices.Equal(logins, want) {
		t.Errorf("E1's Administrator lists %v, want %v", logins, want)
	}

	grp := e.seedAccountGroup("Books", e.acc1)
	id := e.submit(x.overview, http.MethodPost, "/admin/v1/account-groups/"+grp.ID+"/accounts", map[string]any{"accountId": x.accE2})
	r := e.call(x.admin1.Token, http.MethodPost, "/admin/v1/approvals/"+id+"/approve", nil, x.hdr1...)
	if r.Status != http.StatusForbidden {
		t.Fatalf("E1's Administrator approving another entity's account = %d %s, want 403", r.Status, r.Raw)
	}
	e.pending(id)
	if g := e.group(grp.ID); !slices.Equal(g.AccountIDs, []string{e.acc1}) || g.Version != grp.Version {
		t.Fatalf("group after the refusal = %v (version %d), want unchanged", g.AccountIDs, g.Version)
	}
}

// scopeCase is one context an operation is tried in: the overview, E1's
// (where the targets are) and E2's.
type scopeCase struct {
	name string
	who  person
	hdr  []string
}

func (x entities) cases(overview person) []scopeCase {
	return []scopeCase{{"overview", overview, x.hdr}, {"E1", x.admin1, x.hdr1}, {"E2", x.admin2, x.hdr2}}
}

// seq makes login IDs and names unique inside one test.
type seq struct{ n int }

func (s *seq) next(prefix string) string {
	s.n++
	return prefix + "-" + string(rune('a'+s.n%26)) + string(rune('a'+s.n/26))
}

// TestEntityScopeSubmissions is finding 4's table on the maker's side:
// every /admin/v1 operation touching E1's users or accounts, tried in the
// overview, in E1's context and in E2's. The overview and E1 may; E2 gets
// the status below and nothing is recorded or changed.
func TestEntityScopeSubmissions(t *testing.T) {
	// op seeds its own targets in E1 and returns the request, the status
	// expected of a context that does not reach them, and what must hold
	// after such a refusal beyond "no request recorded".
	type op func(e *env, x entities, s *seq) (method, path string, body any, ok, refused int, unchanged func())
	userOp := func(action string, status store.UserStatus) op {
		return func(e *env, x entities, s *seq) (string, string, any, int, int, func()) {
			u := e.seedEntityUserWithStatus(x.e1, s.next("u"), status)
			method, path := userActionRequest(action, u.ID)
			return method, path, nil, http.StatusAccepted, http.StatusNotFound, func() { e.userUnchanged(u) }
		}
	}
	ops := map[string]op{
		"lock user":           userOp("lock", store.UserActive),
		"unlock user":         userOp("unlock", store.UserLocked),
		"reset user password": userOp("reset-password", store.UserActive),
		"delete user":         userOp("delete", store.UserActive),
		"edit user": func(e *env, x entities, s *seq) (string, string, any, int, int, func()) {
			u := e.seedEntityUser(x.e1, s.next("u"))
			// The handler only explains what cannot change: a 422 when reached.
			return http.MethodPatch, "/admin/v1/users/" + u.ID, map[string]any{"accountingSoftware": true},
				http.StatusUnprocessableEntity, http.StatusNotFound, func() { e.userUnchanged(u) }
		},
		"create user of E1": func(e *env, x entities, s *seq) (string, string, any, int, int, func()) {
			return http.MethodPost, "/admin/v1/users", map[string]any{"loginId": s.next("new"), "displayName": "New", "legalEntityId": x.e1},
				http.StatusAccepted, http.StatusUnprocessableEntity, func() {}
		},
		"assign E1's user a group of E1's accounts": func(e *env, x entities, s *seq) (string, string, any, int, int, func()) {
			u := e.seedEntityUser(x.e1, s.next("u"))
			g := e.seedAccountGroup(s.next("g"), e.acc1)
			return http.MethodPost, "/admin/v1/assignments", map[string]any{"userId": u.ID, "jobRoleId": x.admin1.RoleID, "accountGroupId": g.ID, "legalEntityId": x.e1},
				http.StatusAccepted, http.StatusNotFound, func() { e.noAssignments(u.ID) }
		},
		"create a group of E1's account": func(e *env, x entities, s *seq) (string, string, any, int, int, func()) {
			return http.MethodPost, "/admin/v1/account-groups", map[string]any{"name": s.next("g"), "accountIds": []string{e.acc1}},
				http.StatusAccepted, http.StatusUnprocessableEntity, func() {}
		},
		"replace a group's accounts adding E1's": func(e *env, x entities, s *seq) (string, string, any, int, int, func()) {
			g := e.seedAccountGroup(s.next("g"))
			return http.MethodPatch, "/admin/v1/account-groups/" + g.ID, map[string]any{"accountIds": []string{e.acc1}},
				http.StatusAccepted, http.StatusUnprocessableEntity, func() { e.groupUnchanged(g) }
		},
		"add E1's account to a group": func(e *env, x entities, s *seq) (string, string, any, int, int, func()) {
			g := e.seedAccountGroup(s.next("g"))
			return http.MethodPost, "/admin/v1/account-groups/" + g.ID + "/accounts", map[string]any{"accountId": e.acc1},
				http.StatusAccepted, http.StatusUnprocessableEntity, func() { e.groupUnchanged(g) }
		},
		"remove E1's account from a group": func(e *env, x entities, s *seq) (string, string, any, int, int, func()) {
			g := e.seedAccountGroup(s.next("g"), e.acc1, x.accE2)
			return http.MethodDelete, "/admin/v1/account-groups/" + g.ID + "/accounts/" + e.acc1, nil,
				http.StatusAccepted, http.StatusForbidden, func() { e.groupUnchanged(g) }
		},
		"delete a group holding E1's account": func(e *env, x entities, s *seq) (string, string, any, int, int, func()) {
			g := e.seedAccountGroup(s.next("g"), e.acc1)
			return http.MethodDelete, "/admin/v1/account-groups/" + g.ID, nil,
				http.StatusAccepted, http.StatusForbidden, func() { e.groupUnchanged(g) }
		},
		"revoke E1's user's connection": func(e *env, x entities, s *seq) (string, string, any, int, int, func()) {
			u := e.seedEntityUser(x.e1, s.next("app"))
			cn, err := e.st.CreateConsent(e.t.Context(), store.Consent{ID: store.NewID("cns"), UserID: u.ID, ClientID: "ledgerly",
				Scopes: []string{"accounts.read"}, GrantedAt: e.now})
			if err != nil {
				e.t.Fatal(err)
			}
			return http.MethodDelete, "/admin/v1/connections/" + cn.ID, nil, http.StatusNoContent, http.StatusNotFound, func() {
				if got, err := e.st.GetConsent(e.t.Context(), cn.ID); err != nil || !got.RevokedAt.IsZero() {
					e.t.Errorf("connection after the refusal = %+v, %v; want standing", got, err)
				}
			}
		},
	}
	for name, o := range ops {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			x := e.seedEntities()
			if _, err := e.st.CreateClient(t.Context(), store.Client{ID: "ledgerly", Name: "Ledgerly"}); err != nil {
				t.Fatal(err)
			}
			s := &seq{}
			for _, c := range x.cases(x.overview) {
				method, path, body, ok, refused, unchanged := o(e, x, s)
				want := ok
				if c.name == "E2" {
					want = refused
				}
				before := e.countApprovals()
				r := e.call(c.who.Token, method, path, body, c.hdr...)
				if r.Status != want {
					t.Fatalf("in %s: %s %s = %d %s, want %d", c.name, method, path, r.Status, r.Raw, want)
				}
				if want == refused {
					if n := e.countApprovals(); n != before {
						t.Errorf("in %s: %d request(s) recorded by a refusal", c.name, n-before)
					}
					unchanged()
				}
			}
		})
	}
}

func (e *env) userUnchanged(u store.User) {
	e.t.Helper()
	got, err := e.st.GetUser(e.t.Context(), u.ID)
	if err != nil || got.Version != u.Version || got.Status != u.Status || got.PasswordHash != u.PasswordHash {
		e.t.Errorf("user %s after the refusal = %+v, %v; want unchanged", u.LoginID, got, err)
	}
}

func (e *env) groupUnchanged(g store.AccountGroup) {
	e.t.Helper()
	if got := e.group(g.ID); got.Version != g.Version || !slices.Equal(got.AccountIDs, g.AccountIDs) {
		e.t.Errorf("group %s after the refusal = %v (version %d), want %v (version %d)", g.Name, got.AccountIDs, got.Version, g.AccountIDs, g.Version)
	}
}

func (e *env) noAssignments(userID string) {
	e.t.Helper()
	as, _, err := e.st.ListAssignments(e.t.Context(), e.bg1, store.Page{Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, a := range as {
		if a.UserID == userID {
			e.t.Errorf("user %s was assigned %+v", userID, a)
		}
	}
}

// TestEntityScopeDecisions is finding 4's table on the checker's side: a
// request the overview's maker submitted about E1's users or accounts,
// decided by a checker in the overview, in E1's context and in E2's. The
// overview and E1 may approve; E2's approval and rejection are 403s that
// leave the request pending and its target unchanged.
func TestEntityScopeDecisions(t *testing.T) {
	// req seeds targets in E1, submits the request as maker and returns
	// its ID and what must hold after a refusal.
	type req func(e *env, x entities, s *seq, maker person) (id string, unchanged func())
	userReq := func(action string, status store.UserStatus) req {
		return func(e *env, x entities, s *seq, maker person) (string, func()) {
			u := e.seedEntityUserWithStatus(x.e1, s.next("u"), status)
			method, path := userActionRequest(action, u.ID)
			return e.submit(maker, method, path, nil), func() { e.userUnchanged(u) }
		}
	}
	reqs := map[string]req{
		"lock user":           userReq("lock", store.UserActive),
		"unlock user":         userReq("unlock", store.UserLocked),
		"reset user password": userReq("reset-password", store.UserActive),
		"delete user":         userReq("delete", store.UserActive),
		"create user of E1": func(e *env, x entities, s *seq, maker person) (string, func()) {
			login := s.next("new")
			return e.submit(maker, http.MethodPost, "/admin/v1/users", map[string]any{"loginId": login, "displayName": "New", "legalEntityId": x.e1}), func() {
				if _, err := e.st.GetUserByLogin(e.t.Context(), login); err == nil {
					e.t.Errorf("user %s created by a refused approval", login)
				}
			}
		},
		"assign in E1's context": func(e *env, x entities, s *seq, maker person) (string, func()) {
			u := e.seedEntityUser(x.e1, s.next("u"))
			g := e.seedAccountGroup(s.next("g"), e.acc1)
			return e.submit(maker, http.MethodPost, "/admin/v1/assignments",
				map[string]any{"userId": u.ID, "jobRoleId": x.admin1.RoleID, "accountGroupId": g.ID, "legalEntityId": x.e1}), func() { e.noAssignments(u.ID) }
		},
		"create a group of E1's account": func(e *env, x entities, s *seq, maker person) (string, func()) {
			name := s.next("g")
			return e.submit(maker, http.MethodPost, "/admin/v1/account-groups", map[string]any{"name": name, "accountIds": []string{e.acc1}}), func() {
				for _, g := range e.groups() {
					if g.Name == name {
						e.t.Errorf("group %s created by a refused approval", name)
					}
				}
			}
		},
		"add E1's account to a group": func(e *env, x entities, s *seq, maker person) (string, func()) {
			g := e.seedAccountGroup(s.next("g"), x.accE2)
			return e.submit(maker, http.MethodPost, "/admin/v1/account-groups/"+g.ID+"/accounts", map[string]any{"accountId": e.acc1}), func() { e.groupUnchanged(g) }
		},
		"remove E1's account from a group": func(e *env, x entities, s *seq, maker person) (string, func()) {
			g := e.seedAccountGroup(s.next("g"), e.acc1)
			return e.submit(maker, http.MethodDelete, "/admin/v1/account-groups/"+g.ID+"/accounts/"+e.acc1, nil), func() { e.groupUnchanged(g) }
		},
		"delete a group holding E1's account": func(e *env, x entities, s *seq, maker person) (string, func()) {
			g := e.seedAccountGroup(s.next("g"), e.acc1)
			return e.submit(maker, http.MethodDelete, "/admin/v1/account-groups/"+g.ID, nil), func() { e.groupUnchanged(g) }
		},
	}
	for name, submit := range reqs {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			x := e.seedEntities()
			checker := e.newUser(e.bg1, "overview-checker", store.AdminGrants())
			s := &seq{}
			for _, c := range x.cases(checker) {
				id, unchanged := submit(e, x, s, x.overview)
				if c.name != "E2" {
					e.must(http.StatusOK, c.who.Token, http.MethodPost, "/admin/v1/approvals/"+id+"/approve", nil, c.hdr...)
					continue
				}
				for _, d := range []struct {
					verb string
					body any
				}{{"approve", nil}, {"reject", map[string]any{"reason": "not ours"}}} {
					r := e.call(c.who.Token, http.MethodPost, "/admin/v1/approvals/"+id+"/"+d.verb, d.body, c.hdr...)
					if r.Status != http.StatusForbidden || r.Str("type") != "urn:bankfeed:problem:out-of-context" {
						t.Fatalf("in E2: %s = %d %s, want 403 out-of-context", d.verb, r.Status, r.Raw)
					}
				}
				e.pending(id)
				unchanged()
			}
		})
	}
}

// TestEntityScopeReads: what each context is shown — the overview
// everything of the group, E1's context E1's users, accounts, their
// assignments, connections and requests, and E1's accounts of a group
// holding both entities'; E2's context E2's. The audit log is read in the
// overview only.
func TestEntityScopeReads(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	x := e.seedEntities()
	if _, err := e.st.CreateClient(ctx, store.Client{ID: "ledgerly", Name: "Ledgerly"}); err != nil {
		t.Fatal(err)
	}
	both := e.seedAccountGroup("Both", e.acc1, x.accE2)
	asg, err := e.st.PutAssignment(ctx, store.Assignment{BusinessGroupID: e.bg1, LegalEntityID: x.e1, UserID: x.user1.ID, JobRoleID: x.admin1.RoleID, AccountGroupID: e.adminGroup1})
	if err != nil {
		t.Fatal(err)
	}
	// A software user of E1 holds the connection (the list shows software users' only).
	app := e.seedEntityUserSoftware(x.e1, "e1-app")
	appConn, err := e.st.CreateConsent(ctx, store.Consent{ID: store.NewID("cns"), UserID: app.ID, ClientID: "ledgerly", Scopes: []string{"accounts.read"}, GrantedAt: e.now})
	if err != nil {
		t.Fatal(err)
	}
	apr := e.submit(x.overview, http.MethodPost, "/admin/v1/users/"+x.user1.ID+"/lock", nil)

	ids := func(c scopeCase, path, field string) []string {
		t.Helper()
		var out []string
		for _, it := range e.must(http.StatusOK, c.who.Token, http.MethodGet, path, nil, c.hdr...).Items() {
			out = append(out, it[field].(string))
		}
		return out
	}
	for _, c := range x.cases(x.overview) {
		reach1 := c.name != "E2"
		if got := slices.Contains(ids(c, "/admin/v1/users", "id"), x.user1.ID); got != reach1 {
			t.Errorf("in %s: E1's user listed = %v", c.name, got)
		}
		if got := slices.Contains(ids(c, "/admin/v1/users", "id"), x.levelUser.ID); got != (c.name == "overview") {
			t.Errorf("in %s: the group-level user listed = %v", c.name, got)
		}
		if got := slices.Contains(ids(c, "/admin/v1/users", "id"), x.user2.ID); got != (c.name != "E1") {
			t.Errorf("in %s: E2's user listed = %v", c.name, got)
		}
		if got := slices.Contains(ids(c, "/admin/v1/accounts", "id"), e.acc1); got != reach1 {
			t.Errorf("in %s: E1's account listed = %v", c.name, got)
		}
		if got := slices.Contains(ids(c, "/admin/v1/assignments", "id"), asg.ID); got != reach1 {
			t.Errorf("in %s: E1's user's assignment listed = %v", c.name, got)
		}
		if got := slices.Contains(ids(c, "/admin/v1/connections", "id"), appConn.ID); got != reach1 {
			t.Errorf("in %s: E1's software user's connection listed = %v", c.name, got)
		}
		if got := slices.Contains(ids(c, "/admin/v1/approvals", "id"), apr); got != reach1 {
			t.Errorf("in %s: the request about E1's user listed = %v", c.name, got)
		}
		want := map[bool]int{true: http.StatusOK, false: http.StatusNotFound}[reach1]
		for _, path := range []string{"/admin/v1/users/" + x.user1.ID, "/admin/v1/assignments/" + asg.ID, "/admin/v1/approvals/" + apr} {
			e.must(want, c.who.Token, http.MethodGet, path, nil, c.hdr...)
		}
		r := e.must(http.StatusOK, c.who.Token, http.MethodGet, "/admin/v1/account-groups/"+both.ID, nil, c.hdr...)
		var got []string
		for _, id := range r.Get("accountIds").([]any) {
			got = append(got, id.(string))
		}
		wantIDs := map[string][]string{"overview": both.AccountIDs, "E1": {e.acc1}, "E2": {x.accE2}}[c.name]
		if !slices.Equal(got, wantIDs) {
			t.Errorf("in %s: the group's accountIds = %v, want %v", c.name, got, wantIDs)
		}
		wantAudit := map[bool]int{true: http.StatusOK, false: http.StatusForbidden}[c.name == "overview"]
		e.must(wantAudit, c.who.Token, http.MethodGet, "/admin/v1/audit", nil, c.hdr...)
	}
}

// seedEntityUserSoftware seeds an active accounting software user of
// entity le of bg1.
func (e *env) seedEntityUserSoftware(le, login string) store.User {
	e.t.Helper()
	u, err := e.st.CreateUser(e.t.Context(), store.User{BusinessGroupID: e.bg1, LegalEntityID: le, LoginID: login,
		DisplayName: login, AccountingSoftware: true, Status: store.UserActive})
	if err != nil {
		e.t.Fatalf("seed user: %v", err)
	}
	return u
}

// TestEntityScopeRules: the rules of finding 4 one by one — a user created
// in E1's context belongs to E1 (and nothing else is accepted there); an
// assignment there is made in E1's context with a group of E1's accounts
// only; a group edit there keeps E2's members whatever the list says;
// and a checker's reach is judged on the records as they are at decision.
func TestEntityScopeRules(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	x := e.seedEntities()
	checker1 := e.newEntityUser(x.e1, "e1-checker", store.AdminGrants())
	field := func(r resp, want int, name string) {
		t.Helper()
		if r.Status != want || r.Str("errors.0.field") != name {
			t.Fatalf("%d %s; want %d on %s", r.Status, r.Raw, want, name)
		}
	}

	// Users: E1's context creates E1's users only; the overview any.
	r := e.must(http.StatusAccepted, x.admin1.Token, http.MethodPost, "/admin/v1/users", map[string]any{"loginId": "new-e1", "displayName": "N"}, x.hdr1...)
	if r.Str("payload.legalEntityId") != x.e1 {
		t.Fatalf("a user submitted in E1's context = %s, want of E1", r.Raw)
	}
	d := e.must(http.StatusOK, checker1.Token, http.MethodPost, "/admin/v1/approvals/"+r.Str("id")+"/approve", nil, x.hdr1...)
	if d.Str("result.legalEntityId") != x.e1 {
		t.Fatalf("the user created = %s, want of E1", d.Raw)
	}
	if u, err := e.st.GetUser(ctx, d.Str("result.id")); err != nil || u.LegalEntityID != x.e1 {
		t.Fatalf("stored user = %+v, %v", u, err)
	}
	for _, le := range []string{"", x.e2} {
		field(e.call(x.admin1.Token, http.MethodPost, "/admin/v1/users", map[string]any{"loginId": "new-x", "displayName": "N", "legalEntityId": le}, x.hdr1...),
			http.StatusUnprocessableEntity, "legalEntityId")
	}
	field(e.call(x.overview.Token, http.MethodPost, "/admin/v1/users", map[string]any{"loginId": "new-x", "displayName": "N", "legalEntityId": e.le2}),
		http.StatusUnprocessableEntity, "legalEntityId") // another business group's entity
	if r := e.must(http.StatusAccepted, x.overview.Token, http.MethodPost, "/admin/v1/users", map[string]any{"loginId": "new-level", "displayName": "N"}); r.Get("payload.legalEntityId") != nil {
		t.Fatalf("a user submitted in the overview = %s, want of the group level", r.Raw)
	}

	// Assignments in E1's context: that context, E1's accounts only.
	mixed := e.seedAccountGroup("Mixed", e.acc1, x.accE2)
	own := e.seedAccountGroup("Own", e.acc1)
	field(e.call(x.admin1.Token, http.MethodPost, "/admin/v1/assignments",
		map[string]any{"userId": x.user1.ID, "jobRoleId": x.admin1.RoleID, "accountGroupId": mixed.ID}, x.hdr1...), http.StatusUnprocessableEntity, "accountGroupId")
	field(e.call(x.admin1.Token, http.MethodPost, "/admin/v1/assignments",
		map[string]any{"userId": x.user1.ID, "jobRoleId": x.admin1.RoleID, "accountGroupId": own.ID, "legalEntityId": ""}, x.hdr1...), http.StatusUnprocessableEntity, "legalEntityId")
	if r := e.must(http.StatusAccepted, x.admin1.Token, http.MethodPost, "/admin/v1/assignments",
		map[string]any{"userId": x.user1.ID, "jobRoleId": x.admin1.RoleID, "accountGroupId": own.ID}, x.hdr1...); r.Str("payload.legalEntityId") != x.e1 {
		t.Fatalf("an assignment submitted in E1's context = %s, want in E1's", r.Raw)
	}
	// An overview assignment of E1's user is beyond E1's checker.
	id := e.submit(x.overview, http.MethodPost, "/admin/v1/assignments", map[string]any{"userId": x.user1.ID, "jobRoleId": x.admin1.RoleID, "accountGroupId": own.ID})
	if r := e.call(checker1.Token, http.MethodPost, "/admin/v1/approvals/"+id+"/approve", nil, x.hdr1...); r.Status != http.StatusForbidden {
		t.Fatalf("E1's checker approving an overview assignment = %d %s, want 403", r.Status, r.Raw)
	}
	e.pending(id)

	// A group edit in E1's context keeps E2's members; deleting such a group is refused.
	r = e.must(http.StatusAccepted, x.admin1.Token, http.MethodPatch, "/admin/v1/account-groups/"+mixed.ID, map[string]any{"accountIds": []string{e.acc2}}, x.hdr1...)
	want := []string{e.acc2, x.accE2}
	slices.Sort(want)
	if got := r.Get("payload.accountIds"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("the edit's accounts = %v, want %v", got, want)
	}
	e.must(http.StatusOK, checker1.Token, http.MethodPost, "/admin/v1/approvals/"+r.Str("id")+"/approve", nil, x.hdr1...)
	if g := e.group(mixed.ID); !slices.Equal(g.AccountIDs, want) {
		t.Fatalf("the group after the edit = %v, want %v", g.AccountIDs, want)
	}
	mixed = e.group(mixed.ID)
	if r := e.call(x.admin1.Token, http.MethodDelete, "/admin/v1/account-groups/"+mixed.ID, nil, x.hdr1...); r.Status != http.StatusForbidden {
		t.Fatalf("E1 deleting a group holding E2's account = %d %s, want 403", r.Status, r.Raw)
	}
	e.groupUnchanged(mixed)

	// Reach is judged at decision: a user moved to E2 after the request was
	// submitted in E1's context is beyond E1's checker.
	id = e.must(http.StatusAccepted, x.admin1.Token, http.MethodPost, "/admin/v1/users/"+x.user1.ID+"/lock", nil, x.hdr1...).Str("id")
	if _, err := e.st.UpdateUser(ctx, x.user1.ID, func(u store.User) (store.User, error) { u.LegalEntityID = x.e2; return u, nil }); err != nil {
		t.Fatal(err)
	}
	if r := e.call(checker1.Token, http.MethodPost, "/admin/v1/approvals/"+id+"/approve", nil, x.hdr1...); r.Status != http.StatusForbidden {
		t.Fatalf("E1's checker locking a user now of E2 = %d %s, want 403", r.Status, r.Raw)
	}
	e.pending(id)
}

// TestEntityScopeNotifications: a request awaits exactly the checkers who
// may decide it in some context of theirs that reaches it — the overview's
// request about E1's user awaits E1's Administrator (who decides it in E1's
// context) and not E2's; E1's request awaits the overview's Administrator.
func TestEntityScopeNotifications(t *testing.T) {
	e := newEnv(t)
	x := e.seedEntities()
	checker := e.newUser(e.bg1, "overview-checker", store.AdminGrants())
	awaits := func(p person, id string) bool {
		t.Helper()
		return hasNotification(e.notifications(p), "approval.pending", id, "")
	}
	id := e.submit(x.overview, http.MethodPost, "/admin/v1/users/"+x.user1.ID+"/lock", nil)
	if !awaits(checker, id) || !awaits(x.admin1, id) || awaits(x.admin2, id) {
		t.Errorf("the overview's request about E1's user awaits overview %v, E1 %v, E2 %v; want true, true, false",
			awaits(checker, id), awaits(x.admin1, id), awaits(x.admin2, id))
	}
	// E1's Administrator sees it among the requests to decide, in E1's context.
	r := e.must(http.StatusOK, x.admin1.Token, http.MethodGet, "/admin/v1/approvals?status=pending", nil, x.hdr1...)
	if len(r.Items()) != 1 || r.Items()[0]["id"] != id {
		t.Errorf("E1's pending list = %s, want the request", r.Raw)
	}
	e1 := e.newEntityUser(x.e1, "e1-maker", store.AdminGrants())
	id = e.must(http.StatusAccepted, e1.Token, http.MethodPost, "/admin/v1/users/"+x.user1.ID+"/reset-password", nil, x.hdr1...).Str("id")
	if !awaits(checker, id) || !awaits(x.admin1, id) || awaits(x.admin2, id) {
		t.Errorf("E1's request awaits overview %v, E1 %v, E2 %v; want true, true, false",
			awaits(checker, id), awaits(x.admin1, id), awaits(x.admin2, id))
	}
}

// seedEntityUserWithStatus seeds a user of entity le and gives it status.
func (e *env) seedEntityUserWithStatus(le, login string, status store.UserStatus) store.User {
	e.t.Helper()
	u := e.seedEntityUser(le, login)
	if status == store.UserActive {
		return u
	}
	if _, err := e.st.UpdateUser(e.t.Context(), u.ID, func(v store.User) (store.User, error) { v.Status = status; return v, nil }); err != nil {
		e.t.Fatal(err)
	}
	u, err := e.st.GetUser(e.t.Context(), u.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// userActionRequest is the method and path of a user action ("lock",
// "unlock", "reset-password" or "delete").
func userActionRequest(action, userID string) (method, path string) {
	if action == "delete" {
		return http.MethodDelete, "/admin/v1/users/" + userID
	}
	return http.MethodPost, "/admin/v1/users/" + userID + "/" + action
}

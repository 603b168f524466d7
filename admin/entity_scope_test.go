package admin_test

import (
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
	tok := e.v.add(store.Grant{RequestID: store.NewID("req"), ClientID: "online-banking", UserID: u.ID, Scopes: []string{store.ScopeAdmin}, FirstParty: true})
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
	for _, it := range e.must(http.StatusOK, x.admin1.Token, http.MethodGet, "/admin/v1/users", nil, x.hdr1...).items() {
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

package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/bankfeed/bankfeed/store"
)

// TestContextChooser: an administrator assigned in two legal entities'
// contexts chooses between them on the chooser page (POST with the CSRF
// token); the header names the context in use, and the pages then act in
// the chosen one. Only contexts the user administers can be chosen; an
// overview administrator may choose the overview or any entity; one with a
// single context is offered no chooser.
func TestContextChooser(t *testing.T) {
	ev := newEnv(t)
	ctx := t.Context()
	leB, err := ev.st.CreateLegalEntity(ctx, store.LegalEntity{ID: "bg1-leb", BusinessGroupID: ev.bg1, Name: "Maple Nord Inc."})
	if err != nil {
		t.Fatal(err)
	}
	e := ev.signIn(ev.bg1, "entity-admin", store.AdminGrants(), func(u *store.User) { u.LegalEntityID = ev.le1 })
	as, err := ev.st.UserAssignment(ctx, e.userID, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := ev.st.DeleteAssignment(ctx, as.ID); err != nil {
		t.Fatal(err)
	}
	for _, le := range []string{ev.le1, leB.ID} {
		a := as
		a.ID, a.LegalEntityID, a.Version = store.NewID("asg"), le, 0
		if _, err := ev.st.PutAssignment(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ev.st.CreateUser(ctx, store.User{BusinessGroupID: ev.bg1, LegalEntityID: leB.ID, LoginID: "nord-clerk", DisplayName: "nord-clerk",
		Status: store.UserActive}); err != nil {
		t.Fatal(err)
	}

	// Home: the first entity's context, named in the header with the way
	// to change it.
	p := e.must(http.StatusOK, e.get("/business/users"))
	if !p.has(`href="/business/context"`) || !p.has(">bg1 Inc.</a>") || p.has(">nord-clerk</td>") {
		t.Fatalf("home context: %s", p.Body)
	}
	p = e.must(http.StatusOK, e.get("/business/context"))
	if !p.has(`value="`+ev.le1+`" checked`) || !p.has(`value="`+leB.ID+`"`) || !p.has(">Maple Nord Inc.</label>") || p.has(`value="overview"`) {
		t.Fatalf("chooser: %s", p.Body)
	}
	// Without the CSRF token nothing switches.
	p = e.must(http.StatusForbidden, e.post("/business/context", url.Values{"context": {leB.ID}, "csrf": {""}}))
	if strings.Contains(p.Body, "bankfeed_console_context") {
		t.Fatalf("refused switch: %s", p.Body)
	}
	// Contexts the user does not administer are not found: the overview,
	// another business group's entity.
	e.must(http.StatusNotFound, e.post("/business/context", url.Values{"context": {"overview"}}))
	e.must(http.StatusNotFound, e.post("/business/context", url.Values{"context": {ev.le2}}))
	res := e.post("/business/context", url.Values{"context": {leB.ID}})
	if res.Status != http.StatusSeeOther || res.Location != "/business/" {
		t.Fatalf("switch: %d %q", res.Status, res.Location)
	}
	e.cookie += "; bankfeed_console_context=" + leB.ID // as the browser keeps it
	p = e.must(http.StatusOK, e.get("/business/users"))
	if !p.has(">Maple Nord Inc.</a>") || !p.has(">nord-clerk</td>") || p.has(">entity-admin</td>") {
		t.Fatalf("users in the chosen context: %s", p.Body)
	}
	// A cookie naming a context the user does not hold is ignored.
	e.cookie = strings.Replace(e.cookie, "bankfeed_console_context="+leB.ID, "bankfeed_console_context="+ev.le2, 1)
	if p = e.must(http.StatusOK, e.get("/business/users")); !p.has(">bg1 Inc.</a>") {
		t.Fatalf("another group's entity in the cookie: %s", p.Body)
	}

	// An overview administrator: the overview and every entity.
	o := ev.signIn(ev.bg1, "group-admin", store.AdminGrants())
	p = o.must(http.StatusOK, o.get("/business/context"))
	if !p.has(`value="overview" checked`) || !p.has(`value="`+ev.le1+`"`) || !p.has(`value="`+leB.ID+`"`) {
		t.Fatalf("overview administrator's chooser: %s", p.Body)
	}
	// One context only (an assignment in le1's): no chooser offered.
	one := ev.signIn(ev.bg1, "one-entity", store.AdminGrants(), func(u *store.User) { u.LegalEntityID = ev.le1 })
	as, err = ev.st.UserAssignment(ctx, one.userID, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := ev.st.DeleteAssignment(ctx, as.ID); err != nil {
		t.Fatal(err)
	}
	as.ID, as.LegalEntityID, as.Version = store.NewID("asg"), ev.le1, 0
	if _, err := ev.st.PutAssignment(ctx, as); err != nil {
		t.Fatal(err)
	}
	if p = one.must(http.StatusOK, one.get("/business/users")); p.has(`href="/business/context"`) || !p.has(`<span class="context">bg1 Inc.</span>`) {
		t.Fatalf("a single context: %s", p.Body)
	}
}

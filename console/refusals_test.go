package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/bankfeed/bankfeed/store"
)

// TestRefusalsInFrench: the rules' refusals shown on a French page are in
// French — a rule-3 refusal, the maker-checker's (one's own user, one's
// own request), a user ID taken, a decision that lost a race and one whose
// target moved — and never the rules' English detail.
func TestRefusalsInFrench(t *testing.T) {
	ev := newEnv(t)
	ctx := t.Context()
	a := ev.signIn(ev.bg1, "admin-a", store.AdminGrants())
	b := ev.signIn(ev.bg1, "admin-b", store.AdminGrants())
	a.lang, b.lang = "fr", "fr"
	full, err := ev.st.CreateJobRole(ctx, store.JobRole{BusinessGroupID: ev.bg1, Name: "Everything", Grants: store.AdminGrants()})
	if err != nil {
		t.Fatal(err)
	}
	refused := func(name string, want int, p page, french string) {
		t.Helper()
		body := p.Body
		if p.Status != want || !p.has(french) {
			t.Errorf("%s: %d, want %d with %q:\n%s", name, p.Status, want, french, body)
		}
		// The rules' English details start with these words.
		for _, english := range []string{"the job role", "you cannot", "the user ID", "the request", "the account group", "changed since"} {
			if strings.Contains(body, english) {
				t.Errorf("%s: English on the French page (%q):\n%s", name, english, body)
			}
		}
	}

	// Rule 3, checked by the server whatever the form offered.
	refused("rule 3", http.StatusUnprocessableEntity, a.post("/business/users", url.Values{"first_name": {"QuickBooks"}, "last_name": {"Sync"},
		"login": {"qbo-sync"}, "software": {"on"}, "entity": {ev.le1}, "role": {full.ID}, "group": {ev.group1}, "nonce": {"u1"}}),
		"Ce rôle ne peut pas être donné à un utilisateur Logiciel comptable")
	// A user ID taken.
	refused("login taken", http.StatusConflict, a.post("/business/users", url.Values{"first_name": {"Anne"}, "last_name": {"B"},
		"login": {"admin-b"}, "entity": {""}, "nonce": {"u2"}}),
		"Ce code d'utilisateur est déjà pris")
	// Maker-checker: not on one's own user; not deciding one's own request.
	refused("own user", http.StatusUnprocessableEntity, a.post("/business/users/"+a.userID+"/lock", url.Values{"nonce": {"l1"}}),
		"Vous ne pouvez pas faire cela à votre propre utilisateur")
	a.must(http.StatusOK, a.post("/business/account-groups/"+ev.group1, url.Values{"name": {"Books 1"}, "account": {ev.acc1}, "nonce": {"g1"}}))
	a.must(http.StatusOK, a.post("/business/account-groups/"+ev.group1, url.Values{"name": {"Books 2"}, "account": {ev.acc1}, "nonce": {"g2"}}))
	rs := ev.pending()
	if len(rs) != 2 {
		t.Fatalf("%d pending, want 2", len(rs))
	}
	first, second := rs[0].ID, rs[1].ID
	if strings.Contains(string(rs[0].Payload), "Books 2") {
		first, second = second, first
	}
	refused("own request", http.StatusForbidden, a.post("/business/approvals/"+first+"/approve", nil), "Un autre administrateur doit en décider")
	// B applies the first; the second's target moved (still pending); the
	// first again lost the race.
	b.must(http.StatusOK, b.post("/business/approvals/"+first+"/approve", nil))
	refused("target moved", http.StatusConflict, b.post("/business/approvals/"+second+"/approve", nil),
		"ce que la demande modifie a été changé ou supprimé depuis qu'elle a été soumise")
	refused("lost race", http.StatusConflict, b.post("/business/approvals/"+first+"/approve", nil),
		"la demande a été décidée ou annulée par quelqu'un d'autre entre-temps")
	if g, err := ev.st.GetAccountGroup(ctx, ev.group1); err != nil || g.Name != "Books 1" {
		t.Fatalf("group after the races: %+v, %v", g, err)
	}
}

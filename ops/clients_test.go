package ops_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/bankfeed/bankfeed/store"
)

// TestOpsClientDecision: an operator reads a client that registered itself
// (pending) and approves it, or rejects another, each audited once as a
// bank-level event; a client that is no longer pending is a 409 and a
// missing one a 404, neither audited (issue 13 §3).
func TestOpsClientDecision(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	op := e.operator
	var ids []string
	for _, name := range []string{"Booksy", "Ledgerly"} {
		c, err := e.st.CreateClient(ctx, store.Client{ID: store.NewID("cli"), Name: name, Status: store.ClientPending,
			RedirectURIs: []string{"https://vendor.example/cb"}, Scopes: []string{"openid", "accounts.read"},
			TokenEndpointAuthMethod: "private_key_jwt", RegistrationTokenHash: store.HashToken("rat-" + name),
			Registration: store.ClientRegistration{Description: "Bookkeeping", Contacts: []string{"ops@vendor.example"}, LookbackPeriod: 90}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	got := e.must(http.StatusOK, op, http.MethodGet, "/ops/v1/clients/"+ids[0], nil)
	if got.Str("status") != "pending" || got.Str("description") != "Bookkeeping" || got.Get("selfRegistered") != true ||
		strings.Contains(string(got.Raw), store.HashToken("rat-Booksy")) {
		t.Fatalf("client = %s", got.Raw)
	}
	if r := e.must(http.StatusOK, op, http.MethodPost, "/ops/v1/clients/"+ids[0]+"/approve", nil); r.Str("status") != "active" {
		t.Fatalf("approved = %s", r.Raw)
	}
	if r := e.must(http.StatusOK, op, http.MethodPost, "/ops/v1/clients/"+ids[1]+"/reject", nil); r.Str("status") != "rejected" {
		t.Fatalf("rejected = %s", r.Raw)
	}
	for _, c := range []struct{ id, verb string }{{ids[0], "reject"}, {ids[0], "approve"}, {ids[1], "approve"}} {
		if r := e.call(op, http.MethodPost, "/ops/v1/clients/"+c.id+"/"+c.verb, nil); r.Status != http.StatusConflict {
			t.Errorf("%s of a decided client = %d %s", c.verb, r.Status, r.Raw)
		}
	}
	if r := e.call(op, http.MethodPost, "/ops/v1/clients/cli_missing/approve", nil); r.Status != http.StatusNotFound {
		t.Errorf("approve of a missing client = %d %s", r.Status, r.Raw)
	}
	for i, want := range []string{store.ClientActive, store.ClientRejected} {
		c, err := e.st.GetClient(ctx, ids[i])
		if err != nil || c.Status != want {
			t.Fatalf("stored client %d: %+v, %v; want %s", i, c, err, want)
		}
	}
	for i, action := range []string{"client.approved", "client.rejected"} {
		es, _, err := e.st.ListAudit(ctx, store.AuditFilter{Action: &action}, store.Page{})
		if err != nil || len(es) != 1 || es[0].TargetID != ids[i] || es[0].ActorID != "core-banking" || es[0].BusinessGroupID != "" ||
			!strings.Contains(string(es[0].Before), `"pending"`) {
			t.Fatalf("audit %s = %+v, %v", action, es, err)
		}
	}
}

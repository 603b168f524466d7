package admin_test

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/bankfeed/bankfeed/admin"
	"github.com/bankfeed/bankfeed/notify"
	"github.com/bankfeed/bankfeed/store"
)

// TestOutboxEnqueuedWithNotifications: every notification a submission and
// a decision make has its deliveries in the outbox as soon as the request
// answers: the webhook's for each, an e-mail for a recipient with an
// address.
func TestOutboxEnqueuedWithNotifications(t *testing.T) {
	e := newEnv(t, func(c *admin.Config) { c.Outbox = &notify.Outbox{Store: c.Store, Webhook: true, Email: true} })
	a := e.newUser(e.bg1, "admin-a", store.AdminGrants())
	b := e.newUser(e.bg1, "admin-b", store.AdminGrants())
	if _, err := e.st.UpdateUser(t.Context(), a.ID, func(u store.User) (store.User, error) {
		u.Email = "admin-a@example.com"
		return u, nil
	}); err != nil {
		t.Fatal(err)
	}
	id := e.submit(a, http.MethodPost, "/admin/v1/job-roles", map[string]any{"name": "R", "grants": grantsRO()})
	e.approve(b, id)
	channels := func(p person) map[string]string {
		out := map[string]string{}
		for _, n := range e.notifications(p) {
			ds, err := e.st.ListDeliveries(t.Context(), n["id"].(string))
			if err != nil {
				t.Fatal(err)
			}
			var cs []string
			for _, d := range ds {
				if d.Status != store.DeliveryPending {
					t.Errorf("delivery %s is %s, want pending", d.ID, d.Status)
				}
				cs = append(cs, string(d.Channel))
			}
			sort.Strings(cs)
			out[n["kind"].(string)] = strings.Join(cs, ",")
		}
		return out
	}
	if got := channels(a); got["approval.submitted"] != "email,webhook" || got["approval.decided"] != "email,webhook" {
		t.Errorf("initiator's deliveries = %v; want e-mail and webhook for submitted and decided", got)
	}
	if got := channels(b); got["approval.pending"] != "webhook" {
		t.Errorf("checker's deliveries = %v; want the webhook only (no address)", got)
	}
}

// failingOutbox refuses every notification: the outbox's failure must undo
// the change that notifies.
type failingOutbox struct{}

func (failingOutbox) Enqueue(context.Context, store.Notification) error {
	return errors.New("outbox unavailable")
}

// TestOutboxFailureRollsBack: a submission whose deliveries cannot be
// written is not recorded at all (500): no request, no notification
// without its deliveries.
func TestOutboxFailureRollsBack(t *testing.T) {
	e := newEnv(t, func(c *admin.Config) { c.Outbox = failingOutbox{} })
	a := e.newUser(e.bg1, "admin-a", store.AdminGrants())
	e.newUser(e.bg1, "admin-b", store.AdminGrants())
	if r := e.send(a.Token, http.MethodPost, "/admin/v1/job-roles", map[string]any{"name": "R", "grants": grantsRO()}); r.Status != http.StatusInternalServerError {
		t.Fatalf("submission = %d, want 500: %s", r.Status, r.Raw)
	}
	if ns := e.notifications(a); len(ns) != 0 {
		t.Errorf("notifications = %v; want none", ns)
	}
	rs, _, err := e.st.ListApprovals(t.Context(), store.ApprovalFilter{BusinessGroupID: e.bg1}, store.Page{})
	if err != nil || len(rs) != 0 {
		t.Errorf("approvals = %v, %v; want none", rs, err)
	}
}

package ops_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/store"
)

// TestOpsOutbox: an operator lists the outbox's dead deliveries (and the
// pending ones), without their payloads, and retries a dead one, which is
// pending again with no attempts used and audited; a delivery that is not
// dead is a 409, a missing one a 404 (issue 11).
func TestOpsOutbox(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	op := e.operator
	t0 := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	const secretText = "Your temporary password is in the letter"
	var ids []string
	err := e.st.InTx(ctx, func(ctx context.Context) error {
		n, err := e.st.CreateNotification(ctx, store.Notification{RecipientID: "usr_r", Kind: "approval.pending", Text: "t", CreatedAt: t0})
		if err != nil {
			return err
		}
		var ds []store.Delivery
		for _, c := range []store.Channel{store.ChannelWebhook, store.ChannelEmail, store.ChannelWebhook} {
			d := store.Delivery{ID: store.NewID("dlv"), NotificationID: n.ID, Channel: c, Payload: []byte(secretText), CreatedAt: t0}
			ds, ids = append(ds, d), append(ids, d.ID)
		}
		return e.st.EnqueueDeliveries(ctx, ds)
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.ClaimDeliveries(ctx, "w1", t0, time.Minute, 10); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids[:2] {
		if err := e.st.MarkFailed(ctx, id, "w1", "webhook answered 503", t0, true); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.st.MarkFailed(ctx, ids[2], "w1", "timeout", t0.Add(time.Hour), false); err != nil {
		t.Fatal(err)
	}

	r := e.must(http.StatusOK, op, http.MethodGet, "/ops/v1/outbox?limit=1", nil)
	if strings.Contains(string(r.Raw), secretText) {
		t.Fatalf("the list shows payloads: %s", r.Raw)
	}
	first := r.Items()
	next := r.Str("next")
	if len(first) != 1 || next == "" || first[0]["status"] != "dead" || first[0]["lastError"] != "webhook answered 503" ||
		first[0]["attempts"] != float64(1) {
		t.Fatalf("first page of dead deliveries = %s", r.Raw)
	}
	second := e.must(http.StatusOK, op, http.MethodGet, "/ops/v1/outbox?limit=1&after="+next, nil)
	if items := second.Items(); len(items) != 1 || second.Str("next") != "" || items[0]["id"] == first[0]["id"] {
		t.Fatalf("second page = %s", second.Raw)
	}
	pending := e.must(http.StatusOK, op, http.MethodGet, "/ops/v1/outbox?status=PENDING", nil).Items()
	if len(pending) != 1 || pending[0]["id"] != ids[2] || pending[0]["nextAttemptAt"] != "2025-03-14T10:00:00Z" {
		t.Fatalf("pending = %v", pending)
	}
	if r := e.call(op, http.MethodGet, "/ops/v1/outbox?status=delivered", nil); r.Status != http.StatusBadRequest {
		t.Fatalf("status=delivered = %d %s", r.Status, r.Raw)
	}

	// Retry a dead one: pending, attempts 0, due at once (the server's
	// clock is the real one here).
	dead := ids[1]
	before := time.Now()
	got := e.must(http.StatusOK, op, http.MethodPost, "/ops/v1/outbox/"+dead+"/retry", nil)
	due, _ := time.Parse(time.RFC3339Nano, got.Str("nextAttemptAt"))
	if got.Str("status") != "pending" || got.Get("attempts") != float64(0) || due.Before(before.Add(-time.Second)) || due.After(time.Now()) {
		t.Fatalf("retried = %s", got.Raw)
	}
	d, err := e.st.GetDelivery(ctx, dead)
	if err != nil || d.Status != store.DeliveryPending || d.Attempts != 0 || !d.NextAttemptAt.Equal(due) {
		t.Fatalf("stored after retry = %+v, %v", d, err)
	}
	claimed, err := e.st.ClaimDeliveries(ctx, "w2", time.Now(), time.Minute, 10)
	if err != nil || !slices.ContainsFunc(claimed, func(d store.Delivery) bool { return d.ID == dead && d.Attempts == 1 }) {
		t.Fatalf("claim after retry = %+v, %v; want %s at attempt 1", claimed, err, dead)
	}
	action := "outbox.delivery_retried"
	es, _, err := e.st.ListAudit(ctx, store.AuditFilter{Action: &action}, store.Page{})
	if err != nil || len(es) != 1 || es[0].TargetID != dead || es[0].ActorID != "core-banking" || es[0].BusinessGroupID != "" ||
		!strings.Contains(string(es[0].Before), `"dead"`) || !strings.Contains(string(es[0].After), `"pending"`) {
		t.Fatalf("audit = %+v, %v", es, err)
	}

	// Not dead (pending and leased now), or missing.
	if r := e.call(op, http.MethodPost, "/ops/v1/outbox/"+dead+"/retry", nil); r.Status != http.StatusConflict {
		t.Fatalf("retry of a pending delivery = %d %s", r.Status, r.Raw)
	}
	if r := e.call(op, http.MethodPost, "/ops/v1/outbox/dlv_missing/retry", nil); r.Status != http.StatusNotFound {
		t.Fatalf("retry of a missing delivery = %d %s", r.Status, r.Raw)
	}
	if es, _, _ := e.st.ListAudit(ctx, store.AuditFilter{Action: &action}, store.Page{}); len(es) != 1 {
		t.Errorf("refused retries were audited: %d events", len(es))
	}
}

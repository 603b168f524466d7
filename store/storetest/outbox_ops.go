package storetest

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/store"
)

// testOutboxOperatorView: operators page the dead (or pending) deliveries
// by ID, and a retry makes a dead one pending again with no attempts used,
// due when asked and unleased, so the next claim sends it; only a dead one
// can be retried (issue 11).
func testOutboxOperatorView(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, ds := notifyWithDeliveries(t, s, store.ChannelWebhook, store.ChannelEmail, store.ChannelWebhook, store.ChannelWebhook)
	claimed := must(s.ClaimDeliveries(ctx, "w1", outboxT0, time.Minute, 10))(t)
	if len(claimed) != 4 {
		t.Fatalf("claimed %d, want 4", len(claimed))
	}
	// Three die (one after a second claim: attempts 2), one is delivered.
	noErr(t, s.MarkFailed(ctx, ds[0].ID, "w1", "webhook answered 500", outboxT0, true), "MarkFailed(dead)")
	noErr(t, s.MarkFailed(ctx, ds[1].ID, "w1", "550 mailbox unavailable", outboxT0, true), "MarkFailed(dead)")
	noErr(t, s.MarkFailed(ctx, ds[2].ID, "w1", "timeout", outboxT0, false), "MarkFailed")
	if again := must(s.ClaimDeliveries(ctx, "w1", outboxT0, time.Minute, 10))(t); len(again) != 1 || again[0].ID != ds[2].ID {
		t.Fatalf("second claim = %+v", again)
	}
	noErr(t, s.MarkFailed(ctx, ds[2].ID, "w1", "timeout again", outboxT0, true), "MarkFailed(dead)")
	noErr(t, s.MarkDelivered(ctx, ds[3].ID, "w1", outboxT0), "MarkDelivered")

	dead := []string{ds[0].ID, ds[1].ID, ds[2].ID}
	slices.Sort(dead)
	// Pages of two: by ID, the cursor the last ID, no next after the end.
	p1, next := must2(s.ListDeliveriesByStatus(ctx, store.DeliveryDead, store.Page{Limit: 2}))(t)
	if len(p1) != 2 || p1[0].ID != dead[0] || p1[1].ID != dead[1] || next != dead[1] {
		t.Fatalf("first page = %v next %q; want %v next %q", deliveryIDs(p1), next, dead[:2], dead[1])
	}
	p2, next := must2(s.ListDeliveriesByStatus(ctx, store.DeliveryDead, store.Page{After: next, Limit: 2}))(t)
	if len(p2) != 1 || p2[0].ID != dead[2] || next != "" {
		t.Fatalf("second page = %v next %q; want [%s] and no next", deliveryIDs(p2), next, dead[2])
	}
	if p2[0].Status != store.DeliveryDead || p2[0].LastError == "" || p2[0].Attempts == 0 {
		t.Errorf("listed dead delivery = %+v", p2[0])
	}
	if ps, _ := must2(s.ListDeliveriesByStatus(ctx, store.DeliveryPending, store.Page{}))(t); len(ps) != 0 {
		t.Errorf("pending = %v, want none", deliveryIDs(ps))
	}

	// Retry: pending, attempts 0, due at the given time, unleased.
	at := outboxT0.Add(time.Hour)
	d := must(s.RetryDelivery(ctx, ds[2].ID, at))(t)
	if d.Status != store.DeliveryPending || d.Attempts != 0 || !d.NextAttemptAt.Equal(at) || d.ClaimedBy != "" ||
		!d.ClaimedUntil.IsZero() || string(d.Payload) != string(ds[2].Payload) {
		t.Fatalf("retried = %+v", d)
	}
	if got := must(s.GetDelivery(ctx, ds[2].ID))(t); got.Status != store.DeliveryPending || got.Attempts != 0 {
		t.Fatalf("stored after retry = %+v", got)
	}
	if ps, _ := must2(s.ListDeliveriesByStatus(ctx, store.DeliveryPending, store.Page{}))(t); len(ps) != 1 || ps[0].ID != ds[2].ID {
		t.Errorf("pending after retry = %v, want [%s]", deliveryIDs(ps), ds[2].ID)
	}
	if got := must(s.ClaimDeliveries(ctx, "w2", at.Add(-time.Microsecond), time.Minute, 10))(t); len(got) != 0 {
		t.Fatalf("claimed %d before the retry's due time", len(got))
	}
	if got := must(s.ClaimDeliveries(ctx, "w2", at, time.Minute, 10))(t); len(got) != 1 || got[0].ID != ds[2].ID || got[0].Attempts != 1 {
		t.Fatalf("claim after retry = %+v; want %s at attempt 1", got, ds[2].ID)
	}

	// Only a dead delivery is retried: pending (leased now), delivered and
	// missing ones are refused and left as they were.
	_, err := s.RetryDelivery(ctx, ds[2].ID, at)
	mustBe(t, err, store.ErrConflict, "RetryDelivery(pending)")
	if got := must(s.GetDelivery(ctx, ds[2].ID))(t); got.ClaimedBy != "w2" || got.Attempts != 1 {
		t.Errorf("a refused retry changed the leased delivery: %+v", got)
	}
	_, err = s.RetryDelivery(ctx, ds[3].ID, at)
	mustBe(t, err, store.ErrConflict, "RetryDelivery(delivered)")
	_, err = s.RetryDelivery(ctx, "dlv_missing", at)
	mustBe(t, err, store.ErrNotFound, "RetryDelivery(missing)")

	// Two operators retrying one dead delivery at once: one succeeds.
	var wg sync.WaitGroup
	var mu sync.Mutex
	won, lost := 0, 0
	for range 4 {
		wg.Go(func() {
			_, err := s.RetryDelivery(context.WithoutCancel(ctx), ds[0].ID, at)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won++
			case isConflict(err):
				lost++
			default:
				t.Errorf("concurrent RetryDelivery: %v", err)
			}
		})
	}
	wg.Wait()
	if won != 1 || lost != 3 {
		t.Errorf("concurrent retries: %d succeeded, %d refused; want 1 and 3", won, lost)
	}
}

func deliveryIDs(ds []store.Delivery) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}

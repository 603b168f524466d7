package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/store"
)

// outboxT0 is the outbox tests' clock: the store's own clock plays no part
// in claiming, which takes now from the worker.
var outboxT0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// notifyWithDeliveries creates a notification and its deliveries in one
// transaction, as the administration does.
func notifyWithDeliveries(t *testing.T, s store.Store, chans ...store.Channel) (store.Notification, []store.Delivery) {
	t.Helper()
	var (
		n  store.Notification
		ds []store.Delivery
	)
	noErr(t, s.InTx(t.Context(), func(ctx context.Context) error {
		var err error
		n, err = s.CreateNotification(ctx, store.Notification{RecipientID: "usr_r", Kind: "approval.pending", Text: "t", CreatedAt: outboxT0})
		if err != nil {
			return err
		}
		for _, c := range chans {
			ds = append(ds, store.Delivery{ID: store.NewID("dlv"), NotificationID: n.ID, Channel: c,
				Payload: []byte(`{"n":"` + n.ID + `"}`), CreatedAt: outboxT0})
		}
		return s.EnqueueDeliveries(ctx, ds)
	}), "create notification with deliveries")
	return n, ds
}

// testOutboxEnqueue: deliveries are written in the notification's
// transaction: both stand or neither.
func testOutboxEnqueue(t *testing.T, s store.Store) {
	ctx := t.Context()
	n, ds := notifyWithDeliveries(t, s, store.ChannelWebhook, store.ChannelEmail)
	got := must(s.ListDeliveries(ctx, n.ID))(t)
	if len(got) != 2 {
		t.Fatalf("ListDeliveries = %d, want 2", len(got))
	}
	for _, d := range got {
		if d.Status != store.DeliveryPending || d.Attempts != 0 || !d.NextAttemptAt.Equal(outboxT0) ||
			!d.CreatedAt.Equal(outboxT0) || d.ClaimedBy != "" || !d.DeliveredAt.IsZero() {
			t.Errorf("enqueued delivery = %+v; want pending, due at creation, unclaimed", d)
		}
		if string(d.Payload) != `{"n":"`+n.ID+`"}` {
			t.Errorf("payload = %q", d.Payload)
		}
	}
	mustBe(t, s.EnqueueDeliveries(ctx, ds[:1]), store.ErrConflict, "EnqueueDeliveries(taken ID)")
	mustBe(t, s.EnqueueDeliveries(ctx, []store.Delivery{{NotificationID: n.ID, Channel: "sms"}}), store.ErrInvalid,
		"EnqueueDeliveries(unknown channel)")

	// A failure after the enqueue rolls back the notification and its
	// deliveries alike.
	boom := errors.New("boom")
	var lost store.Notification
	err := s.InTx(ctx, func(ctx context.Context) error {
		var err error
		if lost, err = s.CreateNotification(ctx, store.Notification{RecipientID: "usr_r", Kind: "k", Text: "t"}); err != nil {
			return err
		}
		if err := s.EnqueueDeliveries(ctx, []store.Delivery{{ID: "dlv_lost", NotificationID: lost.ID, Channel: store.ChannelWebhook}}); err != nil {
			return err
		}
		return boom
	})
	mustBe(t, err, boom, "InTx")
	_, err = s.GetDelivery(ctx, "dlv_lost")
	mustBe(t, err, store.ErrNotFound, "GetDelivery(rolled back)")
	if ns, _ := must2(s.ListNotifications(ctx, "usr_r", false, store.Page{}))(t); len(ns) != 1 {
		t.Errorf("notifications after rollback = %d, want 1", len(ns))
	}
}

// testOutboxLifecycle: claim, lease, retry schedule, dead and delivered.
func testOutboxLifecycle(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, ds := notifyWithDeliveries(t, s, store.ChannelWebhook, store.ChannelEmail)
	_, later := notifyWithDeliveries(t, s, store.ChannelWebhook)
	claimed := must(s.ClaimDeliveries(ctx, "w1", outboxT0, time.Minute, 10))(t)
	ids := map[string]store.Delivery{}
	for _, d := range claimed {
		ids[d.ID] = d
	}
	if len(claimed) != 3 || ids[ds[0].ID].ClaimedBy != "w1" || ids[ds[0].ID].Attempts != 1 ||
		!ids[ds[0].ID].ClaimedUntil.Equal(outboxT0.Add(time.Minute)) {
		t.Fatalf("claimed = %+v; want all three due, leased to w1 for a minute, attempt 1", claimed)
	}
	// Leased rows are nobody else's until the lease runs out.
	if again := must(s.ClaimDeliveries(ctx, "w2", outboxT0.Add(59*time.Second), time.Minute, 10))(t); len(again) != 0 {
		t.Fatalf("w2 claimed %d leased deliveries", len(again))
	}

	// A failed attempt is pending again at its retry time, not before.
	retry := outboxT0.Add(30 * time.Second)
	noErr(t, s.MarkFailed(ctx, ds[0].ID, "w1", "webhook answered 500", retry, false), "MarkFailed")
	d := must(s.GetDelivery(ctx, ds[0].ID))(t)
	if d.Status != store.DeliveryPending || d.LastError != "webhook answered 500" || !d.NextAttemptAt.Equal(retry) ||
		d.ClaimedBy != "" || d.Attempts != 1 {
		t.Fatalf("after MarkFailed = %+v", d)
	}
	if got := must(s.ClaimDeliveries(ctx, "w2", retry.Add(-time.Microsecond), time.Minute, 10))(t); len(got) != 0 {
		t.Fatalf("claimed %d before the retry time", len(got))
	}
	got := must(s.ClaimDeliveries(ctx, "w2", retry, time.Minute, 10))(t)
	if len(got) != 1 || got[0].ID != ds[0].ID || got[0].Attempts != 2 {
		t.Fatalf("claim at retry time = %+v; want %s at attempt 2", got, ds[0].ID)
	}
	// w1's claim of it is gone: its late outcome is refused.
	mustBe(t, s.MarkDelivered(ctx, ds[0].ID, "w1", retry), store.ErrConflict, "MarkDelivered(by a former claimer)")
	mustBe(t, s.MarkDelivered(ctx, "dlv_missing", "w1", retry), store.ErrNotFound, "MarkDelivered(missing)")

	// Delivered: recorded once, exactly as given, never claimed again.
	at := retry.Add(1234 * time.Microsecond)
	noErr(t, s.MarkDelivered(ctx, ds[0].ID, "w2", at), "MarkDelivered")
	d = must(s.GetDelivery(ctx, ds[0].ID))(t)
	if d.Status != store.DeliveryDelivered || !d.DeliveredAt.Equal(at) || d.LastError != "" || d.ClaimedBy != "" {
		t.Fatalf("after MarkDelivered = %+v", d)
	}
	mustBe(t, s.MarkDelivered(ctx, ds[0].ID, "w2", at.Add(time.Second)), store.ErrConflict, "MarkDelivered twice")
	if d2 := must(s.GetDelivery(ctx, ds[0].ID))(t); !d2.DeliveredAt.Equal(at) {
		t.Errorf("second MarkDelivered moved delivered_at to %v", d2.DeliveredAt)
	}

	// Dead: kept, never claimed again.
	noErr(t, s.MarkFailed(ctx, ds[1].ID, "w1", "550 mailbox unavailable", outboxT0, true), "MarkFailed(dead)")
	if d := must(s.GetDelivery(ctx, ds[1].ID))(t); d.Status != store.DeliveryDead || d.LastError != "550 mailbox unavailable" {
		t.Fatalf("dead delivery = %+v", d)
	}
	// A lease that ran out lets another worker take the delivery over.
	over := must(s.ClaimDeliveries(ctx, "w3", outboxT0.Add(2*time.Hour), time.Minute, 10))(t)
	if len(over) != 1 || over[0].ID != later[0].ID || over[0].Attempts != 2 {
		t.Fatalf("claim after the lease = %+v; want only %s, attempt 2", over, later[0].ID)
	}

	counts := must(s.CountDeliveries(ctx))(t)
	want := []store.DeliveryCount{
		{Channel: store.ChannelEmail, Status: store.DeliveryDead, Count: 1},
		{Channel: store.ChannelWebhook, Status: store.DeliveryDelivered, Count: 1},
		{Channel: store.ChannelWebhook, Status: store.DeliveryPending, Count: 1},
	}
	diff(t, "CountDeliveries", want, counts)
}

// testOutboxClaimConcurrently: workers claiming at once (replicas on one
// database) never hold the same delivery together, and every due delivery
// is claimed by exactly one of them.
func testOutboxClaimConcurrently(t *testing.T, s store.Store) {
	ctx := t.Context()
	const n = 40
	noErr(t, s.InTx(ctx, func(ctx context.Context) error {
		nt, err := s.CreateNotification(ctx, store.Notification{RecipientID: "usr_r", Kind: "k", Text: "t"})
		if err != nil {
			return err
		}
		ds := make([]store.Delivery, n)
		for i := range ds {
			ds[i] = store.Delivery{ID: fmt.Sprintf("dlv_%03d", i), NotificationID: nt.ID, Channel: store.ChannelWebhook, CreatedAt: outboxT0}
		}
		return s.EnqueueDeliveries(ctx, ds)
	}), "enqueue")
	var (
		mu    sync.Mutex
		owner = map[string]string{}
		wg    sync.WaitGroup
		errs  = make(chan error, 8)
	)
	for w := range 8 {
		wg.Add(1)
		go func(worker string) {
			defer wg.Done()
			for {
				got, err := s.ClaimDeliveries(ctx, worker, outboxT0, time.Hour, 3)
				if err != nil {
					errs <- err
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, d := range got {
					if prev, ok := owner[d.ID]; ok {
						errs <- fmt.Errorf("%s claimed by %s and %s", d.ID, prev, worker)
					}
					owner[d.ID] = worker
				}
				mu.Unlock()
			}
		}(fmt.Sprintf("w%d", w))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(owner) != n {
		t.Errorf("claimed %d deliveries, want %d", len(owner), n)
	}
}

// testOutboxDeleteDelivered: the sweep deletes delivered deliveries older
// than the cut and nothing else: pending ones are still to be sent, and dead
// ones are evidence an operator must see.
func testOutboxDeleteDelivered(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, ds := notifyWithDeliveries(t, s, store.ChannelWebhook, store.ChannelEmail, store.ChannelWebhook, store.ChannelWebhook)
	claimed := must(s.ClaimDeliveries(ctx, "w1", outboxT0, time.Minute, 10))(t)
	if len(claimed) != len(ds) {
		t.Fatalf("claimed %d, want %d", len(claimed), len(ds))
	}
	cut := outboxT0.Add(time.Hour)
	old, recent, dead, pending := ds[0], ds[1], ds[2], ds[3]
	noErr(t, s.MarkDelivered(ctx, old.ID, "w1", cut.Add(-time.Microsecond)), "MarkDelivered(old)")
	noErr(t, s.MarkDelivered(ctx, recent.ID, "w1", cut), "MarkDelivered(at the cut)")
	noErr(t, s.MarkFailed(ctx, dead.ID, "w1", "gone", outboxT0, true), "MarkFailed(dead)")
	noErr(t, s.MarkFailed(ctx, pending.ID, "w1", "503", outboxT0, false), "MarkFailed(retry)")

	if n := must(s.DeleteDeliveredBefore(ctx, cut))(t); n != 1 {
		t.Errorf("DeleteDeliveredBefore = %d, want 1", n)
	}
	_, err := s.GetDelivery(ctx, old.ID)
	mustBe(t, err, store.ErrNotFound, "GetDelivery(delivered before the cut)")
	for _, d := range []store.Delivery{recent, dead, pending} {
		if _, err := s.GetDelivery(ctx, d.ID); err != nil {
			t.Errorf("GetDelivery(%s) after the sweep: %v", d.ID, err)
		}
	}
	// Far in the future: every delivered row goes, the dead and pending stay.
	if n := must(s.DeleteDeliveredBefore(ctx, outboxT0.AddDate(10, 0, 0)))(t); n != 1 {
		t.Errorf("second DeleteDeliveredBefore = %d, want 1", n)
	}
	counts := must(s.CountDeliveries(ctx))(t)
	want := []store.DeliveryCount{
		{Channel: store.ChannelWebhook, Status: store.DeliveryDead, Count: 1},
		{Channel: store.ChannelWebhook, Status: store.DeliveryPending, Count: 1},
	}
	diff(t, "CountDeliveries after the sweeps", want, counts)
}

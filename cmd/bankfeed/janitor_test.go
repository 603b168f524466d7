package main

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/store/gormstore"
	"github.com/bankfeed/bankfeed/store/gormstore/gormtest"
)

// sweepOnce removes only records expired for longer than the retention: a
// code that expired a minute ago must still be found (reuse detection).
func TestSweepExpiredTokens(t *testing.T) {
	st := gormtest.OpenStore(t, "cmd_test")
	ctx := t.Context()
	now := time.Now()
	put := func(sig string, expires time.Time) {
		t.Helper()
		if err := st.CreateToken(ctx, store.TokenRecord{Kind: store.TokenAuthorizeCode, Signature: sig, RequestID: "req_" + sig,
			ClientID: "c", Active: true, RequestedAt: now.Add(-72 * time.Hour), ExpiresAt: expires, Request: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	fail := func(key string, expires time.Time) {
		t.Helper()
		if _, err := st.UpdateLoginFailures(ctx, key, func(f store.LoginFailures) store.LoginFailures {
			f.FailedAttempts, f.LastFailedAt, f.ExpiresAt = 1, now.Add(-48*time.Hour), expires
			return f
		}); err != nil {
			t.Fatal(err)
		}
	}
	fail("forgotten", now.Add(-time.Minute))
	fail("remembered", now.Add(time.Minute))
	put("old", now.Add(-sweepRetention-time.Hour))
	put("recent", now.Add(-time.Minute))
	put("live", now.Add(time.Minute))

	sweepOnce(ctx, st, slog.New(slog.DiscardHandler), now, 0)

	if _, err := st.GetToken(ctx, store.TokenAuthorizeCode, "old"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("expired beyond retention: %v, want ErrNotFound", err)
	}
	if f, err := st.GetLoginFailures(ctx, "forgotten"); err != nil || f.FailedAttempts != 0 {
		t.Errorf("expired login failures kept: %+v, %v", f, err)
	}
	if f, err := st.GetLoginFailures(ctx, "remembered"); err != nil || f.FailedAttempts != 1 {
		t.Errorf("login failures swept too early: %+v, %v", f, err)
	}
	for _, sig := range []string{"recent", "live"} {
		if _, err := st.GetToken(ctx, store.TokenAuthorizeCode, sig); err != nil {
			t.Errorf("%s swept too early: %v", sig, err)
		}
	}
}

// blockingSweep is a replica's store whose sweep stops inside, holding what
// the sweep holds, until release is closed.
type blockingSweep struct {
	*gormstore.Store
	entered chan struct{}
	release chan struct{}
}

func (b blockingSweep) DeleteExpiredLoginFailures(ctx context.Context, before time.Time) (int64, error) {
	close(b.entered)
	<-b.release
	return b.Store.DeleteExpiredLoginFailures(ctx, before)
}

// TestSweepOneReplicaAtATime: two replicas on one PostgreSQL database do not
// sweep at once. While the first is inside its sweep, the second's sweep is
// skipped and deletes nothing; once the first is done, the second sweeps
// again (the lock was released). Issue 11 §2 "Many replicas".
func TestSweepOneReplicaAtATime(t *testing.T) {
	dsn := gormtest.PostgresDSN(t, "cmd_test")
	replica1 := gormtest.Open(t, "cmd_test", gormstore.Config{DSN: dsn})
	replica2 := gormtest.OpenUnmigrated(t, "cmd_test", gormstore.Config{DSN: dsn})
	ctx := t.Context()
	now := time.Now()
	logger := slog.New(slog.DiscardHandler)
	put := func(sig string) {
		t.Helper()
		if err := replica1.CreateToken(ctx, store.TokenRecord{Kind: store.TokenAuthorizeCode, Signature: sig, RequestID: "req_" + sig,
			ClientID: "c", Active: true, RequestedAt: now.Add(-72 * time.Hour), ExpiresAt: now.Add(-sweepRetention - time.Hour), Request: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	exists := func(sig string) bool {
		t.Helper()
		_, err := replica1.GetToken(ctx, store.TokenAuthorizeCode, sig)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		return err == nil
	}
	put("old1")

	first := blockingSweep{Store: replica1, entered: make(chan struct{}), release: make(chan struct{})}
	done := make(chan bool, 1)
	go func() { done <- sweepOnce(ctx, first, logger, now, 0) }()
	<-first.entered
	if swept := sweepOnce(ctx, replica2, logger, now, 0); swept {
		t.Error("the second replica swept while the first was sweeping")
	}
	if !exists("old1") {
		t.Error("the second replica deleted expired tokens while the first was sweeping")
	}
	close(first.release)
	if !<-done {
		t.Error("the first replica's sweep reports it did not sweep")
	}
	if exists("old1") {
		t.Error("the first replica's sweep left an expired token")
	}

	put("old2")
	if !sweepOnce(ctx, replica2, logger, now, 0) || exists("old2") {
		t.Error("the second replica could not sweep after the first had finished: lock not released")
	}
}

// TestSweepDeliveredNotifications: the sweep deletes outbox deliveries
// delivered longer ago than notifications.delivered_retention, and keeps
// recent deliveries, pending ones (still to be sent) and dead ones (evidence
// for an operator); a retention of 0 keeps delivered rows forever.
func TestSweepDeliveredNotifications(t *testing.T) {
	st := gormtest.OpenStore(t, "cmd_test")
	ctx := t.Context()
	now := time.Now()
	const retention = 720 * time.Hour
	var ds []store.Delivery
	if err := st.InTx(ctx, func(ctx context.Context) error {
		n, err := st.CreateNotification(ctx, store.Notification{RecipientID: "usr_r", Kind: "approval.pending", Text: "t",
			CreatedAt: now.Add(-2 * retention)})
		if err != nil {
			return err
		}
		for _, id := range []string{"dlv_old", "dlv_recent", "dlv_dead", "dlv_pending", "dlv_kept"} {
			ds = append(ds, store.Delivery{ID: id, NotificationID: n.ID, Channel: store.ChannelWebhook, CreatedAt: now.Add(-2 * retention)})
		}
		return st.EnqueueDeliveries(ctx, ds)
	}); err != nil {
		t.Fatal(err)
	}
	if got, err := st.ClaimDeliveries(ctx, "w", now.Add(-2*retention), time.Hour, 10); err != nil || len(got) != len(ds) {
		t.Fatalf("claim = %d, %v", len(got), err)
	}
	for _, step := range []error{
		st.MarkDelivered(ctx, "dlv_old", "w", now.Add(-retention-time.Hour)),
		st.MarkDelivered(ctx, "dlv_recent", "w", now.Add(-retention+time.Hour)),
		st.MarkFailed(ctx, "dlv_dead", "w", "gone", now.Add(-2*retention), true),
		st.MarkFailed(ctx, "dlv_pending", "w", "503", now.Add(time.Hour), false),
		st.MarkDelivered(ctx, "dlv_kept", "w", now.Add(-2*retention)),
	} {
		if step != nil {
			t.Fatal(step)
		}
	}
	exists := func(id string) bool {
		t.Helper()
		_, err := st.GetDelivery(ctx, id)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		return err == nil
	}
	logger := slog.New(slog.DiscardHandler)

	// Retention 0: nothing delivered is deleted.
	sweepOnce(ctx, st, logger, now, 0)
	for _, id := range []string{"dlv_old", "dlv_recent", "dlv_dead", "dlv_pending", "dlv_kept"} {
		if !exists(id) {
			t.Errorf("%s swept with a retention of 0 (keep forever)", id)
		}
	}

	sweepOnce(ctx, st, logger, now, retention)
	for _, id := range []string{"dlv_old", "dlv_kept"} {
		if exists(id) {
			t.Errorf("%s, delivered before the retention, was kept", id)
		}
	}
	for _, id := range []string{"dlv_recent", "dlv_dead", "dlv_pending"} {
		if !exists(id) {
			t.Errorf("%s was swept", id)
		}
	}
}

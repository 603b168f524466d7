package gormstore

import (
	"context"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/bankfeed/bankfeed/store"
)

// RunOutboxCountTests lets the external tests run testOutboxCount on a
// store from gormtest.
var RunOutboxCountTests = testOutboxCount

// testOutboxCount: the metrics' count of pending and dead deliveries
// (bankfeed_outbox_deliveries, read at every scrape) counts those alone,
// and on SQLite (whose planner needs no statistics) it searches migration
// 6's status index instead of scanning the outbox, whose delivered rows
// pile up until the sweep.
func testOutboxCount(t *testing.T, s *Store) {
	ctx := t.Context()
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var ds []store.Delivery
	if err := s.InTx(ctx, func(ctx context.Context) error {
		n, err := s.CreateNotification(ctx, store.Notification{RecipientID: "usr_r", Kind: "approval.pending", Text: "t", CreatedAt: t0})
		if err != nil {
			return err
		}
		for _, c := range []store.Channel{store.ChannelEmail, store.ChannelWebhook, store.ChannelWebhook, store.ChannelWebhook, store.ChannelWebhook, store.ChannelEmail} {
			ds = append(ds, store.Delivery{ID: store.NewID("dlv"), NotificationID: n.ID, Channel: c, Payload: []byte(`{}`), CreatedAt: t0})
		}
		return s.EnqueueDeliveries(ctx, ds)
	}); err != nil {
		t.Fatal(err)
	}
	claimed, err := s.ClaimDeliveries(ctx, "w", t0, time.Minute, len(ds))
	if err != nil || len(claimed) != len(ds) {
		t.Fatalf("claim: %d, %v", len(claimed), err)
	}
	// email: 1 pending, 1 delivered; webhook: 2 dead, 2 delivered.
	for i, d := range ds {
		switch i {
		case 1, 2:
			err = s.MarkFailed(ctx, d.ID, "w", "gone", t0, true)
		case 0:
			err = s.MarkFailed(ctx, d.ID, "w", "later", t0.Add(time.Hour), false)
		default:
			err = s.MarkDelivered(ctx, d.ID, "w", t0)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.CountDeliveries(ctx, store.DeliveryPending, store.DeliveryDead)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.DeliveryCount{
		{Channel: store.ChannelEmail, Status: store.DeliveryPending, Count: 1},
		{Channel: store.ChannelWebhook, Status: store.DeliveryDead, Count: 2},
	}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("CountDeliveries(pending, dead) = %+v, want %+v", got, want)
	}
	all, err := s.CountDeliveries(ctx)
	if err != nil || len(all) != 4 {
		t.Errorf("CountDeliveries() = %+v, %v; want the four groups", all, err)
	}
	if s.dialect != dialectSQLite {
		return
	}
	stmt := s.r.WithContext(ctx).ToSQL(func(tx *gorm.DB) *gorm.DB {
		var rows []deliveryCountRow
		return countDeliveries(tx, []store.DeliveryStatus{store.DeliveryPending, store.DeliveryDead}).Scan(&rows)
	})
	var plan []struct {
		Detail string `gorm:"column:detail"`
	}
	if err := s.r.WithContext(ctx).Raw("EXPLAIN QUERY PLAN " + stmt).Scan(&plan).Error; err != nil {
		t.Fatalf("explain %s: %v", stmt, err)
	}
	var details []string
	for _, p := range plan {
		details = append(details, p.Detail)
	}
	if d := strings.Join(details, "; "); !strings.Contains(d, "SEARCH outbox_deliveries USING INDEX outbox_deliveries_") {
		t.Errorf("%s: plan %q does not search a status index", stmt, d)
	}
}

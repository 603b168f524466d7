package main

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/store/gormstore/gormtest"
)

// TestOutboxGaugeScrape: a scrape of the metrics serve starts reports the
// outbox's pending and dead deliveries by channel from the database
// (SQLite, or PostgreSQL when BANKFEED_TEST_POSTGRES_DSN is set), and no
// series for the delivered ones, which the scrape no longer counts.
func TestOutboxGaugeScrape(t *testing.T) {
	cfg := testConfig(t)
	cfg.Metrics.Addr = "127.0.0.1:0"
	st := gormtest.OpenStore(t, "cmd_test")
	ctx := t.Context()
	t0 := time.Now().Add(-time.Hour)
	var ds []store.Delivery
	outboxStep(t, st.InTx(ctx, func(ctx context.Context) error {
		n, err := st.CreateNotification(ctx, store.Notification{RecipientID: "usr_r", Kind: "approval.pending", Text: "t", CreatedAt: t0})
		if err != nil {
			return err
		}
		for _, c := range []store.Channel{store.ChannelEmail, store.ChannelEmail, store.ChannelWebhook, store.ChannelWebhook, store.ChannelWebhook} {
			ds = append(ds, store.Delivery{ID: store.NewID("dlv"), NotificationID: n.ID, Channel: c, Payload: []byte(`{}`), CreatedAt: t0})
		}
		return st.EnqueueDeliveries(ctx, ds)
	}))
	if got, err := st.ClaimDeliveries(ctx, "w", t0, time.Minute, len(ds)); err != nil || len(got) != len(ds) {
		t.Fatalf("claim: %d, %v", len(got), err)
	}
	// email: 2 pending; webhook: 1 dead, 2 delivered.
	outboxStep(t, st.MarkFailed(ctx, ds[0].ID, "w", "later", t0, false))
	outboxStep(t, st.MarkFailed(ctx, ds[1].ID, "w", "later", t0, false))
	outboxStep(t, st.MarkFailed(ctx, ds[2].ID, "w", "gone", t0, true))
	outboxStep(t, st.MarkDelivered(ctx, ds[3].ID, "w", t0))
	outboxStep(t, st.MarkDelivered(ctx, ds[4].ID, "w", t0))

	m, stop, err := startMetrics(ctx, cfg, st, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	ts := httptest.NewServer(m.InternalMux(slog.New(slog.DiscardHandler), false))
	t.Cleanup(ts.Close)
	res, err := ts.Client().Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var got []string
	for _, l := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(l, "bankfeed_outbox_deliveries{") {
			got = append(got, l)
		}
	}
	want := []string{
		`bankfeed_outbox_deliveries{channel="email",status="pending"} 2`,
		`bankfeed_outbox_deliveries{channel="webhook",status="dead"} 1`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("outbox gauges:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func outboxStep(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

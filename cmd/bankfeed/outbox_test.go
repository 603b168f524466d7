package main

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/config"
	"github.com/bankfeed/bankfeed/ops"
	"github.com/bankfeed/bankfeed/store"
)

// TestOutboxCommands: bankfeed outbox list prints the dead deliveries (or
// the pending ones) without payloads; outbox retry sends a dead one again —
// pending, attempts 0, audited with the CLI as actor — and refuses one that
// is not dead or does not exist (issue 11).
func TestOutboxCommands(t *testing.T) {
	dir := migratedDir(t)
	st := dirStore(t, dir)
	ctx := t.Context()
	t0 := time.Now().UTC().Add(-time.Hour)
	const payload = "the notification's text"
	var ids []string
	err := st.InTx(ctx, func(ctx context.Context) error {
		n, err := st.CreateNotification(ctx, store.Notification{RecipientID: "usr_r", Kind: "approval.pending", Text: "t", CreatedAt: t0})
		if err != nil {
			return err
		}
		for range 3 {
			d := store.Delivery{ID: store.NewID("dlv"), NotificationID: n.ID, Channel: store.ChannelWebhook, Payload: []byte(payload), CreatedAt: t0}
			ids = append(ids, d.ID)
			if err := st.EnqueueDeliveries(ctx, []store.Delivery{d}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.ClaimDeliveries(ctx, "w1", t0, time.Minute, 10); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids[:2] {
		if err := st.MarkFailed(ctx, id, "w1", "webhook answered 410", t0, true); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.MarkFailed(ctx, ids[2], "w1", "timeout", t0.Add(2*time.Hour), false); err != nil {
		t.Fatal(err)
	}

	list := func(args ...string) []ops.Delivery {
		t.Helper()
		out, stderr, err := cli(t, dir, append([]string{"outbox", "list"}, args...)...)
		if err != nil {
			t.Fatalf("outbox list: %v\n%s", err, stderr)
		}
		if strings.Contains(out, payload) {
			t.Fatalf("outbox list prints payloads:\n%s", out)
		}
		var ds []ops.Delivery
		if err := json.Unmarshal([]byte(out), &ds); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, out)
		}
		return ds
	}
	if dead := list(); len(dead) != 2 || dead[0].Status != "dead" || dead[0].LastError != "webhook answered 410" {
		t.Fatalf("dead = %+v", dead)
	}
	if pending := list("--status", "pending"); len(pending) != 1 || pending[0].ID != ids[2] {
		t.Fatalf("pending = %+v", pending)
	}
	if _, _, err := cli(t, dir, "outbox", "list", "--status", "delivered"); err == nil {
		t.Error("outbox list --status delivered succeeded")
	}

	out, stderr, err := cli(t, dir, "outbox", "retry", ids[0])
	if err != nil {
		t.Fatalf("outbox retry: %v\n%s", err, stderr)
	}
	var got ops.Delivery
	if err := json.Unmarshal([]byte(out), &got); err != nil || got.Status != "pending" || got.Attempts != 0 {
		t.Fatalf("retried = %s (%v)", out, err)
	}
	if d, err := st.GetDelivery(ctx, ids[0]); err != nil || d.Status != store.DeliveryPending || d.Attempts != 0 || d.NextAttemptAt.After(time.Now()) {
		t.Fatalf("stored after retry = %+v, %v", d, err)
	}
	action := deliveryRetried
	es, _, err := st.ListAudit(ctx, store.AuditFilter{Action: &action}, store.Page{})
	if err != nil || len(es) != 1 || es[0].ActorID != cliActor || es[0].TargetID != ids[0] || !strings.Contains(string(es[0].Before), `"dead"`) {
		t.Fatalf("audit = %+v, %v", es, err)
	}
	for _, id := range []string{ids[0], ids[2], "dlv_missing"} {
		if _, _, err := cli(t, dir, "outbox", "retry", id); err == nil {
			t.Errorf("outbox retry %s (not dead) succeeded", id)
		}
	}
	if es, _, _ := st.ListAudit(ctx, store.AuditFilter{Action: &action}, store.Page{}); len(es) != 1 {
		t.Errorf("refused retries were audited: %d events", len(es))
	}

	// Like the other commands on the server's database, a mistyped data
	// directory is refused, not created.
	missing := filepath.Join(t.TempDir(), "nope")
	if _, _, err := cli(t, missing, "outbox", "list"); err == nil {
		t.Error("outbox list on a missing database succeeded")
	}
	if _, err := os.Stat(filepath.Join(missing, config.DatabaseFile)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("outbox list created %s (%v)", config.DatabaseFile, err)
	}
}

package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/config"
	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/store/gormstore"
)

// TestServeDeliversWebhooks: `serve` configured with a webhook and its
// secret runs the outbox worker: a notification committed to its database
// reaches the receiver signed with that secret and is recorded delivered;
// the worker stops with the server.
func TestServeDeliversWebhooks(t *testing.T) {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	type hit struct {
		id, ts, sig string
		body        []byte
	}
	hits := make(chan hit, 10)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		hits <- hit{r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"), r.Header.Get("webhook-signature"), b}
	}))
	defer hook.Close()
	s := startServe(t, env("BANKFEED_NOTIFICATIONS_WEBHOOK_URL="+hook.URL, "BANKFEED_NOTIFICATIONS_WEBHOOK_SECRET="+secret), "")

	st, err := gormstore.Open(t.Context(), gormstore.Config{DSN: filepath.Join(s.DataDir, "bankfeed.db"), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	n := config.Default().Notifications
	n.WebhookURL, n.WebhookSecret = hook.URL, secret
	var ntf store.Notification
	if err := st.InTx(t.Context(), func(ctx context.Context) error {
		if ntf, err = st.CreateNotification(ctx, store.Notification{RecipientID: "usr_x", Kind: "approval.pending", Text: "A request awaits your approval."}); err != nil {
			return err
		}
		return newOutbox(n, st).Enqueue(ctx, ntf)
	}); err != nil {
		t.Fatal(err)
	}

	var h hit
	select {
	case h = <-hits:
	case <-time.After(time.Minute): // a guard, not a timing assertion: the worker polls every 2 s
		t.Fatalf("the webhook was not called; serve log:\n%s", s.Stderr)
	}
	key, _ := base64.StdEncoding.DecodeString(secret[len("whsec_"):])
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(h.id + "." + h.ts + "." + string(h.body)))
	if want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)); h.sig != want {
		t.Errorf("webhook-signature = %q, want %q", h.sig, want)
	}
	// The worker records the delivery once the receiver has answered.
	var ds []store.Delivery
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		if ds, err = st.ListDeliveries(t.Context(), ntf.ID); err != nil {
			t.Fatal(err)
		}
		if len(ds) != 1 || ds[0].Status != store.DeliveryPending || time.Now().After(deadline) {
			break
		}
	}
	if len(ds) != 1 || ds[0].ID != h.id || ds[0].Status != store.DeliveryDelivered || ds[0].Attempts != 1 {
		t.Fatalf("deliveries = %+v; want %s delivered at its first attempt", ds, h.id)
	}
	s.Stop()
	select {
	case h := <-hits:
		t.Errorf("a delivered message was sent again: %s", h.id)
	default:
	}
}

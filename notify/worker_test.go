package notify_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/notify"
	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/store/gormstore"
	"github.com/bankfeed/bankfeed/store/gormstore/gormtest"
)

const testSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

var (
	t0    = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	quiet = slog.New(slog.DiscardHandler)
)

// clock is a settable time for a worker and its sender.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }
func (c *clock) Add(d time.Duration) any {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return nil
}

// verify checks a Standard Webhooks request as a receiver would, written from
// the specification rather than with the package's Signer: the signed
// content is "id.timestamp.body", the key the base64 after "whsec_", the
// header a space-separated list of "v1,<base64 HMAC-SHA256>", and the
// timestamp within five minutes of the receiver's now.
func verify(secret string, h http.Header, body []byte, now time.Time) error {
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return errors.New("missing webhook-id, webhook-timestamp or webhook-signature")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("timestamp %q: %w", ts, err)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return fmt.Errorf("timestamp %s is %v from now", ts, d)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return err
	}
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%s.%s", id, ts, body)
	want := mac.Sum(nil)
	for _, s := range strings.Fields(sigs) {
		v, b64, ok := strings.Cut(s, ",")
		if !ok || v != "v1" {
			continue
		}
		if got, err := base64.StdEncoding.DecodeString(b64); err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return errors.New("no v1 signature matches")
}

// received is one request a receiver got.
type received struct {
	ID, Timestamp string
	Body          []byte
	Status        int
}

// receiver is a webhook endpoint that verifies every request against the
// clock and answers what answer says (200 when nil).
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []received
	bad    []error
	answer func(n int, w http.ResponseWriter, r *http.Request) int // n counts requests from 1
}

func newReceiver(t *testing.T, clk func() time.Time, answer func(n int, w http.ResponseWriter, r *http.Request) int) *receiver {
	rc := &receiver{answer: answer}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		if err := verify(testSecret, r.Header, body, clk()); err != nil {
			rc.bad = append(rc.bad, err)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			rc.bad = append(rc.bad, fmt.Errorf("Content-Type %q", ct))
		}
		n := len(rc.got) + 1
		rc.got = append(rc.got, received{ID: r.Header.Get("webhook-id"), Timestamp: r.Header.Get("webhook-timestamp"), Body: body})
		rc.mu.Unlock()
		status := http.StatusOK
		if rc.answer != nil {
			status = rc.answer(n, w, r)
		}
		rc.mu.Lock()
		rc.got[n-1].Status = status
		rc.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(rc.Close)
	t.Cleanup(func() {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		for _, err := range rc.bad {
			t.Errorf("receiver refused a request: %v", err)
		}
	})
	return rc
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

// notifyTx creates a notification and its deliveries through the Outbox in
// one transaction, as the administration does.
func notifyTx(t *testing.T, st store.Store, o *notify.Outbox, n store.Notification) store.Notification {
	t.Helper()
	err := st.InTx(t.Context(), func(ctx context.Context) error {
		var err error
		if n, err = st.CreateNotification(ctx, n); err != nil {
			return err
		}
		return o.Enqueue(ctx, n)
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func newWorker(t *testing.T, cfg notify.Config) *notify.Worker {
	t.Helper()
	w, err := notify.NewWorker(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func webhookSender(t *testing.T, url string, now func() time.Time, timeout time.Duration) *notify.Webhook {
	t.Helper()
	s, err := notify.NewSigner(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	return &notify.Webhook{URL: url, Signer: s, Now: now, Client: &http.Client{Timeout: timeout}}
}

func runOnce(t *testing.T, w *notify.Worker) int {
	t.Helper()
	n, err := w.RunOnce(t.Context())
	if err != nil {
		t.Fatalf("RunOnce: %v", err)
	}
	return n
}

func delivery(t *testing.T, st store.Store, notificationID string) store.Delivery {
	t.Helper()
	ds, err := st.ListDeliveries(t.Context(), notificationID)
	if err != nil || len(ds) != 1 {
		t.Fatalf("deliveries of %s = %v, %v; want one", notificationID, ds, err)
	}
	return ds[0]
}

// TestWebhookSignedDelivery: a notification reaches the webhook once,
// signed per Standard Webhooks, in the specification's payload structure,
// and the outbox records when.
func TestWebhookSignedDelivery(t *testing.T) {
	st := gormtest.OpenStore(t, "notify")
	clk := &clock{t: t0}
	rc := newReceiver(t, clk.Now, nil)
	n := notifyTx(t, st, &notify.Outbox{Store: st, Webhook: true, Now: clk.Now}, store.Notification{
		RecipientID: "usr_b", Kind: "approval.pending", Text: "A request awaits your approval: create a job role.", RequestID: "apr_1", CreatedAt: t0})
	clk.Add(3 * time.Second)
	w := newWorker(t, notify.Config{Store: st, Logger: quiet, Now: clk.Now,
		Senders: map[store.Channel]notify.Sender{store.ChannelWebhook: webhookSender(t, rc.URL, clk.Now, 5*time.Second)}})
	if got := runOnce(t, w); got != 1 {
		t.Fatalf("RunOnce claimed %d, want 1", got)
	}
	d := delivery(t, st, n.ID)
	reqs := rc.requests()
	if len(reqs) != 1 || reqs[0].ID != d.ID || reqs[0].Timestamp != strconv.FormatInt(t0.Add(3*time.Second).Unix(), 10) {
		t.Fatalf("requests = %+v; want one with webhook-id %s at the attempt's time", reqs, d.ID)
	}
	var msg map[string]any
	if err := json.Unmarshal(reqs[0].Body, &msg); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"type": "approval.pending", "timestamp": "2026-03-02T09:00:00Z", "data": map[string]any{
		"notificationId": n.ID, "recipientId": "usr_b", "text": "A request awaits your approval: create a job role.", "requestId": "apr_1"}}
	if fmt.Sprint(msg) != fmt.Sprint(want) {
		t.Errorf("body = %v, want %v", msg, want)
	}
	if d.Status != store.DeliveryDelivered || !d.DeliveredAt.Equal(t0.Add(3*time.Second)) || d.Attempts != 1 {
		t.Errorf("delivery = %+v; want delivered at the attempt, attempt 1", d)
	}
	if got := runOnce(t, w); got != 0 || len(rc.requests()) != 1 {
		t.Errorf("a delivered message was claimed again")
	}
}

// TestWebhookRetryBackoff: a 500 and a timeout are retried after an
// exponential backoff (30 s, then 60 s), with the same webhook-id and a
// fresh timestamp and signature; then delivered.
func TestWebhookRetryBackoff(t *testing.T) {
	st := gormtest.OpenStore(t, "notify")
	clk := &clock{t: t0}
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	rc := newReceiver(t, clk.Now, func(n int, w http.ResponseWriter, r *http.Request) int {
		switch n {
		case 1:
			return http.StatusInternalServerError
		case 2: // outlasts the client's timeout
			select {
			case <-r.Context().Done():
			case <-release:
			}
			return http.StatusOK
		}
		return http.StatusNoContent
	})
	n := notifyTx(t, st, &notify.Outbox{Store: st, Webhook: true, Now: clk.Now}, store.Notification{
		RecipientID: "usr_a", Kind: "approval.submitted", Text: "Your request was submitted and is pending approval.", CreatedAt: t0})
	var outcomes []string
	w := newWorker(t, notify.Config{Store: st, Logger: quiet, Now: clk.Now, Jitter: func(d time.Duration) time.Duration { return d },
		Observe: func(ch store.Channel, o string) { outcomes = append(outcomes, string(ch)+" "+o) },
		Senders: map[store.Channel]notify.Sender{store.ChannelWebhook: webhookSender(t, rc.URL, clk.Now, 200*time.Millisecond)}})

	runOnce(t, w)
	d := delivery(t, st, n.ID)
	if d.Status != store.DeliveryPending || !d.NextAttemptAt.Equal(t0.Add(30*time.Second)) || !strings.Contains(d.LastError, "500") {
		t.Fatalf("after a 500: %+v; want pending, next attempt 30 s on, the status recorded", d)
	}
	clk.Set(t0.Add(29 * time.Second))
	if got := runOnce(t, w); got != 0 {
		t.Fatalf("claimed %d before the backoff ran out", got)
	}
	clk.Set(t0.Add(30 * time.Second))
	runOnce(t, w)
	d = delivery(t, st, n.ID)
	if d.Status != store.DeliveryPending || !d.NextAttemptAt.Equal(t0.Add(90*time.Second)) || d.Attempts != 2 {
		t.Fatalf("after a timeout: %+v; want pending, next attempt 60 s on", d)
	}
	clk.Set(t0.Add(90 * time.Second))
	runOnce(t, w)
	d = delivery(t, st, n.ID)
	if d.Status != store.DeliveryDelivered || d.Attempts != 3 || !d.DeliveredAt.Equal(t0.Add(90*time.Second)) {
		t.Fatalf("after a 204: %+v; want delivered at the third attempt", d)
	}
	reqs := rc.requests()
	if len(reqs) != 3 {
		t.Fatalf("receiver got %d requests, want 3", len(reqs))
	}
	for i, r := range reqs {
		if r.ID != d.ID || string(r.Body) != string(reqs[0].Body) {
			t.Errorf("request %d: webhook-id %s, body %s; want %s and the same body every time", i, r.ID, r.Body, d.ID)
		}
	}
	if reqs[0].Timestamp == reqs[1].Timestamp || reqs[1].Timestamp == reqs[2].Timestamp {
		t.Errorf("timestamps %s %s %s: want each attempt's own", reqs[0].Timestamp, reqs[1].Timestamp, reqs[2].Timestamp)
	}
	if want := "webhook retry,webhook retry,webhook delivered"; strings.Join(outcomes, ",") != want {
		t.Errorf("observed %v, want %s", outcomes, want)
	}
}

// TestWebhookDeadAfterMaxAttempts: a receiver that always fails gets
// MaxAttempts attempts; then the delivery is dead (kept, visible) and left
// alone.
func TestWebhookDeadAfterMaxAttempts(t *testing.T) {
	st := gormtest.OpenStore(t, "notify")
	clk := &clock{t: t0}
	rc := newReceiver(t, clk.Now, func(int, http.ResponseWriter, *http.Request) int { return http.StatusBadGateway })
	n := notifyTx(t, st, &notify.Outbox{Store: st, Webhook: true, Now: clk.Now}, store.Notification{
		RecipientID: "usr_a", Kind: "approval.decided", Text: "Your request (create a job role) was approved.", CreatedAt: t0})
	var outcomes []string
	w := newWorker(t, notify.Config{Store: st, Logger: quiet, Now: clk.Now, MaxAttempts: 3, RetryInitial: time.Minute, RetryMax: 90 * time.Second,
		Jitter:  func(d time.Duration) time.Duration { return d },
		Observe: func(_ store.Channel, o string) { outcomes = append(outcomes, o) },
		Senders: map[store.Channel]notify.Sender{store.ChannelWebhook: webhookSender(t, rc.URL, clk.Now, 5*time.Second)}})
	for range 3 {
		runOnce(t, w)
		clk.Add(time.Hour)
	}
	if got := runOnce(t, w); got != 0 {
		t.Errorf("a dead delivery was claimed")
	}
	d := delivery(t, st, n.ID)
	if d.Status != store.DeliveryDead || d.Attempts != 3 || !strings.Contains(d.LastError, "502") {
		t.Errorf("delivery = %+v; want dead after 3 attempts, the last error kept", d)
	}
	if len(rc.requests()) != 3 || strings.Join(outcomes, ",") != "retry,retry,dead" {
		t.Errorf("requests %d, outcomes %v; want 3 and retry,retry,dead", len(rc.requests()), outcomes)
	}
	if w.Backoff(1) != time.Minute || w.Backoff(2) != 90*time.Second || w.Backoff(5) != 90*time.Second {
		t.Errorf("backoff = %v %v %v; want 1m, then doubled up to the cap of 90s", w.Backoff(1), w.Backoff(2), w.Backoff(5))
	}
}

// TestDeliverySurvivesRestart: a worker stopped while it holds deliveries
// (one mid-send, others claimed or not yet claimed) loses none: a worker
// started on the same database once its lease ran out delivers each once.
func TestDeliverySurvivesRestart(t *testing.T) {
	dsn := gormtest.DSN(t, "notify")
	st1 := gormtest.Open(t, "", gormstore.Config{DSN: dsn})
	clk := &clock{t: t0}
	inFirst := make(chan struct{})
	var first sync.Once
	rc := newReceiver(t, clk.Now, func(n int, w http.ResponseWriter, r *http.Request) int {
		if n == 1 { // the first attempt hangs until the worker stops
			first.Do(func() { close(inFirst) })
			<-r.Context().Done()
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	o := &notify.Outbox{Store: st1, Webhook: true, Now: clk.Now}
	var ids []string
	for i := range 3 {
		ids = append(ids, notifyTx(t, st1, o, store.Notification{RecipientID: "usr_a", Kind: "approval.pending",
			Text: fmt.Sprintf("request %d", i), CreatedAt: t0}).ID)
	}
	w1 := newWorker(t, notify.Config{Store: st1, Logger: quiet, Now: clk.Now, ID: "w1", Batch: 2, Lease: time.Minute,
		Senders: map[store.Channel]notify.Sender{store.ChannelWebhook: webhookSender(t, rc.URL, clk.Now, time.Minute)}})
	ctx, stop := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); w1.Run(ctx) }()
	select {
	case <-inFirst:
	case <-time.After(30 * time.Second): // not a timing assertion: a guard against hanging
		t.Fatal("the worker never sent the first delivery")
	}
	stop()
	<-done
	if err := st1.Close(); err != nil {
		t.Fatal(err)
	}
	pending := 0
	st2 := gormtest.Open(t, "", gormstore.Config{DSN: dsn})
	for _, id := range ids {
		d := delivery(t, st2, id)
		if d.Status == store.DeliveryPending {
			pending++
		}
		// A worker that stops releases what it claimed but did not send, so
		// a successor need not wait out the lease (a killed one cannot: the
		// lease runs out, below).
		if d.ClaimedBy != "" {
			t.Errorf("%s still leased to %s after a graceful stop", d.ID, d.ClaimedBy)
		}
	}
	if pending != 3 {
		t.Fatalf("%d of 3 deliveries pending after the stop; want all", pending)
	}

	clk.Add(time.Minute) // w1's lease has run out
	w2 := newWorker(t, notify.Config{Store: st2, Logger: quiet, Now: clk.Now, ID: "w2",
		Senders: map[store.Channel]notify.Sender{store.ChannelWebhook: webhookSender(t, rc.URL, clk.Now, time.Minute)}})
	for runOnce(t, w2) > 0 {
	}
	okByID := map[string]int{}
	for _, r := range rc.requests() {
		if r.Status == http.StatusOK {
			okByID[r.ID]++
		}
	}
	for _, id := range ids {
		d := delivery(t, st2, id)
		if d.Status != store.DeliveryDelivered || okByID[d.ID] != 1 {
			t.Errorf("notification %s: %s, accepted %d times; want delivered once", id, d.Status, okByID[d.ID])
		}
	}
}

// TestWorkersShareOutbox: two workers on two connections to one database
// (two replicas) deliver every message exactly once and never send the same
// one at the same time. On PostgreSQL (BANKFEED_TEST_POSTGRES_DSN) this is
// FOR UPDATE SKIP LOCKED at work.
func TestWorkersShareOutbox(t *testing.T) {
	dsn := gormtest.DSN(t, "notify")
	a := gormtest.Open(t, "", gormstore.Config{DSN: dsn})
	b := gormtest.Open(t, "", gormstore.Config{DSN: dsn})
	var (
		mu       sync.Mutex
		inFlight = map[string]bool{}
		overlap  []string
	)
	rc := newReceiver(t, time.Now, func(_ int, _ http.ResponseWriter, r *http.Request) int {
		id := r.Header.Get("webhook-id")
		mu.Lock()
		if inFlight[id] {
			overlap = append(overlap, id)
		}
		inFlight[id] = true
		mu.Unlock()
		time.Sleep(2 * time.Millisecond) // widen the window a second sender would fall in
		mu.Lock()
		delete(inFlight, id)
		mu.Unlock()
		return http.StatusOK
	})
	const total = 30
	o := &notify.Outbox{Store: a, Webhook: true}
	var ids []string
	for i := range total {
		ids = append(ids, notifyTx(t, a, o, store.Notification{RecipientID: "usr_a", Kind: "approval.pending", Text: fmt.Sprint(i)}).ID)
	}
	var wg sync.WaitGroup
	for i, st := range []store.Store{a, b} {
		w := newWorker(t, notify.Config{Store: st, Logger: quiet, ID: fmt.Sprintf("w%d", i), Batch: 2,
			Senders: map[store.Channel]notify.Sender{store.ChannelWebhook: webhookSender(t, rc.URL, time.Now, 5*time.Second)}})
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n, err := w.RunOnce(t.Context())
				if err != nil {
					t.Error(err)
					return
				}
				if n == 0 {
					return
				}
			}
		}()
	}
	wg.Wait()
	if len(overlap) > 0 {
		t.Errorf("sent concurrently by both workers: %v", overlap)
	}
	count := map[string]int{}
	for _, r := range rc.requests() {
		count[r.ID]++
	}
	for _, id := range ids {
		d := delivery(t, a, id)
		if d.Status != store.DeliveryDelivered || count[d.ID] != 1 {
			t.Errorf("%s: %s, sent %d times; want delivered, sent once", d.ID, d.Status, count[d.ID])
		}
	}
}

package notify

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/bankfeed/bankfeed/store"
)

// Sender makes one attempt at a delivery.
type Sender interface {
	Send(ctx context.Context, d store.Delivery) error
}

// permanentError is a failure no retry can mend (a payload without a
// recipient): the delivery is dead at once.
type permanentError struct{ err error }

func (p permanentError) Error() string { return p.err.Error() }
func (p permanentError) Unwrap() error { return p.err }

// Permanent marks err as one no retry can mend.
func Permanent(err error) error { return permanentError{err} }

// Outcomes of an attempt, as Config.Observe receives them.
const (
	OutcomeDelivered = "delivered" // sent
	OutcomeRetry     = "retry"     // failed; another attempt is scheduled
	OutcomeDead      = "dead"      // failed for good: no attempt left
)

// Config is what a Worker needs; zero values take the documented defaults.
type Config struct {
	Store   store.OutboxStore        // required
	Senders map[store.Channel]Sender // a channel without a sender is left pending
	Logger  *slog.Logger             // default slog.Default()
	Now     func() time.Time         // default time.Now
	// ID names this worker in its leases (default: random).
	ID string
	// Lease is how long claimed deliveries are this worker's (default
	// 5 min). A batch is sent one delivery after another, so the lease must
	// outlast Batch sends at their timeouts (webhook 10 s, e-mail 30 s):
	// past it, another worker may send the rest again.
	Lease time.Duration
	// Poll is the pause when nothing is due (default 2 s).
	Poll time.Duration
	// Batch is how many deliveries one claim takes (default 5).
	Batch int
	// MaxAttempts is how many attempts a delivery gets before it is dead
	// (default 12: about eight hours with the default backoff).
	MaxAttempts int
	// RetryInitial is the wait after the first failure (default 30 s); it
	// doubles with each further failure up to RetryMax (default 1 h).
	RetryInitial, RetryMax time.Duration
	// Jitter picks the actual wait for a backoff of d (default: uniform in
	// [d/2, d]), so deliveries that failed together do not retry together.
	Jitter func(d time.Duration) time.Duration
	// Observe, if set, counts each attempt's outcome by channel (metrics).
	Observe func(ch store.Channel, outcome string)
}

// Worker sends due deliveries from the outbox.
type Worker struct {
	cfg Config
	log *slog.Logger
}

// NewWorker checks cfg and fills defaults.
func NewWorker(cfg Config) (*Worker, error) {
	if cfg.Store == nil {
		return nil, errors.New("notify: Config.Store is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ID == "" {
		b := make([]byte, 8)
		_, _ = crand.Read(b)
		cfg.ID = "worker-" + hex.EncodeToString(b)
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 5 * time.Minute
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 2 * time.Second
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 5
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 12
	}
	if cfg.RetryInitial <= 0 {
		cfg.RetryInitial = 30 * time.Second
	}
	if cfg.RetryMax < cfg.RetryInitial {
		cfg.RetryMax = max(time.Hour, cfg.RetryInitial)
	}
	if cfg.Jitter == nil {
		cfg.Jitter = func(d time.Duration) time.Duration { return d/2 + rand.N(d/2+1) }
	}
	return &Worker{cfg: cfg, log: cfg.Logger.With("worker", cfg.ID)}, nil
}

// Backoff is the wait before the attempt after attempts failed ones, before
// jitter: RetryInitial doubled per further failure, at most RetryMax.
func (w *Worker) Backoff(attempts int) time.Duration {
	d := w.cfg.RetryInitial
	for i := 1; i < attempts && d < w.cfg.RetryMax; i++ {
		d *= 2
	}
	return min(d, w.cfg.RetryMax)
}

// Run sends due deliveries until ctx ends; a failing store is logged and
// tried again after a pause. Deliveries it holds when ctx ends stay in the
// outbox (their lease runs out and any worker takes them again).
func (w *Worker) Run(ctx context.Context) {
	w.log.InfoContext(ctx, "notify: delivery worker started", "channels", len(w.cfg.Senders))
	for {
		n, err := w.RunOnce(ctx)
		if ctx.Err() != nil {
			w.log.InfoContext(context.WithoutCancel(ctx), "notify: delivery worker stopped")
			return
		}
		if err != nil {
			w.log.WarnContext(ctx, "notify: delivery round failed", "err", err)
		}
		if n > 0 && err == nil {
			continue // more may be due
		}
		select {
		case <-ctx.Done():
			w.log.InfoContext(context.WithoutCancel(ctx), "notify: delivery worker stopped")
			return
		case <-time.After(w.cfg.Poll):
		}
	}
}

// RunOnce claims the deliveries due now (one batch), attempts each and
// records the outcome; it returns how many it claimed.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	ds, err := w.cfg.Store.ClaimDeliveries(ctx, w.cfg.ID, w.cfg.Now(), w.cfg.Lease, w.cfg.Batch)
	if err != nil {
		return 0, fmt.Errorf("notify: claim: %w", err)
	}
	var errs []error
	for _, d := range ds {
		if ctx.Err() != nil {
			w.release(ctx, d) // stopping: not attempted
			continue
		}
		if err := w.attempt(ctx, d); err != nil {
			errs = append(errs, err)
		}
	}
	return len(ds), errors.Join(errs...)
}

// release gives back a delivery claimed but not sent (or cut) because the
// worker is stopping: due again at once, for whichever worker runs next,
// rather than after the lease. A killed worker cannot; its lease runs out.
func (w *Worker) release(ctx context.Context, d store.Delivery) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := w.cfg.Store.MarkFailed(rctx, d.ID, w.cfg.ID, "interrupted: the worker stopped", w.cfg.Now(), false); err != nil {
		w.log.WarnContext(rctx, "notify: release on stop failed; the lease will run out", "delivery", d.ID, "err", err)
	}
}

// attempt sends d and records the outcome; it returns only failures to
// record one.
func (w *Worker) attempt(ctx context.Context, d store.Delivery) error {
	log := w.log.With("delivery", d.ID, "notification", d.NotificationID, "channel", string(d.Channel), "attempt", d.Attempts)
	s, ok := w.cfg.Senders[d.Channel]
	var err error
	if !ok {
		err = Permanent(fmt.Errorf("notify: no sender for channel %q", d.Channel))
	} else {
		err = s.Send(ctx, d)
	}
	if err == nil {
		if err := w.cfg.Store.MarkDelivered(ctx, d.ID, w.cfg.ID, w.cfg.Now()); err != nil {
			return fmt.Errorf("notify: record delivery %s: %w", d.ID, err)
		}
		log.InfoContext(ctx, "notify: delivered")
		w.observe(d.Channel, OutcomeDelivered)
		return nil
	}
	if ctx.Err() != nil {
		w.release(ctx, d) // stopping: the attempt was cut, not failed
		return nil
	}
	var perm permanentError
	dead := errors.As(err, &perm) || d.Attempts >= w.cfg.MaxAttempts
	now := w.cfg.Now()
	retryAt := now
	if !dead {
		retryAt = now.Add(w.cfg.Jitter(w.Backoff(d.Attempts)))
	}
	if rerr := w.cfg.Store.MarkFailed(ctx, d.ID, w.cfg.ID, truncate(err.Error(), 500), retryAt, dead); rerr != nil {
		return fmt.Errorf("notify: record failed delivery %s: %w", d.ID, rerr)
	}
	if dead {
		log.ErrorContext(ctx, "notify: delivery failed for good", "err", err)
		w.observe(d.Channel, OutcomeDead)
	} else {
		log.WarnContext(ctx, "notify: delivery failed; will retry", "err", err, "retryAt", retryAt.UTC())
		w.observe(d.Channel, OutcomeRetry)
	}
	return nil
}

func (w *Worker) observe(ch store.Channel, outcome string) {
	if w.cfg.Observe != nil {
		w.cfg.Observe(ch, outcome)
	}
}

// truncate keeps an error text storable: at most n bytes of valid UTF-8
// without NUL (PostgreSQL refuses both in TEXT).
func truncate(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, ""), "\x00", "")
}

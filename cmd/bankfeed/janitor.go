package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/bankfeed/bankfeed/store"
)

// Expired codes, tokens, flows, sessions and client-assertion jtis, and the
// forgotten failed sign-ins of login IDs nobody holds, are swept from the
// database every sweepInterval. A record is kept for
// sweepRetention past its expiry so that a late replay of a code or a
// rotated refresh token is still recognised as reuse (and revokes its
// family) instead of looking unknown.
//
// With several replicas on one PostgreSQL database, one sweeps at a time: a
// sweep runs under an advisory lock (gormstore.TryExclusive), and a replica
// that finds it held skips that tick, leaving the work to the holder, instead
// of running the same DELETEs over the same rows beside it. On SQLite every
// sweep runs, as before.
//
// The sweep also deletes outbox deliveries delivered longer ago than
// notifications.delivered_retention (0: kept forever), so the outbox does
// not grow without bound. Pending deliveries are still to be sent and dead
// ones are evidence an operator must see: those stay.
const (
	sweepInterval  = 10 * time.Minute
	sweepRetention = 24 * time.Hour
)

// sweepLock names the sweep's lock among the replicas.
const sweepLock = "sweep-expired"

// sweepStore is what the janitor sweeps.
type sweepStore interface {
	store.TokenStore
	store.SignInStore
	store.OutboxStore
	TryExclusive(ctx context.Context, name string, fn func(context.Context) error) (bool, error)
}

// sweepExpired runs sweepOnce every interval until ctx ends.
func sweepExpired(ctx context.Context, st sweepStore, logger *slog.Logger, now func() time.Time, deliveredRetention time.Duration) {
	t := time.NewTicker(sweepInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			sweepOnce(ctx, st, logger, now(), deliveredRetention)
		}
	}
}

// sweepOnce deletes what expired before now − sweepRetention, and the
// deliveries delivered before now − deliveredRetention (unless it is 0),
// and logs how many went; a failure is logged and retried at the next tick.
// It reports whether it swept: false when another replica was sweeping.
func sweepOnce(ctx context.Context, st sweepStore, logger *slog.Logger, now time.Time, deliveredRetention time.Duration) bool {
	swept, err := st.TryExclusive(ctx, sweepLock, func(ctx context.Context) error {
		// A failure count has no replay to recognise: it goes once forgotten.
		if _, err := st.DeleteExpiredLoginFailures(ctx, now); err != nil {
			logger.WarnContext(ctx, "sweep expired login failures", "err", err)
		}
		if deliveredRetention > 0 {
			n, err := st.DeleteDeliveredBefore(ctx, now.Add(-deliveredRetention))
			switch {
			case err != nil:
				logger.WarnContext(ctx, "sweep delivered notifications", "err", err)
			case n > 0:
				logger.InfoContext(ctx, "swept delivered notifications", "count", n)
			}
		}
		n, err := st.DeleteExpiredTokens(ctx, now.Add(-sweepRetention))
		if err != nil {
			logger.WarnContext(ctx, "sweep expired tokens", "err", err)
			return nil
		}
		if n > 0 {
			logger.InfoContext(ctx, "swept expired tokens", "count", n)
		}
		return nil
	})
	switch {
	case err != nil:
		logger.WarnContext(ctx, "sweep expired records", "err", err)
	case !swept:
		logger.DebugContext(ctx, "sweep skipped: another replica is sweeping")
	}
	return swept
}

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/bankfeed/bankfeed/config"
	"github.com/bankfeed/bankfeed/metrics"
	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/store/gormstore"
)

// startMetrics starts the internal listener of /metrics (and pprof when
// metrics.pprof) when metrics.addr is set, with the store's statement
// timing, pool statistics and shared state; otherwise it returns nil
// metrics, which every package takes as "count nothing". stop closes the
// listener: scrapes need no draining.
func startMetrics(ctx context.Context, cfg config.Config, st *gormstore.Store, logger *slog.Logger) (m *metrics.Metrics, stop func(), err error) {
	if cfg.Metrics.Addr == "" {
		return nil, func() {}, nil
	}
	m = metrics.New()
	if err := st.Instrument(m.ObserveQuery); err != nil {
		return nil, nil, err
	}
	for name, db := range st.Pools() {
		if err := m.AddDBPool(name, db); err != nil {
			return nil, nil, fmt.Errorf("metrics: pool %s: %w", name, err)
		}
	}
	if err := m.AddState(func(ctx context.Context) (metrics.State, error) {
		sessions, locked, pending, err := st.OperationalState(ctx)
		if err != nil {
			return metrics.State{}, err
		}
		// The gauge reports pending and dead deliveries only.
		counts, err := st.CountDeliveries(ctx, store.DeliveryPending, store.DeliveryDead)
		s := metrics.State{ActiveSessions: sessions, LockedLogins: locked, PendingApprovals: pending}
		for _, c := range counts {
			s.Outbox = append(s.Outbox, metrics.OutboxCount{Channel: string(c.Channel), Status: string(c.Status), Count: c.Count})
		}
		return s, err
	}, logger); err != nil {
		return nil, nil, fmt.Errorf("metrics: %w", err)
	}
	ln, err := net.Listen("tcp", cfg.Metrics.Addr)
	if err != nil {
		return nil, nil, fmt.Errorf("listen on %s (metrics.addr): %w", cfg.Metrics.Addr, err)
	}
	srv := &http.Server{
		Handler:           m.InternalMux(logger, cfg.Metrics.Pprof),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.ErrorContext(ctx, "metrics listener failed", "addr", cfg.Metrics.Addr, "err", err)
		}
	}()
	logger.InfoContext(ctx, "metrics listening", "addr", ln.Addr().String(), "pprof", cfg.Metrics.Pprof)
	return m, func() { _ = srv.Close() }, nil
}

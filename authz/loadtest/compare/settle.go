package main

import (
	"context"
	"time"

	"github.com/bankfeed/bankfeed/internal/procstat"
)

// Before each run the comparison waits for PostgreSQL to go quiet: the run
// before leaves it work that is not the next run's (autovacuum and
// autoanalyze of the tables it wrote, the checkpointer). Measured at 11:32
// on 7 Dec 2026: bankfeed's flows cost PostgreSQL 1.49 and 1.46 ms each in
// the rounds where they followed Hydra's flows, 1.17 in the round where
// they followed bankfeed's own refresh grants; Hydra's flows 3.13 and 3.16
// after bankfeed's DPoP refresh grants, 2.72 after bankfeed's flows. The
// server that runs second paid for the first one's writes.
const (
	settleWindow = 500 * time.Millisecond
	// settleQuiet is PostgreSQL's CPU in one window below which it counts
	// as quiet: a twentieth of a core (its idle processes' own use is far
	// below).
	settleQuiet = settleWindow / 20
)

// settle waits, at most most (0: not at all), until PostgreSQL's processes
// spent at most settleQuiet of CPU in one settleWindow, and answers how
// long it waited.
func settle(ctx context.Context, most time.Duration) (time.Duration, error) {
	return waitQuiet(ctx, func() (time.Duration, error) { return procstat.CommandCPU("postgres") }, settleWindow, settleQuiet, most)
}

// waitQuiet reads a CPU counter every window until it moved by at most
// quiet in one, or most has passed.
func waitQuiet(ctx context.Context, cpu func() (time.Duration, error), window, quiet, most time.Duration) (time.Duration, error) {
	if most <= 0 {
		return 0, nil
	}
	start := time.Now()
	last, err := cpu()
	if err != nil {
		return 0, err
	}
	t := time.NewTicker(window)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return time.Since(start), ctx.Err()
		case <-t.C:
		}
		now, err := cpu()
		if err != nil {
			return time.Since(start), err
		}
		if now-last <= quiet || time.Since(start) >= most {
			return time.Since(start), nil
		}
		last = now
	}
}

package main

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestWaitQuiet: waitQuiet returns at the first window in which the counter
// moved by no more than quiet, gives up after most, waits not at all when
// most is zero, and passes a counter's error on.
func TestWaitQuiet(t *testing.T) {
	counter := func(steps ...time.Duration) func() (time.Duration, error) {
		var total time.Duration
		i := 0
		return func() (time.Duration, error) {
			if i < len(steps) {
				total += steps[i]
			}
			i++
			return total, nil
		}
	}
	ms := time.Millisecond
	reads := 0
	busyThenQuiet := counter(0, 50*ms, 40*ms, 30*ms, 2*ms)
	waited, err := waitQuiet(t.Context(), func() (time.Duration, error) { reads++; return busyThenQuiet() }, ms, 5*ms, time.Minute)
	if err != nil || reads != 5 {
		t.Errorf("busy for three windows: %d reads, %v; want 5 (quiet in the fourth window)", reads, err)
	}
	if waited >= time.Minute {
		t.Errorf("waited %v", waited)
	}

	always := func() (time.Duration, error) { reads++; return time.Duration(reads) * time.Second, nil }
	waited, err = waitQuiet(t.Context(), always, ms, 5*ms, 20*ms)
	if err != nil || waited < 20*ms {
		t.Errorf("never quiet: waited %v, %v; want at least the 20ms bound", waited, err)
	}

	reads = 0
	if waited, err := waitQuiet(t.Context(), always, ms, 5*ms, 0); waited != 0 || err != nil || reads != 0 {
		t.Errorf("most 0: waited %v, %v, %d reads; want no wait, no read", waited, err, reads)
	}

	boom := errors.New("boom")
	if _, err := waitQuiet(t.Context(), func() (time.Duration, error) { return 0, boom }, ms, 5*ms, time.Minute); !errors.Is(err, boom) {
		t.Errorf("counter error: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := waitQuiet(ctx, always, ms, 5*ms, time.Minute); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

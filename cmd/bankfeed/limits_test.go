package main

import (
	"log/slog"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/config"
	"github.com/bankfeed/bankfeed/store"
)

// TestApplyRuntimeLimits: serve applies memory_limit as the runtime's
// memory limit unless GOMEMLIMIT is set, and the hashing bound from the
// signin settings, whose automatic slot count fits in the memory limit
// (issue 11, finding 1).
func TestApplyRuntimeLimits(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() {
		debug.SetMemoryLimit(before)
		store.SetHashLimits(store.DefaultHashLimits())
	})
	log := slog.New(slog.DiscardHandler)
	t.Setenv("GOMEMLIMIT", "")

	cfg := config.Default()
	cfg.MemoryLimit = "768MiB"
	cfg.SignIn.MaxConcurrentHashes, cfg.SignIn.HashQueue, cfg.SignIn.HashQueueTimeout = 3, 4, 700*time.Millisecond
	applyRuntimeLimits(t.Context(), cfg, log)
	if got := debug.SetMemoryLimit(-1); got != 768<<20 {
		t.Errorf("memory limit %d, want 768MiB", got)
	}
	if l := store.CurrentHashStats().Limits; l != (store.HashLimits{MaxConcurrent: 3, Queue: 4, QueueTimeout: 700 * time.Millisecond}) {
		t.Errorf("hash limits %+v", l)
	}

	// Defaults: one slot per CPU (at least 2), at most what 512MiB holds
	// beside the margin (6), a queue of twice that.
	applyRuntimeLimits(t.Context(), config.Default(), log)
	want := max(2, min(runtime.NumCPU(), 6))
	if l := store.CurrentHashStats().Limits; l.MaxConcurrent != want || l.Queue != 2*want || l.QueueTimeout != 2*time.Second {
		t.Errorf("default hash limits %+v, want %d slots", l, want)
	}
	if got := debug.SetMemoryLimit(-1); got != 512<<20 {
		t.Errorf("default memory limit %d, want 512MiB", got)
	}

	// GOMEMLIMIT wins: the runtime's limit (read at start) is left alone.
	debug.SetMemoryLimit(900 << 20)
	t.Setenv("GOMEMLIMIT", "900MiB")
	cfg.MemoryLimit = "600MiB"
	applyRuntimeLimits(t.Context(), cfg, log)
	if got := debug.SetMemoryLimit(-1); got != 900<<20 {
		t.Errorf("memory limit %d with GOMEMLIMIT set, want it unchanged (900MiB)", got)
	}
}

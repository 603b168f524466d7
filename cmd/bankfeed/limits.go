package main

import (
	"context"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"

	"github.com/bankfeed/bankfeed/config"
	"github.com/bankfeed/bankfeed/store"
)

// hashMemory is what one argon2id computation holds while it runs (the
// store's m=64 MiB), for sizing the memory limit against the hashing bound.
const hashMemory = 64 << 20

// hashMargin is the memory kept for everything else beside the hashes: the
// live heap is tens of MB (README, Performance).
const hashMargin = 128 << 20

// applyRuntimeLimits bounds what a sign-in flood can take (issue 11,
// finding 1): at most signin.max_concurrent_hashes argon2id computations at
// once with a short queue in front of them (store.SetHashLimits; the rest
// get 503), and the Go runtime's soft memory limit, so that the heap is
// collected before it grows past memory_limit whatever GOGC says. The
// standard GOMEMLIMIT variable, when set, wins over memory_limit.
func applyRuntimeLimits(ctx context.Context, cfg config.Config, logger *slog.Logger) {
	limit := int64(-1) // none
	source := "memory_limit"
	if os.Getenv("GOMEMLIMIT") != "" {
		source = "GOMEMLIMIT"
		limit = debug.SetMemoryLimit(-1) // the runtime read it at start
	} else if n, err := config.ParseMemoryLimit(cfg.MemoryLimit); err == nil && n > 0 { // Validate checked it
		limit = n
		debug.SetMemoryLimit(limit)
	}

	hl := store.HashLimits{
		MaxConcurrent: cfg.SignIn.MaxConcurrentHashes,
		Queue:         cfg.SignIn.HashQueue,
		QueueTimeout:  cfg.SignIn.HashQueueTimeout,
	}
	if hl.MaxConcurrent == 0 {
		// One per CPU, at least 2, but no more than the memory limit holds
		// beside a working margin (6 under the default 512MiB).
		hl.MaxConcurrent = max(2, runtime.NumCPU())
		if limit > 0 && limit < 1<<62 {
			hl.MaxConcurrent = max(2, min(hl.MaxConcurrent, int((limit-hashMargin)/hashMemory)))
		}
	}
	if hl.Queue == 0 {
		hl.Queue = 2 * hl.MaxConcurrent
	}
	store.SetHashLimits(hl)
	logger.InfoContext(ctx, "runtime limits", "max_concurrent_hashes", hl.MaxConcurrent, "hash_queue", hl.Queue,
		"hash_queue_timeout", hl.QueueTimeout.String(), "memory_limit", limit, "memory_limit_from", source)
	// The hashes' own memory is live while they run: a limit below it plus
	// a working margin makes the collector run constantly instead.
	if need := int64(hl.MaxConcurrent)*hashMemory + hashMargin; limit > 0 && limit < 1<<62 && limit < need {
		logger.WarnContext(ctx, "memory limit is below what the concurrent password hashes need; raise memory_limit or lower signin.max_concurrent_hashes",
			"memory_limit", limit, "needed", need)
	}
}

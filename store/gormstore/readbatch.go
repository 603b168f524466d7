package gormstore

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// readBatch gathers reads of one statement by key, made at the same time
// by many requests, into one statement over all their keys (issue 15).
// Introspection is one indexed read per call, and on PostgreSQL most of its
// cost was per statement, not per row: the server's write and read system
// calls on the connection, and PostgreSQL's protocol round and executor
// start-up. Nobody waits to fill a batch: a read that finds fewer than
// slots batches running runs at once, with the reads queued so far; a read
// that finds them all busy queues, and the next batch to start takes the
// queue. So every read is answered by a statement that began after it was
// asked, never by an earlier answer, and an idle server runs each read
// alone, as before.
type readBatch[K comparable, V any] struct {
	slots   int           // batches running at once
	most    int           // keys in one batch
	timeout time.Duration // a batch's statement's, if not 0
	// statement is the text of run's statement (its form for one key),
	// for each read's span.
	statement string
	// run reads keys (distinct) in one statement: each key's value, and
	// false for a key with none.
	run func(ctx context.Context, keys []K) (map[K]V, error)
	log *slog.Logger // for a panic of run's; nil: slog.Default()

	mu      sync.Mutex
	running int
	queue   []*batchCall[K, V]
}

// batchCall is one read waiting in, or answered by, a batch.
type batchCall[K comparable, V any] struct {
	ctx  context.Context
	key  K
	done chan struct{} // closed when val, ok and err are set
	val  V
	ok   bool
	err  error
}

// get reads key: its value and true, false if the statement found none,
// or the batch's error. A read whose ctx ends while it waits in the queue
// leaves with ctx's error; once in a batch it has its answer. In a traced
// request the read is a span of its own, from its ask to its answer,
// holding the batch's statement.
func (b *readBatch[K, V]) get(ctx context.Context, key K) (_ V, _ bool, err error) {
	defer traceQuery(ctx, "select", b.statement)(&err)
	if err := ctx.Err(); err != nil {
		// Gone already: a batch of this read alone would start a statement
		// only to cancel it, and discard its connection (direct).
		var zero V
		return zero, false, err
	}
	c := &batchCall[K, V]{ctx: ctx, key: key, done: make(chan struct{})}
	b.mu.Lock()
	if b.running < b.slots {
		b.running++
		batch := append(b.takeLocked(b.most-1), c)
		b.mu.Unlock()
		b.runBatch(batch)
		b.next()
		return c.val, c.ok, c.err
	}
	b.queue = append(b.queue, c)
	b.mu.Unlock()
	select {
	case <-c.done:
	case <-ctx.Done():
		b.mu.Lock()
		if i := slices.Index(b.queue, c); i >= 0 {
			b.queue = slices.Delete(b.queue, i, i+1)
			b.mu.Unlock()
			var zero V
			return zero, false, ctx.Err()
		}
		b.mu.Unlock()
		<-c.done // taken into a batch that is running: its answer is near
	}
	return c.val, c.ok, c.err
}

// takeLocked removes and returns up to n of the queue's oldest reads.
func (b *readBatch[K, V]) takeLocked(n int) []*batchCall[K, V] {
	n = min(n, len(b.queue))
	batch := slices.Clone(b.queue[:n])
	b.queue = slices.Delete(b.queue, 0, n)
	return batch
}

// next hands a finished batch's slot on: to a goroutine that drains the
// reads queued meanwhile, if any (so that the read that ran the batch
// returns now), else back.
func (b *readBatch[K, V]) next() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.queue) == 0 {
		b.running--
		return
	}
	go b.drain()
}

// drain runs batches of the queue until it is empty, then frees its slot.
func (b *readBatch[K, V]) drain() {
	for {
		b.mu.Lock()
		if len(b.queue) == 0 {
			b.running--
			b.mu.Unlock()
			return
		}
		batch := b.takeLocked(b.most)
		b.mu.Unlock()
		b.runBatch(batch)
	}
}

// runBatch reads the batch's keys in one statement and answers each read.
// The statement runs in the first read's context (its values) without its
// span (each read has its own) or its cancellation: it is cancelled when
// every read of the batch has gone, as a lone read's statement is when its
// request goes, or after timeout.
func (b *readBatch[K, V]) runBatch(batch []*batchCall[K, V]) {
	ctx := trace.ContextWithSpanContext(context.WithoutCancel(batch[0].ctx), trace.SpanContext{})
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if b.timeout > 0 {
		var stop context.CancelFunc
		ctx, stop = context.WithTimeout(ctx, b.timeout)
		defer stop()
	}
	var mu sync.Mutex
	waiting := len(batch)
	keys := make([]K, 0, len(batch))
	for _, c := range batch {
		stop := context.AfterFunc(c.ctx, func() {
			mu.Lock()
			defer mu.Unlock()
			if waiting--; waiting == 0 {
				cancel()
			}
		})
		defer stop()
		if !slices.Contains(keys, c.key) {
			keys = append(keys, c.key)
		}
	}
	vals, err := b.safeRun(ctx, keys)
	for _, c := range batch {
		if err != nil {
			c.err = err
		} else {
			c.val, c.ok = vals[c.key]
		}
		close(c.done)
	}
}

// safeRun is run with a panic turned into the batch's error, logged with
// its stack: a batch may run on drain's goroutine, where no request's
// recovery would catch it and the process would die.
func (b *readBatch[K, V]) safeRun(ctx context.Context, keys []K) (vals map[K]V, err error) {
	defer func() {
		if p := recover(); p != nil {
			vals, err = nil, fmt.Errorf("gormstore: batched read: panic: %v", p)
			log := b.log
			if log == nil {
				log = slog.Default()
			}
			log.ErrorContext(ctx, "gormstore: batched read panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		}
	}()
	return b.run(ctx, keys)
}

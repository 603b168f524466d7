package gormstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/internal/syncbuf"
)

// gatedBatch is a readBatch whose statement is a function of the test's:
// it records each batch's keys, answers "v:"+key for keys not starting
// with "missing", and waits at gate (if set) before answering.
type gatedBatch struct {
	*readBatch[string, string]
	gate chan struct{}
	mu   sync.Mutex
	runs [][]string
	ctxs []context.Context
}

func newGatedBatch(slots, most int, gated bool) *gatedBatch {
	g := &gatedBatch{}
	if gated {
		g.gate = make(chan struct{})
	}
	g.readBatch = &readBatch[string, string]{slots: slots, most: most,
		run: func(ctx context.Context, keys []string) (map[string]string, error) {
			g.mu.Lock()
			g.runs, g.ctxs = append(g.runs, slices.Clone(keys)), append(g.ctxs, ctx)
			g.mu.Unlock()
			if g.gate != nil {
				<-g.gate
			}
			out := map[string]string{}
			for _, k := range keys {
				if k == "fail" {
					return nil, errors.New("the statement failed")
				}
				if len(k) < 7 || k[:7] != "missing" {
					out[k] = "v:" + k
				}
			}
			return out, nil
		}}
	return g
}

func (g *gatedBatch) batches() [][]string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.runs)
}

// waitFor polls until cond holds (the batch's state moves on other
// goroutines), failing after ten seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func (g *gatedBatch) queued() int {
	g.readBatch.mu.Lock()
	defer g.readBatch.mu.Unlock()
	return len(g.queue)
}

type answer struct {
	key, val string
	ok       bool
	err      error
}

// read starts a read of key, its answer sent on the channel returned.
func (g *gatedBatch) read(ctx context.Context, key string) <-chan answer {
	ch := make(chan answer, 1)
	go func() {
		v, ok, err := g.get(ctx, key)
		ch <- answer{key, v, ok, err}
	}()
	return ch
}

func TestReadBatchAloneRunsAtOnce(t *testing.T) {
	g := newGatedBatch(1, 64, false)
	if v, ok, err := g.get(t.Context(), "a"); v != "v:a" || !ok || err != nil {
		t.Fatalf("get(a) = %q, %v, %v", v, ok, err)
	}
	if v, ok, err := g.get(t.Context(), "missing"); v != "" || ok || err != nil {
		t.Fatalf("get(missing) = %q, %v, %v; want none", v, ok, err)
	}
	if got := g.batches(); !slices.EqualFunc(got, [][]string{{"a"}, {"missing"}}, slices.Equal) {
		t.Fatalf("batches %v, want one per read", got)
	}
	if g.running != 0 {
		t.Fatalf("%d batches still running", g.running)
	}
}

// Reads made while every slot is busy wait, and the next batch answers
// them all in one statement, each with its own key's value; a key read
// twice is asked once. The running batch answers none of them.
func TestReadBatchQueuedReadsShareTheNextStatement(t *testing.T) {
	g := newGatedBatch(1, 64, true)
	first := g.read(t.Context(), "first")
	waitFor(t, "the first batch", func() bool { return len(g.batches()) == 1 })
	keys := []string{"b", "c", "missing-d", "b", "e"}
	var answers []<-chan answer
	for i, k := range keys {
		answers = append(answers, g.read(t.Context(), k))
		waitFor(t, "the read queued", func() bool { return g.queued() == i+1 })
	}
	close(g.gate)
	if a := <-first; a.val != "v:first" || a.err != nil {
		t.Fatalf("first: %+v", a)
	}
	for i, ch := range answers {
		a := <-ch
		want := answer{key: keys[i], val: "v:" + keys[i], ok: true}
		if keys[i] == "missing-d" {
			want = answer{key: keys[i]}
		}
		if a != want {
			t.Errorf("read %d: %+v, want %+v", i, a, want)
		}
	}
	got := g.batches()
	if len(got) != 2 || !slices.Equal(got[0], []string{"first"}) {
		t.Fatalf("batches %v, want [first] then one of the queued", got)
	}
	if want := []string{"b", "c", "missing-d", "e"}; !slices.Equal(got[1], want) {
		t.Fatalf("second batch asked %v, want %v (in order, once each)", got[1], want)
	}
	waitFor(t, "the slot freed", func() bool { g.readBatch.mu.Lock(); defer g.readBatch.mu.Unlock(); return g.running == 0 })
}

// most bounds a batch's keys; the rest wait for the batch after.
func TestReadBatchMostKeysPerStatement(t *testing.T) {
	g := newGatedBatch(1, 3, true)
	first := g.read(t.Context(), "first")
	waitFor(t, "the first batch", func() bool { return len(g.batches()) == 1 })
	var answers []<-chan answer
	for i := range 7 {
		answers = append(answers, g.read(t.Context(), fmt.Sprint("k", i)))
		waitFor(t, "the read queued", func() bool { return g.queued() == i+1 })
	}
	close(g.gate)
	<-first
	for _, ch := range answers {
		if a := <-ch; a.val != "v:"+a.key || a.err != nil {
			t.Errorf("%+v", a)
		}
	}
	var sizes []int
	for _, b := range g.batches() {
		sizes = append(sizes, len(b))
	}
	if !slices.Equal(sizes, []int{1, 3, 3, 1}) {
		t.Fatalf("batch sizes %v, want [1 3 3 1]", sizes)
	}
}

// A read whose context ends while it waits leaves with the context's
// error, and the next batch does not ask its key.
func TestReadBatchCancelledWhileQueued(t *testing.T) {
	g := newGatedBatch(1, 64, true)
	first := g.read(t.Context(), "first")
	waitFor(t, "the first batch", func() bool { return len(g.batches()) == 1 })
	ctx, cancel := context.WithCancel(t.Context())
	gone := g.read(ctx, "gone")
	stays := g.read(t.Context(), "stays")
	waitFor(t, "two queued reads", func() bool { return g.queued() == 2 })
	cancel()
	if a := <-gone; !errors.Is(a.err, context.Canceled) || a.ok {
		t.Fatalf("cancelled read: %+v, want context.Canceled", a)
	}
	close(g.gate)
	<-first
	if a := <-stays; a.val != "v:stays" || a.err != nil {
		t.Fatalf("stays: %+v", a)
	}
	if got := g.batches(); len(got) != 2 || !slices.Equal(got[1], []string{"stays"}) {
		t.Fatalf("batches %v, want the second to ask only [stays]", got)
	}
}

// A failed statement is every read's error in its batch, and only theirs.
func TestReadBatchErrorReachesItsBatch(t *testing.T) {
	g := newGatedBatch(1, 64, true)
	first := g.read(t.Context(), "first")
	waitFor(t, "the first batch", func() bool { return len(g.batches()) == 1 })
	a, b := g.read(t.Context(), "a"), g.read(t.Context(), "fail")
	waitFor(t, "two queued reads", func() bool { return g.queued() == 2 })
	close(g.gate)
	if x := <-first; x.err != nil {
		t.Fatalf("first: %v", x.err)
	}
	for _, ch := range []<-chan answer{a, b} {
		if x := <-ch; x.err == nil || x.ok {
			t.Errorf("%s: %+v, want the batch's error", x.key, x)
		}
	}
	if v, ok, err := g.get(t.Context(), "after"); v != "v:after" || !ok || err != nil {
		t.Fatalf("a read after the failed batch: %q, %v, %v", v, ok, err)
	}
}

// A batch's statement runs until every read of it has gone: one read's
// client leaving does not cancel the others' answer.
func TestReadBatchStatementOutlivesOneReader(t *testing.T) {
	g := newGatedBatch(1, 64, true)
	first := g.read(t.Context(), "first")
	waitFor(t, "the first batch", func() bool { return len(g.batches()) == 1 })
	ctxA, cancelA := context.WithCancel(t.Context())
	ctxB, cancelB := context.WithCancel(t.Context())
	a, b := g.read(ctxA, "a"), g.read(ctxB, "b")
	waitFor(t, "two queued reads", func() bool { return g.queued() == 2 })
	g.gate <- struct{}{} // the first batch answers; the second starts
	<-first
	waitFor(t, "the second batch", func() bool { return len(g.batches()) == 2 })
	stmt := g.ctxs[1]
	cancelA()
	time.Sleep(10 * time.Millisecond)
	if err := stmt.Err(); err != nil {
		t.Fatalf("the statement's context ended (%v) with one of its two reads still there", err)
	}
	cancelB()
	waitFor(t, "the statement cancelled once both reads went", func() bool { return stmt.Err() != nil })
	close(g.gate)
	for _, ch := range []<-chan answer{a, b} {
		if x := <-ch; x.val != "v:"+x.key { // taken into the batch, so answered
			t.Errorf("%+v", x)
		}
	}
}

// A batch's statement that outlasts the timeout fails its reads with
// context.DeadlineExceeded (an outage to the store's callers), and the
// reads after it run.
func TestReadBatchTimeout(t *testing.T) {
	hang := true
	b := &readBatch[string, string]{slots: 1, most: 64, timeout: 20 * time.Millisecond,
		run: func(ctx context.Context, keys []string) (map[string]string, error) {
			if hang {
				<-ctx.Done()
				return nil, ctx.Err()
			}
			return map[string]string{keys[0]: "v"}, nil
		}}
	if _, _, err := b.get(t.Context(), "a"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a hung statement: %v, want context.DeadlineExceeded", err)
	}
	hang = false
	if v, ok, err := b.get(t.Context(), "b"); v != "v" || !ok || err != nil {
		t.Fatalf("the read after: %q, %v, %v", v, ok, err)
	}
}

// A read whose request has gone already runs no statement.
func TestReadBatchGoneBeforeAsking(t *testing.T) {
	g := newGatedBatch(1, 64, false)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, ok, err := g.get(ctx, "a"); !errors.Is(err, context.Canceled) || ok {
		t.Fatalf("get with a cancelled context: %v, %v; want context.Canceled", ok, err)
	}
	if got := g.batches(); len(got) != 0 {
		t.Fatalf("batches %v, want none", got)
	}
}

// A statement that panics (a programming error) fails its batch's reads,
// including those a drain goroutine answers, where nothing else would
// recover it, and the batch after runs.
func TestReadBatchPanicFailsItsBatch(t *testing.T) {
	g := newGatedBatch(1, 64, true)
	logs := &syncbuf.Buffer{}
	g.log = slog.New(slog.NewTextHandler(logs, nil))
	run := g.run
	g.run = func(ctx context.Context, keys []string) (map[string]string, error) {
		if slices.Contains(keys, "boom") {
			panic("scan")
		}
		return run(ctx, keys)
	}
	first := g.read(t.Context(), "first")
	waitFor(t, "the first batch", func() bool { return len(g.batches()) == 1 })
	boom := g.read(t.Context(), "boom") // queued: a drain goroutine runs its batch
	waitFor(t, "the read queued", func() bool { return g.queued() == 1 })
	close(g.gate)
	<-first
	if a := <-boom; a.err == nil || !strings.Contains(a.err.Error(), "panic") {
		t.Fatalf("a panicking batch: %+v, want its error", a)
	}
	if v, ok, err := g.get(t.Context(), "after"); v != "v:after" || !ok || err != nil {
		t.Fatalf("the read after: %q, %v, %v", v, ok, err)
	}
	if l := logs.String(); !strings.Contains(l, "level=ERROR") || !strings.Contains(l, "batched read panicked") || !strings.Contains(l, "readbatch_test.go") {
		t.Fatalf("the panic was not logged at error level with its stack: %q", l)
	}
}

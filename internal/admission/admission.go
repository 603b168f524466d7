// Package admission bounds how many requests of the busiest routes (the
// OAuth endpoints, the consent page, the data API's reads) work at once,
// and lets the others wait in the order they came.
//
// On a box the server shares with its database, 32 requests at once meant
// 32 database backends and the server's goroutines taking turns on a few
// CPUs in no particular order: the slowest of them waited several times as
// long as the median (refresh p99 67–75 ms at p50 21–25 ms on 2 CPUs).
// Eight at work and the rest queued first come, first served kept the
// machine as busy for less switching, and the tail nearer the median
// (refresh p99 42 ms, 12–20 % more flows per second; README, "Admission").
//
// A slot is held from the handler's start until its response starts (or
// the handler returns): a client slow to read an answer holds none. Work
// that waits on someone else — a vendor's key set fetched over the network
// — hands its slot back meanwhile (Outside), so that a slow vendor cannot
// hold every slot.
//
// The queue is bounded (Queue): a request that would wait behind too many
// others, or longer than the bound, is turned away at once with 503 and
// Retry-After — what each route answers is its own (Middleware's busy) —
// rather than held while its connection, goroutine and buffers pile up.
package admission

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/sync/semaphore"
)

// Gate admits at most its capacity of requests at once; the others wait
// in arrival order (golang.org/x/sync/semaphore serves its waiters first
// in, first out), within the gate's Queue.
type Gate struct {
	sem                      *semaphore.Weighted
	queue                    Queue
	active, waiting, refused atomic.Int64
}

// Queue bounds the wait for a slot.
type Queue struct {
	Len  int           // requests that may wait at once; < 1: any number
	Wait time.Duration // the longest a request waits; ≤ 0: as long as its client does
}

// ErrBusy is why a request was turned away: too many waiting, or it waited
// the queue's longest.
var ErrBusy = errors.New("admission: too many requests waiting")

// New returns a gate of n slots whose waiting requests q bounds, or nil
// (admitting everything) when n < 1.
func New(n int, q Queue) *Gate {
	if n < 1 {
		return nil
	}
	return &Gate{sem: semaphore.NewWeighted(int64(n)), queue: q}
}

// enter takes a slot: at once if one is free and no one waits, else in
// line, for at most the queue's wait, or until ctx ends. A bounded entry
// is refused (ErrBusy) when the line is full or the wait runs out.
func (g *Gate) enter(ctx context.Context, bounded bool) error {
	if g.sem.TryAcquire(1) {
		g.active.Add(1)
		return nil
	}
	n := g.waiting.Add(1)
	if bounded && g.queue.Len > 0 && n > int64(g.queue.Len) {
		g.waiting.Add(-1)
		g.refused.Add(1)
		return ErrBusy
	}
	wait := ctx
	if bounded && g.queue.Wait > 0 {
		var cancel context.CancelFunc
		wait, cancel = context.WithTimeout(ctx, g.queue.Wait)
		defer cancel()
	}
	err := g.sem.Acquire(wait, 1)
	g.waiting.Add(-1)
	switch {
	case err == nil:
		g.active.Add(1)
		return nil
	case ctx.Err() == nil: // the queue's wait ran out, not the request
		g.refused.Add(1)
		return ErrBusy
	default:
		return err
	}
}

func (g *Gate) leave() {
	g.active.Add(-1)
	g.sem.Release(1)
}

// Hold takes a slot as a request would (in line, within the queue's
// bounds) until release is called: for work done outside a request, and
// for tests that fill the gate.
func (g *Gate) Hold(ctx context.Context) (release func(), err error) {
	if err := g.enter(ctx, true); err != nil {
		return nil, err
	}
	return sync.OnceFunc(g.leave), nil
}

// Active is how many requests hold a slot now.
func (g *Gate) Active() int { return int(g.active.Load()) }

// Waiting is how many requests wait for a slot now.
func (g *Gate) Waiting() int { return int(g.waiting.Load()) }

// Refused is how many requests the gate has turned away (ErrBusy).
func (g *Gate) Refused() int64 { return g.refused.Load() }

// slot is a request's place in the gate, carried in its context.
type slot struct {
	g    *Gate
	mu   sync.Mutex
	held bool
}

func (s *slot) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held {
		s.held = false
		s.g.leave()
	}
}

type slotKey struct{}

// RetryAfter is the Retry-After (seconds) of a request turned away: the
// queue drains in well under a second unless the load goes on.
const RetryAfter = "1"

// Middleware admits a request before the handler runs. A request turned
// away is answered by busy (nil: a plain 503), which should say 503 and
// Retry-After (RetryAfter) in the route's own form. A request whose client
// goes away while it waits ends with its context's error, which the access
// log records as 499. A nil gate's middleware admits everything.
func (g *Gate) Middleware(busy echo.HandlerFunc) echo.MiddlewareFunc {
	if busy == nil {
		busy = plainBusy
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		if g == nil {
			return next
		}
		return func(c echo.Context) error {
			req := c.Request()
			if err := g.enter(req.Context(), true); errors.Is(err, ErrBusy) {
				c.Set(turnedAwayKey, true)
				return busy(c)
			} else if err != nil {
				return err
			}
			s := &slot{g: g, held: true}
			defer s.release()
			c.Response().Before(s.release) // the answer is ready: writing it needs no slot
			c.SetRequest(req.WithContext(context.WithValue(req.Context(), slotKey{}, s)))
			return next(c)
		}
	}
}

// turnedAwayKey marks, in the echo context, a request the gate turned away.
const turnedAwayKey = "admission.turned_away"

// TurnedAway reports whether the gate turned c's request away (ErrBusy):
// its 503 is load shed, not a failure, for whoever logs it.
func TurnedAway(c echo.Context) bool {
	v, _ := c.Get(turnedAwayKey).(bool)
	return v
}

func plainBusy(c echo.Context) error {
	c.Response().Header().Set("Retry-After", RetryAfter)
	return c.String(http.StatusServiceUnavailable, "busy: retry later\n")
}

// First puts g's middleware (busy answering whom it turns away) before m:
// a route admitted first and checked after, so that its checks' database
// reads run inside its slot. Without a gate it is m.
func (g *Gate) First(busy echo.HandlerFunc, m ...echo.MiddlewareFunc) []echo.MiddlewareFunc {
	if g == nil {
		return m
	}
	return append([]echo.MiddlewareFunc{g.Middleware(busy)}, m...)
}

// Outside runs fn with ctx's slot handed back, and takes one again (in
// line behind those waiting) before it returns: for waits on others, such
// as a fetch from a vendor's server. It returns ctx's error if ctx ended
// before the slot came back. Without a slot in ctx it just runs fn. Never
// call it while holding a database lock: a request waiting for that lock
// may hold the slot this one waits for.
func Outside(ctx context.Context, fn func()) error {
	s, _ := ctx.Value(slotKey{}).(*slot)
	if s == nil {
		fn()
		return nil
	}
	s.mu.Lock()
	held := s.held
	s.mu.Unlock()
	if !held {
		fn()
		return nil
	}
	s.release()
	fn()
	// Back in line unbounded: the request has done work it would lose.
	if err := s.g.enter(ctx, false); err != nil {
		return err
	}
	s.mu.Lock()
	s.held = true
	s.mu.Unlock()
	return nil
}

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
package admission

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/labstack/echo/v4"
	"golang.org/x/sync/semaphore"
)

// Gate admits at most its capacity of requests at once; the others wait
// in arrival order (golang.org/x/sync/semaphore serves its waiters first
// in, first out).
type Gate struct {
	sem             *semaphore.Weighted
	active, waiting atomic.Int64
}

// New returns a gate of n slots, or nil (admitting everything) when n < 1.
func New(n int) *Gate {
	if n < 1 {
		return nil
	}
	return &Gate{sem: semaphore.NewWeighted(int64(n))}
}

// enter waits for a slot, or for ctx to end.
func (g *Gate) enter(ctx context.Context) error {
	g.waiting.Add(1)
	err := g.sem.Acquire(ctx, 1)
	g.waiting.Add(-1)
	if err != nil {
		return err
	}
	g.active.Add(1)
	return nil
}

func (g *Gate) leave() {
	g.active.Add(-1)
	g.sem.Release(1)
}

// Active is how many requests hold a slot now.
func (g *Gate) Active() int { return int(g.active.Load()) }

// Waiting is how many requests wait for a slot now.
func (g *Gate) Waiting() int { return int(g.waiting.Load()) }

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

// Middleware admits a request before the handler runs. A request whose
// client goes away while it waits ends with its context's error, which the
// access log records as 499. A nil gate's middleware admits everything.
func (g *Gate) Middleware() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		if g == nil {
			return next
		}
		return func(c echo.Context) error {
			req := c.Request()
			if err := g.enter(req.Context()); err != nil {
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

// First puts gate (a route's admission middleware, nil: none) before m:
// a route admitted first and checked after, so that its checks' database
// reads run inside its slot.
func First(gate echo.MiddlewareFunc, m ...echo.MiddlewareFunc) []echo.MiddlewareFunc {
	if gate == nil {
		return m
	}
	return append([]echo.MiddlewareFunc{gate}, m...)
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
	if err := s.g.enter(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	s.held = true
	s.mu.Unlock()
	return nil
}

package dataapi

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// limiter is a token bucket per OAuth client: capacity perMinute, refilled
// at perMinute/60 tokens a second. It lives in memory, so each replica
// counts on its own.
type limiter struct {
	mu       sync.Mutex
	capacity float64
	perSec   float64
	now      func() time.Time
	buckets  map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newLimiter(perMinute int, now func() time.Time) *limiter {
	return &limiter{
		capacity: float64(perMinute), perSec: float64(perMinute) / 60,
		now: now, buckets: map[string]*bucket{},
	}
}

// take spends one token of clientID's bucket and sets the RateLimit-*
// headers (IETF draft-ietf-httpapi-ratelimit-headers): Limit is the bucket
// size, Remaining the whole tokens left, Reset the seconds until the bucket
// is full again. An empty bucket is a 429 problem with Retry-After.
func (l *limiter) take(h http.Header, clientID string) error {
	now := l.now()
	l.mu.Lock()
	b, ok := l.buckets[clientID]
	if !ok {
		if len(l.buckets) >= sweepAt {
			l.sweep(now)
		}
		b = &bucket{tokens: l.capacity, at: now}
		l.buckets[clientID] = b
	}
	if elapsed := now.Sub(b.at).Seconds(); elapsed > 0 {
		b.tokens = math.Min(l.capacity, b.tokens+elapsed*l.perSec)
	}
	b.at = now
	allowed := b.tokens >= 1
	if allowed {
		b.tokens--
	}
	tokens := b.tokens
	l.mu.Unlock()

	h.Set("RateLimit-Limit", strconv.Itoa(int(l.capacity)))
	h.Set("RateLimit-Remaining", strconv.Itoa(int(math.Floor(tokens))))
	h.Set("RateLimit-Reset", strconv.Itoa(int(math.Ceil((l.capacity-tokens)/l.perSec))))
	if !allowed {
		retry := max(1, int(math.Ceil((1-tokens)/l.perSec)))
		return errTooManyRequests(retry)
	}
	return nil
}

// sweepAt is the number of buckets from which a new client's arrival first
// sweeps the full ones away, bounding the memory idle clients hold.
const sweepAt = 10_000

// sweep forgets buckets that have refilled completely (they would be
// recreated full anyway). Called with l.mu held.
func (l *limiter) sweep(now time.Time) {
	for id, b := range l.buckets {
		if b.tokens+now.Sub(b.at).Seconds()*l.perSec >= l.capacity {
			delete(l.buckets, id)
		}
	}
}

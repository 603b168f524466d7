package consent

import (
	"container/list"
	"math"
	"sync"
	"time"
)

// maxLimiterKeys bounds each rate limiter's memory: an attacker who rotates
// client addresses or login IDs only evicts the least recently seen
// buckets (about 150 bytes each, so ~15 MB at most), never grows the map.
// An evicted bucket restarts full, which costs the attacker 100,000 other
// keys' worth of requests first.
const maxLimiterKeys = 100_000

// keyedLimiter is a token bucket per key (a client address, or the login
// key of a typed login ID): perMinute attempts may burst, refilled evenly
// over a minute. It lives in one process: with N replicas behind a
// balancer a key gets up to N × perMinute (README, "Sign-in flood").
type keyedLimiter struct {
	perMinute int
	now       func() time.Time
	maxKeys   int

	mu      sync.Mutex
	lru     *list.List // of *bucket, most recently seen first
	buckets map[string]*list.Element
}

type bucket struct {
	key     string
	tokens  float64
	last    time.Time // when tokens was computed
	audited time.Time // the last limitRefusal recorded in the audit log
}

// newKeyedLimiter returns nil (no limit) when perMinute is not positive.
func newKeyedLimiter(perMinute int, now func() time.Time) *keyedLimiter {
	if perMinute <= 0 {
		return nil
	}
	return &keyedLimiter{perMinute: perMinute, now: now, maxKeys: maxLimiterKeys,
		lru: list.New(), buckets: map[string]*list.Element{}}
}

// limitRefusal is a rate limit's answer to an attempt it does not let through.
type limitRefusal struct {
	retryAfter time.Duration
	audit      bool // the first limitRefusal of this key in its window: record it
}

// take spends one attempt of key. ok=false: refused, with when to retry and
// whether this limitRefusal is the one of its window that goes to the audit log
// (at most one per key per minute, so a flood does not flood the log).
func (l *keyedLimiter) take(key string) (limitRefusal, bool) {
	if l == nil {
		return limitRefusal{}, true
	}
	now := l.now()
	rate := float64(l.perMinute) / float64(time.Minute) // tokens per nanosecond
	l.mu.Lock()
	defer l.mu.Unlock()
	var b *bucket
	if el, ok := l.buckets[key]; ok {
		l.lru.MoveToFront(el)
		b = el.Value.(*bucket)
		if d := now.Sub(b.last); d > 0 {
			b.tokens = math.Min(float64(l.perMinute), b.tokens+float64(d)*rate)
		}
		b.last = now
	} else {
		b = &bucket{key: key, tokens: float64(l.perMinute), last: now}
		l.buckets[key] = l.lru.PushFront(b)
		for l.lru.Len() > l.maxKeys {
			old := l.lru.Back()
			l.lru.Remove(old)
			delete(l.buckets, old.Value.(*bucket).key)
		}
	}
	if b.tokens >= 1 {
		b.tokens--
		return limitRefusal{}, true
	}
	wait := time.Duration(math.Ceil((1 - b.tokens) / rate))
	r := limitRefusal{retryAfter: wait}
	if b.audited.IsZero() || now.Sub(b.audited) >= time.Minute {
		b.audited, r.audit = now, true
	}
	return r, false
}

// retryAfterSeconds is a Retry-After value: whole seconds, at least 1.
func retryAfterSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

package authz

import (
	"sync"
	"time"
)

// sigCache is a bounded map from a token record's signature to what was
// decoded from its sealed request, kept until the record expires. Callers
// still read the record itself (activity, expiry) on every use: only the
// decoding is saved. When full, expired entries go, and if none had,
// everything does (a refill costs one decode per token in use).
type sigCache[V any] struct {
	mu      sync.Mutex
	max     int
	entries map[string]sigCacheEntry[V]
}

type sigCacheEntry[V any] struct {
	v       V
	expires time.Time
}

func newSigCache[V any](max int) *sigCache[V] {
	return &sigCache[V]{max: max, entries: make(map[string]sigCacheEntry[V])}
}

func (c *sigCache[V]) get(sig string) (V, bool) {
	c.mu.Lock()
	e, ok := c.entries[sig]
	c.mu.Unlock()
	return e.v, ok
}

func (c *sigCache[V]) put(sig string, v V, expires, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		for k, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= c.max {
			clear(c.entries)
		}
	}
	c.entries[sig] = sigCacheEntry[V]{v: v, expires: expires}
}

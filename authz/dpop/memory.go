package dpop

import (
	"context"
	"sync"
	"time"
)

// Memory is a per-replica Replay: the jtis seen by this process until
// their proofs' iat window is over. It costs no round trip, but a proof
// replayed to another replica inside the window is not caught there (see
// the README's DPoP section for why resources accept that). Bounded: when
// full, expired entries go, and if none had, everything does — which only
// reopens the window it was built to close, never refuses a fresh proof.
type Memory struct {
	mu   sync.Mutex
	max  int
	now  func() time.Time
	seen map[string]time.Time
}

// NewMemory returns a Memory holding at most max jtis.
func NewMemory(max int, now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	return &Memory{max: max, now: now, seen: make(map[string]time.Time)}
}

// Use records key until exp; ErrReplay if it is held and unexpired.
func (m *Memory) Use(_ context.Context, key string, exp time.Time) error {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.seen[key]; ok && now.Before(e) {
		return ErrReplay
	}
	if len(m.seen) >= m.max {
		for k, e := range m.seen {
			if !now.Before(e) {
				delete(m.seen, k)
			}
		}
		if len(m.seen) >= m.max {
			clear(m.seen)
		}
	}
	m.seen[key] = exp
	return nil
}

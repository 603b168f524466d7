package dataapi

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

// TestLimiterSweep: once sweepAt clients have buckets, a new client's
// arrival forgets the buckets that have refilled (they would be recreated
// full) and keeps the others with their budget. The clock is injected.
func TestLimiterSweep(t *testing.T) {
	now := time.Date(2025, 3, 12, 15, 0, 0, 0, time.UTC)
	l := newLimiter(60, func() time.Time { return now }) // 1 token a second
	h := http.Header{}
	take := func(client string) {
		t.Helper()
		if err := l.take(h, client); err != nil {
			t.Fatalf("%s: %v", client, err)
		}
	}
	for i := range sweepAt - 1 {
		take(fmt.Sprintf("idle%d", i)) // 59 tokens left each
	}
	now = now.Add(500 * time.Millisecond)
	for range 30 {
		take("busy") // a new bucket: 60 - 30 = 30 tokens left
	}
	now = now.Add(time.Second) // every idle bucket is full again, busy's is not
	take("idle0")              // a known client: no sweep
	if n := len(l.buckets); n != sweepAt {
		t.Fatalf("%d buckets before the sweep, want %d", n, sweepAt)
	}
	take("new") // the sweepAt+1st client: sweep
	if n := len(l.buckets); n != 3 {
		t.Errorf("%d buckets after the sweep, want busy, new and idle0 (just used)", n)
	}
	take("busy") // its budget survived the sweep: 30 + 1 - 1
	if got := h.Get("RateLimit-Remaining"); got != "30" {
		t.Errorf("busy's RateLimit-Remaining = %s after the sweep, want 30 (59 would mean its bucket was dropped)", got)
	}
}

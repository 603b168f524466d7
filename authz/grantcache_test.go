package authz

import (
	"fmt"
	"testing"
	"time"
)

// TestGrantCacheBounded: a full cache first drops what has expired, and
// drops everything only when nothing had; it never holds more than max.
func TestGrantCacheBounded(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := newGrantCache(4)
	c.put("old1", grantClaims{scopes: []string{"a"}}, now.Add(-time.Second), now)
	c.put("old2", grantClaims{}, now, now) // expires now: expired
	c.put("live1", grantClaims{firstParty: true}, now.Add(time.Hour), now)
	c.put("live2", grantClaims{}, now.Add(time.Hour), now)
	c.put("live3", grantClaims{}, now.Add(time.Hour), now) // full: the two expired go
	for sig, want := range map[string]bool{"old1": false, "old2": false, "live1": true, "live2": true, "live3": true} {
		if _, ok := c.get(sig); ok != want {
			t.Errorf("get(%s) ok = %v, want %v", sig, ok, want)
		}
	}
	if g, _ := c.get("live1"); !g.firstParty {
		t.Error("live1's claims changed")
	}
	for i := range 10 {
		c.put(fmt.Sprint("more", i), grantClaims{}, now.Add(time.Hour), now)
		if n := len(c.entries); n > 4 {
			t.Fatalf("%d entries, max 4", n)
		}
	}
}

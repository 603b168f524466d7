package gormstore_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/store/gormstore"
	"github.com/bankfeed/bankfeed/store/gormstore/gormtest"
)

// TestRegistrationTokenUses: an initial access token is spent one use at a
// time until none is left — of 8 registrations racing for 3 uses exactly 3
// succeed — and an expired or unknown one is ErrNotFound (issue 13 §3).
func TestRegistrationTokenUses(t *testing.T) {
	st := gormtest.Open(t, "registration", gormstore.Config{})
	ctx := t.Context()
	now := time.Now()
	if _, err := st.CreateRegistrationToken(ctx, store.RegistrationToken{TokenHash: "h3", ExpiresAt: now.Add(time.Hour), UsesLeft: 3}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateRegistrationToken(ctx, store.RegistrationToken{TokenHash: "h0", ExpiresAt: now.Add(time.Hour), UsesLeft: 0}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("a token of no use: %v", err)
	}
	var (
		wg sync.WaitGroup
		mu sync.Mutex
		ok int
	)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := st.UseRegistrationToken(ctx, "h3", now)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, store.ErrNotFound):
				t.Errorf("use: %v", err)
			}
		}()
	}
	wg.Wait()
	if ok != 3 {
		t.Fatalf("%d uses succeeded, want 3", ok)
	}
	if _, err := st.CreateRegistrationToken(ctx, store.RegistrationToken{TokenHash: "hx", ExpiresAt: now.Add(time.Minute), UsesLeft: 5}); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		hash string
		at   time.Time
	}{"expired": {"hx", now.Add(2 * time.Minute)}, "unknown": {"nope", now}} {
		if err := st.UseRegistrationToken(ctx, c.hash, c.at); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s token: %v", name, err)
		}
	}
	if err := st.UseRegistrationToken(ctx, "hx", now); err != nil {
		t.Fatalf("a valid token: %v", err)
	}
}

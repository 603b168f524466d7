package main

import (
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/store/gormstore/gormtest"
)

// sweepOnce removes only records expired for longer than the retention: a
// code that expired a minute ago must still be found (reuse detection).
func TestSweepExpiredTokens(t *testing.T) {
	st := gormtest.OpenStore(t, "cmd_test")
	ctx := t.Context()
	now := time.Now()
	put := func(sig string, expires time.Time) {
		t.Helper()
		if err := st.CreateToken(ctx, store.TokenRecord{Kind: store.TokenAuthorizeCode, Signature: sig, RequestID: "req_" + sig,
			ClientID: "c", Active: true, RequestedAt: now.Add(-72 * time.Hour), ExpiresAt: expires, Request: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	fail := func(key string, expires time.Time) {
		t.Helper()
		if _, err := st.UpdateLoginFailures(ctx, key, func(f store.LoginFailures) store.LoginFailures {
			f.FailedAttempts, f.LastFailedAt, f.ExpiresAt = 1, now.Add(-48*time.Hour), expires
			return f
		}); err != nil {
			t.Fatal(err)
		}
	}
	fail("forgotten", now.Add(-time.Minute))
	fail("remembered", now.Add(time.Minute))
	put("old", now.Add(-sweepRetention-time.Hour))
	put("recent", now.Add(-time.Minute))
	put("live", now.Add(time.Minute))

	sweepOnce(ctx, st, slog.New(slog.DiscardHandler), now)

	if _, err := st.GetToken(ctx, store.TokenAuthorizeCode, "old"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("expired beyond retention: %v, want ErrNotFound", err)
	}
	if f, err := st.GetLoginFailures(ctx, "forgotten"); err != nil || f.FailedAttempts != 0 {
		t.Errorf("expired login failures kept: %+v, %v", f, err)
	}
	if f, err := st.GetLoginFailures(ctx, "remembered"); err != nil || f.FailedAttempts != 1 {
		t.Errorf("login failures swept too early: %+v, %v", f, err)
	}
	for _, sig := range []string{"recent", "live"} {
		if _, err := st.GetToken(ctx, store.TokenAuthorizeCode, sig); err != nil {
			t.Errorf("%s swept too early: %v", sig, err)
		}
	}
}

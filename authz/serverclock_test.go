package authz_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/authz"
)

// TestTokenExpiryOnServerClock: the expiry bankfeed stores with a code or
// token, and judges with Config.Now, is stamped with Config.Now too (issue
// 12). fosite stamps its sessions with time.Now, and the store took that
// stamp: on a server whose clock is an hour behind time.Now, an access
// token of 10 minutes still verified 11 minutes later, on the server's
// clock, and a code lived an hour. (fosite judges its own stamps with
// time.Now; a clock ahead of it cannot even issue ID tokens, fosite
// refusing an auth_time in the future.)
func TestTokenExpiryOnServerClock(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.clock.Advance(-time.Hour)
	e.clock.Freeze()
	tr := e.exchange(e.vendor.ID, e.secret)
	if _, err := e.srv.Verify(e.ctx, tr.AccessToken); err != nil {
		t.Fatalf("the new access token: %v", err)
	}
	r := e.refresh(tr.RefreshToken)
	if r.Status != http.StatusOK {
		t.Fatalf("refresh: %+v", r)
	}
	e.clock.Advance(9 * time.Minute)
	if _, err := e.srv.Verify(e.ctx, r.AccessToken); err != nil {
		t.Fatalf("the refreshed access token after 9 minutes: %v", err)
	}
	e.clock.Advance(2 * time.Minute)
	if _, err := e.srv.Verify(e.ctx, r.AccessToken); !errors.Is(err, authz.ErrInvalidToken) {
		t.Fatalf("the access token (10 minutes) verifies 11 minutes later on the server's clock: %v", err)
	}
}

package authz_test

import (
	"errors"
	"net/http"
	"sync"
	"testing"

	"github.com/bankfeed/bankfeed/authz"
	"github.com/bankfeed/bankfeed/internal/audit"
	"github.com/bankfeed/bankfeed/store"
)

// TestRefreshRetryOncePerRotation: inside the grace period a rotated
// refresh token may be retried once; a second reuse is a theft signal that
// revokes the whole family (every branch, the consent) and is audited as
// token.refresh_family_revoked.
func TestRefreshRetryOncePerRotation(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.clock.Freeze()
	tr := e.exchange(e.vendor.ID, e.secret)
	g, err := e.srv.Verify(e.ctx, tr.AccessToken)
	must(t, err)
	first := e.refresh(tr.RefreshToken)
	if first.Status != http.StatusOK {
		t.Fatalf("refresh: %+v", first)
	}
	retry := e.refresh(tr.RefreshToken)
	if retry.Status != http.StatusOK {
		t.Fatalf("one retry inside the grace period: %+v", retry)
	}
	wantOAuthError(t, e.refresh(tr.RefreshToken), "invalid_grant")

	for _, r := range []tokenResult{first, retry} {
		if _, err := e.srv.Verify(e.ctx, r.AccessToken); !errors.Is(err, authz.ErrInvalidToken) {
			t.Fatalf("a branch's access token survives the second reuse: %v", err)
		}
		wantOAuthError(t, e.refresh(r.RefreshToken), "invalid_grant")
	}
	if c, err := e.st.GetConsent(e.ctx, g.RequestID); err != nil || c.RevokedAt.IsZero() {
		t.Fatalf("consent after the second reuse: %+v %v", c, err)
	}
	es, _, err := e.st.ListAudit(e.ctx, store.AuditFilter{BusinessGroupID: &e.group.ID}, store.Page{Limit: 100})
	must(t, err)
	if n := countAction(es, audit.RefreshFamilyRevoked); n != 1 {
		t.Fatalf("%d %s events, want 1", n, audit.RefreshFamilyRevoked)
	}
}

// TestRefreshConcurrentFirstUse: the same refresh token sent several times
// at once (its first use) yields at most two live branches — the rotation
// and its one retry — never one per request.
func TestRefreshConcurrentFirstUse(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.clock.Freeze()
	tr := e.exchange(e.vendor.ID, e.secret)
	const n = 4
	results := make([]tokenResult, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = e.refresh(tr.RefreshToken)
		}()
	}
	wg.Wait()
	ok := 0
	for _, r := range results {
		if r.Status == http.StatusOK {
			ok++
		}
	}
	if ok == 0 || ok > 2 {
		t.Fatalf("%d of %d concurrent uses got tokens, want 1 or 2", ok, n)
	}
}

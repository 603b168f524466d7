package consent

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/store"
)

var loginErrorRe = regexp.MustCompile(`id="login-error">([^<]*)<`)

// TestFinding7UnknownLoginIDLocksLikeKnown: a login ID nobody holds
// (unknown, a deleted user's, one pending approval) locks after the same
// five failures as a user's and for as long; at every attempt the answer —
// status and message — is the same as for a known user, and the same steps
// run: exactly one argon2 verification (the dummy hash for nobody, and for
// anyone while locked) and one counted failure. Before, unknown IDs never
// locked, so the sixth answer told them apart. The failures of nobody are
// kept under a digest, never the typed ID, and swept once forgotten.
func TestFinding7UnknownLoginIDLocksLikeKnown(t *testing.T) {
	en := newEnv(t)
	ctx := t.Context()
	en.user("alice", userOpts{role: en.roleFull.ID})
	en.user("frozen", userOpts{role: en.roleFull.ID, status: store.UserLocked})
	en.user("gone", userOpts{role: en.roleFull.ID, status: store.UserDeleted})
	en.user("waiting", userOpts{role: en.roleFull.ID, status: store.UserPendingApproval})

	var mu sync.Mutex
	var verified []string // hashes verified, in order
	en.h.verify = func(ctx context.Context, hash, secret string) (bool, error) {
		mu.Lock()
		verified = append(verified, hash)
		mu.Unlock()
		return store.VerifySecretContext(ctx, hash, secret)
	}
	attempt := func(login, password string) (status int, msg string, hashes []string) {
		t.Helper()
		mu.Lock()
		verified = nil
		mu.Unlock()
		p := en.browser().signIn(pathLogin, login, password)
		m := loginErrorRe.FindStringSubmatch(p.Body)
		if m == nil {
			t.Fatalf("%s: no error on the page (status %d):\n%s", login, p.StatusCode, p.Body)
		}
		mu.Lock()
		defer mu.Unlock()
		return p.StatusCode, m[1], append([]string(nil), verified...)
	}
	logins := []string{"alice", "frozen", "nobody", "Gone", "waiting"}
	known := map[string]bool{"alice": true, "frozen": true}
	for round := 1; round <= 7; round++ {
		var want struct {
			status int
			msg    string
		}
		for i, login := range logins {
			status, msg, hashes := attempt(login, "Wrong-Password-1")
			if i == 0 {
				want.status, want.msg = status, msg
			} else if status != want.status || msg != want.msg {
				t.Errorf("attempt %d for %s: %d %q; for %s: %d %q", round, login, status, msg, logins[0], want.status, want.msg)
			}
			if len(hashes) != 1 {
				t.Fatalf("attempt %d for %s: %d verifications, want 1", round, login, len(hashes))
			}
			if dummy := hashes[0] == en.h.dummyHash; dummy != (!known[login] || round > 5) {
				t.Errorf("attempt %d for %s: dummy hash verified = %v", round, login, dummy)
			}
		}
		wantStatus := http.StatusUnauthorized
		if round >= 5 {
			wantStatus = http.StatusForbidden
		}
		if want.status != wantStatus || (round >= 5) != strings.Contains(want.msg, "Too many failed attempts") {
			t.Fatalf("attempt %d: %d %q", round, want.status, want.msg)
		}
	}

	// Nobody's failures are kept under a digest of the normalized ID.
	key := en.h.loginKey(" NoBody ")
	if strings.Contains(strings.ToLower(key), "nobody") {
		t.Fatalf("login key %q holds the login ID", key)
	}
	f, err := en.st.GetLoginFailures(ctx, key)
	if err != nil || f.FailedAttempts != 5 || !f.LockedUntil.Equal(en.clock.Now().Add(15*time.Minute)) {
		t.Fatalf("nobody's failures = %+v, %v", f, err)
	}

	// The lock runs out for both alike.
	en.clock.Advance(16 * time.Minute)
	for _, login := range logins {
		if status, msg, _ := attempt(login, "Wrong-Password-1"); status != http.StatusUnauthorized || strings.Contains(msg, "locked") {
			t.Errorf("after the lock, %s: %d %q", login, status, msg)
		}
	}
	b := en.browser()
	if p := b.signIn(pathLogin, "alice", goodPassword); p.StatusCode != http.StatusOK || p.Request.URL.Path != pathConnections {
		t.Fatalf("alice after the lock: %d %s", p.StatusCode, p.Request.URL.Path)
	}

	// Forgotten a window after the last failure: swept.
	if n, err := en.st.DeleteExpiredLoginFailures(ctx, en.clock.Now()); err != nil || n != 0 {
		t.Fatalf("sweep before expiry = %d, %v", n, err)
	}
	if n, err := en.st.DeleteExpiredLoginFailures(ctx, en.clock.Now().Add(24*time.Hour+time.Second)); err != nil || n != 3 {
		t.Fatalf("sweep after the window = %d, %v; want nobody's, gone's and waiting's", n, err)
	}
}

// TestLoginKeyIsKeyed: with a secret the digest is an HMAC under it, the
// same for every spelling GetUserByLogin matches.
func TestLoginKeyIsKeyed(t *testing.T) {
	plain := newEnv(t)
	keyed := newEnv(t, func(c *Config) { c.LoginKeySecret = []byte("server secret") })
	other := newEnv(t, func(c *Config) { c.LoginKeySecret = []byte("another secret") })
	a, b, c := plain.h.loginKey("nobody"), keyed.h.loginKey(" NOBODY"), other.h.loginKey("nobody")
	if !strings.HasPrefix(a, "sha256:") || !strings.HasPrefix(b, "hmac:") || b == c || b != keyed.h.loginKey("nobody") {
		t.Fatalf("keys %q %q %q", a, b, c)
	}
}

package consent

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/store"
)

// TestFlowMovedFromAStaleRead: the sign-in page and the consent form move
// the flow they read without reading it again (issue 15), but a flow that
// changed since their read is judged afresh, as if they had not read it:
// the same user's second tab still reaches consent, another user's is
// refused, and a decision on a flow decided meanwhile is a conflict.
func TestFlowMovedFromAStaleRead(t *testing.T) {
	en := newEnv(t)
	ctx := t.Context()
	f := en.flow()
	read, err := en.st.GetAuthFlow(ctx, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	// Another tab of the same user moved it on meanwhile.
	now := en.clock.Now()
	if _, err := en.st.UpdateAuthFlow(ctx, f.ID, func(x store.AuthFlow) (store.AuthFlow, error) {
		x.State, x.UserID, x.AuthTime = store.FlowConsent, "usr_a", now
		return x, nil
	}); err != nil {
		t.Fatal(err)
	}
	if got, err := en.h.advanceToConsent(ctx, f.ID, store.BrowserSession{UserID: "usr_a", AuthTime: now}, read); err != nil || got.State != store.FlowConsent || got.UserID != "usr_a" {
		t.Errorf("the same user's stale read: %+v, %v; want the flow at consent", got, err)
	}
	if _, err := en.h.advanceToConsent(ctx, f.ID, store.BrowserSession{UserID: "usr_b", AuthTime: now}, read); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another user's stale read: %v, want ErrNotFound", err)
	}
	got, err := en.st.GetAuthFlow(ctx, f.ID)
	if err != nil || got.State != store.FlowConsent || got.UserID != "usr_a" {
		t.Fatalf("flow = %+v, %v; want at consent for usr_a", got, err)
	}

	// The consent form read the flow at consent; it was decided meanwhile.
	read = got
	if _, err := en.h.decide(ctx, consentStep{flow: read, u: store.User{ID: "usr_a"}}, []string{"accounts.read"}, ""); err != nil {
		t.Fatalf("decide: %v", err)
	}
	if _, err := en.h.decide(ctx, consentStep{flow: read, u: store.User{ID: "usr_a"}}, nil, reasonUserDenied); !errors.Is(err, store.ErrConflict) {
		t.Errorf("a second decision from the same read: %v, want ErrConflict", err)
	}
	if got, _ := en.st.GetAuthFlow(ctx, f.ID); got.State != store.FlowDecided || got.Denied {
		t.Errorf("flow = %+v, want decided and allowed", got)
	}
}

// TestConsentPageReadsSessionAndFlowTogether: the consent page reads the
// browser's session and its flow in one statement (issue 15) and judges
// each as before: a session whose user was locked since sends the browser
// to sign in, the flow untouched, and is deleted (it does not work again
// once the user is unlocked); a challenge too long to be one is the
// expired page, and so is a flow that expired.
func TestConsentPageReadsSessionAndFlowTogether(t *testing.T) {
	en := newEnv(t)
	en.user("alice", userOpts{role: en.roleFull.ID})
	setStatus := func(s store.UserStatus) {
		t.Helper()
		if _, err := en.st.UpdateUser(t.Context(), "usr_alice", func(u store.User) (store.User, error) {
			u.Status = s
			return u, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	b := en.browser()
	b.signIn(pathLogin, "alice", goodPassword).status(t, http.StatusOK)
	f := en.flow()
	setStatus(store.UserLocked)
	if p := b.get(pathConsent + "?login_challenge=" + f.ID); p.Request.URL.Path != pathLogin {
		t.Errorf("a locked user's session reached %s", p.Request.URL.Path)
	}
	if got := en.getFlow(f.ID); got.State != store.FlowLogin || got.UserID != "" {
		t.Errorf("flow after a locked user's visit: %+v, want untouched", got)
	}
	setStatus(store.UserActive)
	if p := b.get(pathConsent + "?login_challenge=" + f.ID); p.Request.URL.Path != pathLogin {
		t.Errorf("the session of a user locked, then unlocked, reached %s: it was not deleted", p.Request.URL.Path)
	}

	b.signIn(pathLogin, "alice", goodPassword).status(t, http.StatusOK)
	b.get(pathConsent+"?login_challenge="+strings.Repeat("a", 257)).status(t, http.StatusNotFound)
	b.get(pathConsent+"?login_challenge="+f.ID).status(t, http.StatusOK)
	en.clock.Advance(11 * time.Minute)
	b.get(pathConsent+"?login_challenge="+f.ID).status(t, http.StatusNotFound)
}

// TestConsentPageMovesItsFlowInItsRead: a signed-in browser's consent page
// reads its session, its flow and the user's accounts and moves the flow
// to consent for the session's user in one step (ConsentPageFlow, issue
// 15): the page lists the group's accounts, never the business group's
// others or another group's, and the flow is at consent for the user, with
// the session's sign-in time, moved once.
func TestConsentPageMovesItsFlowInItsRead(t *testing.T) {
	en := newEnv(t)
	en.user("alice", userOpts{role: en.roleFull.ID})
	b := en.browser()
	b.signIn(pathLogin, "alice", goodPassword).status(t, http.StatusOK)
	signedInAt := en.clock.Now()
	en.clock.Advance(time.Minute)

	f := en.flow()
	p := b.get(pathConsent + "?login_challenge=" + f.ID)
	p.status(t, http.StatusOK)
	p.mustContain(t, "US Dollar Business Account", en.a1.Number[len(en.a1.Number)-4:], en.a2.Number[len(en.a2.Number)-4:])
	p.mustNotContain(t, en.a3.Number[len(en.a3.Number)-4:], en.b1.Number[len(en.b1.Number)-4:])
	got := en.getFlow(f.ID)
	if got.State != store.FlowConsent || got.UserID != "usr_alice" || !got.AuthTime.Equal(signedInAt) || got.Version != f.Version+1 {
		t.Errorf("flow after its consent page: %+v, want at consent for alice, signed in at %v, moved once", got, signedInAt)
	}
	// Shown again: nothing moves.
	b.get(pathConsent+"?login_challenge="+f.ID).status(t, http.StatusOK)
	if again := en.getFlow(f.ID); again.Version != got.Version {
		t.Errorf("the page shown again moved the flow: version %d, was %d", again.Version, got.Version)
	}
}

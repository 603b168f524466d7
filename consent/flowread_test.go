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

// TestConsentPageListingFromAStaleRead: the consent page moves its flow
// and lists the user's accounts in one step (advanceListing), but a flow
// that changed since the page's read is judged afresh and nothing is
// listed with it (the page reads the accounts itself): the same user's
// second tab still reaches consent, another user's is refused.
func TestConsentPageListingFromAStaleRead(t *testing.T) {
	en := newEnv(t)
	ctx := t.Context()
	en.user("alice", userOpts{role: en.roleFull.ID})
	access, err := en.st.UserAccess(ctx, "usr_alice")
	if err != nil {
		t.Fatal(err)
	}
	now := en.clock.Now()
	alice := store.BrowserSession{UserID: "usr_alice", AuthTime: now}

	f := en.flow()
	read, err := en.st.GetAuthFlow(ctx, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, listed, err := en.h.advanceListing(ctx, f.ID, alice, read, access)
	if err != nil || got.State != store.FlowConsent || got.UserID != "usr_alice" || listed == nil || len(listed.accounts) != 2 {
		t.Fatalf("advanceListing = %+v, %+v, %v; want at consent for alice with her group's two accounts", got, listed, err)
	}

	f = en.flow()
	read, err = en.st.GetAuthFlow(ctx, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := en.st.UpdateAuthFlow(ctx, f.ID, func(x store.AuthFlow) (store.AuthFlow, error) {
		x.State, x.UserID, x.AuthTime = store.FlowConsent, "usr_alice", now
		return x, nil
	}); err != nil {
		t.Fatal(err)
	}
	got, listed, err = en.h.advanceListing(ctx, f.ID, alice, read, access)
	if err != nil || got.State != store.FlowConsent || got.UserID != "usr_alice" || listed != nil {
		t.Errorf("the same user's stale read: %+v, %+v, %v; want the flow at consent, nothing listed", got, listed, err)
	}
	if _, _, err := en.h.advanceListing(ctx, f.ID, store.BrowserSession{UserID: "usr_b", AuthTime: now}, read, access); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another user's stale read: %v, want ErrNotFound", err)
	}
}

package consent

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/internal/audit"
	"github.com/bankfeed/bankfeed/store"
)

const auditUA = "AuditBrowser/1.0 (consent test)"

// auditFrom lists the events after seq (in order).
func (en *env) auditFrom(seq int64) []store.AuditEvent {
	en.t.Helper()
	es, _, err := en.st.ListAudit(en.t.Context(), store.AuditFilter{}, store.Page{After: itoa(seq), Limit: 1000})
	if err != nil {
		en.t.Fatalf("list audit: %v", err)
	}
	return es
}

func itoa(n int64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}

// auditBrowser is a browser that names itself and each request.
func (en *env) auditBrowser() *browser {
	b := en.browser()
	b.hdr.Set("User-Agent", auditUA)
	return b
}

// wantEvent is what an event must hold beside the origin.
type wantEvent struct {
	action, outcome, bg, actor, targetType, targetID string
	after                                            map[string]any // keys that must be there with these values; nil: no after
}

func checkEvent(t *testing.T, got store.AuditEvent, want wantEvent, rid string) {
	t.Helper()
	if got.Action != want.action || got.Outcome != want.outcome || got.BusinessGroupID != want.bg || got.ActorID != want.actor ||
		got.TargetType != want.targetType || got.TargetID != want.targetID {
		t.Errorf("event = %s/%s bg %q actor %q target %s %q; want %s/%s bg %q actor %q target %s %q", got.Action, got.Outcome,
			got.BusinessGroupID, got.ActorID, got.TargetType, got.TargetID, want.action, want.outcome, want.bg, want.actor, want.targetType, want.targetID)
	}
	if got.RemoteAddr != "127.0.0.1" || got.UserAgent != auditUA || got.HTTPRequestID != rid || got.At.IsZero() {
		t.Errorf("%s: origin %q %q %q at %v; want 127.0.0.1, %q, %q", got.Action, got.RemoteAddr, got.UserAgent, got.HTTPRequestID, got.At, auditUA, rid)
	}
	if want.after == nil && len(got.After) != 0 {
		t.Errorf("%s: after %s, want none", got.Action, got.After)
	}
	var after map[string]any
	if len(got.After) > 0 {
		if err := json.Unmarshal(got.After, &after); err != nil {
			t.Errorf("%s: after %s: %v", got.Action, got.After, err)
		}
	}
	for k, v := range want.after {
		if after[k] != v {
			t.Errorf("%s: after[%q] = %v, want %v (after %s)", got.Action, k, after[k], v, got.After)
		}
	}
}

// noSecrets fails if any event, as stored, holds one of the typed values.
func noSecrets(t *testing.T, es []store.AuditEvent, typed ...string) {
	t.Helper()
	raw, err := json.Marshal(es)
	if err != nil {
		t.Fatal(err)
	}
	low := strings.ToLower(string(raw))
	for _, s := range typed {
		if strings.Contains(low, strings.ToLower(s)) {
			t.Errorf("the audit log holds %q:\n%s", s, raw)
		}
	}
}

// TestSignInAudited (issue 10 §5): each sign-in on the bank's pages is in the
// audit log with who, which business, how it ended and where it came from
// (remote address, user agent, X-Request-ID): a wrong password, the failure
// that locks, an attempt while locked, the sign-in after the lock, an
// administrator's lock, a first sign-in and a disconnection by the user.
// The password and the login ID typed are in no event.
func TestSignInAudited(t *testing.T) {
	en := newEnv(t)
	ctx := t.Context()
	// The user's ID does not contain its login ID, so a scan can tell them apart.
	u, err := en.st.CreateUser(ctx, store.User{ID: "usr_7q2k", BusinessGroupID: en.bg.ID, LoginID: "maple.books", DisplayName: "Books",
		AccountingSoftware: true, Status: store.UserActive, PasswordHash: goodHash()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := en.st.PutAssignment(ctx, store.Assignment{BusinessGroupID: en.bg.ID, UserID: u.ID, JobRoleID: en.roleFull.ID, AccountGroupID: en.g1.ID}); err != nil {
		t.Fatal(err)
	}
	frozen := en.user("frozen", userOpts{role: en.roleFull.ID, status: store.UserLocked})
	user := func(action, outcome string, after map[string]any) wantEvent {
		return wantEvent{action: action, outcome: outcome, bg: en.bg.ID, actor: u.ID, targetType: "user", targetID: u.ID, after: after}
	}
	const wrong = "Wrong-Typed-Secret-41"
	b := en.auditBrowser()
	var seq int64
	step := func(rid string, do func() page, wantStatus int, want ...wantEvent) {
		t.Helper()
		b.hdr.Set("X-Request-ID", rid)
		do().status(t, wantStatus)
		es := en.auditFrom(seq)
		if len(es) != len(want) {
			t.Fatalf("%s: %d events, want %d: %+v", rid, len(es), len(want), es)
		}
		for i := range es {
			checkEvent(t, es[i], want[i], rid)
			seq = es[i].Seq
		}
	}

	// Four wrong passwords fail; the fifth fails and locks.
	for i := range 4 {
		step("rid-wrong-"+itoa(int64(i+1)), func() page { return b.signIn(pathLogin, "maple.books", wrong) }, http.StatusUnauthorized,
			user(audit.SignInFailed, audit.Failure, map[string]any{"reason": "bad_credentials"}))
	}
	step("rid-locks", func() page { return b.signIn(pathLogin, "maple.books", wrong) }, http.StatusForbidden,
		user(audit.SignInFailed, audit.Failure, map[string]any{"reason": "bad_credentials"}),
		user(audit.SignInLockedOut, audit.Failure, map[string]any{"failedAttempts": 5.0, "lockedUntil": en.clock.Now().Add(15 * time.Minute).Format(time.RFC3339)}))
	// While locked even the right password is refused.
	step("rid-while-locked", func() page { return b.signIn(pathLogin, "maple.books", goodPassword) }, http.StatusForbidden,
		user(audit.SignInFailed, audit.Refused, map[string]any{"reason": "locked_out"}))
	// After the lock, a sign-in through a vendor's flow succeeds.
	en.clock.Advance(16 * time.Minute)
	f := en.flow()
	step("rid-ok", func() page { return b.signIn(withChallenge(pathLogin, f.ID), "maple.books", goodPassword) }, http.StatusOK,
		user(audit.SignInSucceeded, audit.Success, map[string]any{"clientId": vendorClientID}))

	// The user disconnects the vendor on /account/connections.
	cs := en.consent(u.ID)
	p := b.get(pathConnections)
	csrf, _ := p.form(t)
	step("rid-disconnect", func() page {
		return b.post(pathConnections+"/"+cs.ID+"/disconnect", url.Values{"csrf": {csrf}})
	}, http.StatusOK, wantEvent{action: audit.ConsentRevoked, outcome: audit.Success, bg: en.bg.ID, actor: u.ID, targetType: "consent", targetID: cs.ID,
		after: map[string]any{"by": audit.ByUser, "userId": u.ID, "clientId": vendorClientID}})

	// An administrator's lock shows only to whoever knows the password.
	fb := en.auditBrowser()
	fb.hdr.Set("X-Request-ID", "rid-frozen")
	fb.signIn(pathLogin, "frozen", goodPassword).status(t, http.StatusForbidden)
	es := en.auditFrom(seq)
	if len(es) != 1 {
		t.Fatalf("admin-locked sign-in: %d events", len(es))
	}
	checkEvent(t, es[0], wantEvent{action: audit.SignInFailed, outcome: audit.Refused, bg: en.bg.ID, actor: frozen.ID, targetType: "user", targetID: frozen.ID,
		after: map[string]any{"reason": "locked_by_administrator"}}, "rid-frozen")
	seq = es[0].Seq

	// A new user's sign-in, then the first sign-in completed.
	newbie := en.user("newbie", userOpts{role: en.roleFull.ID, temp: true})
	nb := en.auditBrowser()
	nb.hdr.Set("X-Request-ID", "rid-temp")
	first := nb.signIn(pathLogin, "newbie", tempPassword)
	first.status(t, http.StatusOK)
	csrf, action := first.form(t)
	nb.hdr.Set("X-Request-ID", "rid-first")
	const newPassword, answer = "Fresh-Typed-Password-93", "Typed Answer Lakeview"
	nb.post(action, url.Values{"csrf": {csrf}, "new_password": {newPassword}, "confirm_password": {newPassword},
		"security_question": {store.SecurityQuestions[0]}, "answer": {answer}}).status(t, http.StatusOK)
	es = en.auditFrom(seq)
	if len(es) != 2 {
		t.Fatalf("first sign-in: %d events: %+v", len(es), es)
	}
	nu := func(action string) wantEvent {
		return wantEvent{action: action, outcome: audit.Success, bg: en.bg.ID, actor: newbie.ID, targetType: "user", targetID: newbie.ID}
	}
	checkEvent(t, es[0], nu(audit.SignInSucceeded), "rid-temp")
	checkEvent(t, es[1], nu(audit.SignInFirstCompleted), "rid-first")

	noSecrets(t, en.auditFrom(0), wrong, goodPassword, tempPassword, newPassword, answer, "maple.books")
}

// TestUnknownLoginIDAuditedAtBankLevel (issue 10 §5 with finding 7): the
// failures of a login ID nobody holds — unknown, a deleted user's — are
// audited under no business group (only the bank's /ops/v1/audit shows
// them), named by the login key the lockout counts them under and never by
// the typed ID; they lock like a user's and the lock is audited too.
func TestUnknownLoginIDAuditedAtBankLevel(t *testing.T) {
	en := newEnv(t, func(c *Config) { c.LoginKeySecret = []byte("audit test secret") })
	en.user("gone", userOpts{role: en.roleFull.ID, status: store.UserDeleted})
	const typed, wrong = "Ghost.Typed.Login", "Ghost-Typed-Password-7"
	b := en.auditBrowser()
	for i := range 5 {
		b.hdr.Set("X-Request-ID", "rid-ghost-"+itoa(int64(i+1)))
		b.signIn(pathLogin, typed, wrong)
	}
	b.hdr.Set("X-Request-ID", "rid-gone")
	b.signIn(pathLogin, "gone", goodPassword).status(t, http.StatusUnauthorized)
	b.hdr.Set("X-Request-ID", "rid-empty")
	b.signIn(pathLogin, typed, "").status(t, http.StatusUnauthorized)

	es := en.auditFrom(0)
	key := en.h.loginKey(typed)
	nobody := func(action, outcome, key string, after map[string]any) wantEvent {
		w := wantEvent{action: action, outcome: outcome, after: after}
		if key != "" {
			w.targetType, w.targetID = "login_key", key
		}
		return w
	}
	failed := map[string]any{"reason": "bad_credentials"}
	want := []wantEvent{
		nobody(audit.SignInFailed, audit.Failure, key, failed), nobody(audit.SignInFailed, audit.Failure, key, failed),
		nobody(audit.SignInFailed, audit.Failure, key, failed), nobody(audit.SignInFailed, audit.Failure, key, failed),
		nobody(audit.SignInFailed, audit.Failure, key, failed), nobody(audit.SignInLockedOut, audit.Failure, key, map[string]any{"failedAttempts": 5.0}),
		nobody(audit.SignInFailed, audit.Failure, en.h.loginKey("gone"), failed),
		nobody(audit.SignInFailed, audit.Failure, "", failed), // nothing looked up: no key
	}
	rids := []string{"rid-ghost-1", "rid-ghost-2", "rid-ghost-3", "rid-ghost-4", "rid-ghost-5", "rid-ghost-5", "rid-gone", "rid-empty"}
	if len(es) != len(want) {
		t.Fatalf("%d events, want %d: %+v", len(es), len(want), es)
	}
	for i := range es {
		checkEvent(t, es[i], want[i], rids[i])
	}
	// No business sees them.
	for _, bg := range []string{en.bg.ID, en.bg2.ID} {
		if got, _, err := en.st.ListAudit(t.Context(), store.AuditFilter{BusinessGroupID: &bg}, store.Page{}); err != nil || len(got) != 0 {
			t.Errorf("business %s sees %d events (%v)", bg, len(got), err)
		}
	}
	noSecrets(t, es, typed, wrong, goodPassword, "usr_gone")
}

package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/store"
)

// testRefreshRotationCreating: a refresh grant's rotation and its new
// records in one step (RotateRefreshTokenCreating). It rotates an active
// token of a standing consent, ends the access token issued with it and
// writes the new records, once of 20 concurrent callers; in every other
// case it changes nothing and says so: the token rotated already, missing,
// of a revoked or a missing consent, new records of another request, or a
// new record already stored (ErrConflict).
func testRefreshRotationCreating(t *testing.T, s store.Store) {
	ctx := t.Context()
	consent := standingConsents(t, s)
	// grant stores an access token and the refresh token issued with it.
	grant := func(requestID, name string) {
		noErr(t, s.CreateTokens(ctx, grantPair(requestID, name)...), "CreateTokens("+name+")")
	}
	newPair := grantPair
	active := func(kind store.TokenKind, sig string) bool {
		t.Helper()
		return must(s.GetToken(ctx, kind, sig))(t).Active
	}
	missing := func(what string, recs ...store.TokenRecord) { t.Helper(); absent(t, s, what, recs...) }
	unchanged := func(what, refresh string, recs ...store.TokenRecord) {
		t.Helper()
		if !active(store.TokenRefresh, refresh) || !active(store.TokenAccess, refresh+"-access") {
			t.Errorf("%s: the refresh token or its access token was ended", what)
		}
		if got := must(s.GetToken(ctx, store.TokenRefresh, refresh))(t); !got.FirstUsedAt.IsZero() {
			t.Errorf("%s: the refresh token was stamped used at %v", what, got.FirstUsedAt)
		}
		missing(what, recs...)
	}
	refuses := func(what, refresh string, recs []store.TokenRecord) {
		t.Helper()
		if ok, err := s.RotateRefreshTokenCreating(ctx, refresh, t0.Add(time.Minute), recs...); err != nil || ok {
			t.Errorf("%s: RotateRefreshTokenCreating = %v, %v; want false, nil", what, ok, err)
		}
		unchanged(what, refresh, recs...)
	}

	c := consent()
	grant(c.ID, "rc-1")
	other := consent()
	refuses("new records of another consent", "rc-1", newPair(other.ID, "rc-x"))
	refuses("new records of two consents", "rc-1", append(newPair(c.ID, "rc-y")[:1], newPair(other.ID, "rc-y")[1]))

	revoked := consent()
	grant(revoked.ID, "rc-revoked")
	noErr(t, s.RevokeConsent(ctx, revoked.ID, t0), "RevokeConsent")
	if active(store.TokenRefresh, "rc-revoked") {
		t.Fatal("the revocation left the refresh token active")
	}
	if ok, err := s.RotateRefreshTokenCreating(ctx, "rc-revoked", t0.Add(time.Minute), newPair(revoked.ID, "rc-r2")...); err != nil || ok {
		t.Errorf("revoked consent: RotateRefreshTokenCreating = %v, %v; want false, nil", ok, err)
	}
	missing("revoked consent", newPair(revoked.ID, "rc-r2")...)

	grant("no-such-consent", "rc-orphan")
	refuses("a token of no consent", "rc-orphan", newPair("no-such-consent", "rc-o2"))
	if ok, err := s.RotateRefreshTokenCreating(ctx, "rc-missing", t0, newPair(c.ID, "rc-m2")...); err != nil || ok {
		t.Errorf("missing token: RotateRefreshTokenCreating = %v, %v; want false, nil", ok, err)
	}
	missing("missing token", newPair(c.ID, "rc-m2")...)

	// A new record already stored: nothing is kept, the rotation included.
	clash := newPair(c.ID, "rc-clash")
	clash[0].Signature = "rc-1-access"
	_, err := s.RotateRefreshTokenCreating(ctx, "rc-1", t0.Add(time.Minute), clash...)
	mustBe(t, err, store.ErrConflict, "RotateRefreshTokenCreating(a record already stored)")
	unchanged("a record already stored", "rc-1", clash[1])

	winner := spentOnce(t, s, "rotated the token", c.ID, "rc-2", func(i int, recs []store.TokenRecord) (bool, error) {
		return s.RotateRefreshTokenCreating(ctx, "rc-1", t0.Add(time.Duration(i+1)*time.Second), recs...)
	})
	after := must(s.GetToken(ctx, store.TokenRefresh, "rc-1"))(t)
	if after.Active || !after.FirstUsedAt.Equal(t0.Add(time.Duration(winner+1)*time.Second)) {
		t.Errorf("rotated token = active %v, first used %v; want inactive, used at the winner's time", after.Active, after.FirstUsedAt)
	}
	if active(store.TokenAccess, "rc-1-access") {
		t.Error("the access token issued with the rotated refresh token is still active")
	}
	// Rotated already: the steps one by one tell the rest.
	if ok, err := s.RotateRefreshTokenCreating(ctx, "rc-1", t0.Add(time.Hour), newPair(c.ID, "rc-3")...); err != nil || ok {
		t.Errorf("rotated token: RotateRefreshTokenCreating = %v, %v; want false, nil", ok, err)
	}
	missing("rotated token", newPair(c.ID, "rc-3")...)
	if got := must(s.GetToken(ctx, store.TokenRefresh, "rc-1"))(t); !got.FirstUsedAt.Equal(after.FirstUsedAt) {
		t.Errorf("a refused rotation moved FirstUsedAt to %v", got.FirstUsedAt)
	}
}

// testCodeConsumptionCreating: a code exchange's consumption and its new
// records in one step (ConsumeCodeCreating). It consumes an active code of
// a standing consent, stamps the consent used and writes the new records,
// once of 20 concurrent callers; in every other case it changes nothing,
// the consent's stamp included, and says so: the code used already,
// missing, of a revoked or a missing consent, new records of another
// request, or a new record already stored (ErrConflict).
func testCodeConsumptionCreating(t *testing.T, s store.Store) {
	ctx := t.Context()
	newConsent := standingConsents(t, s)
	code := func(sig, requestID string) {
		noErr(t, s.CreateToken(ctx, store.TokenRecord{Kind: store.TokenAuthorizeCode, Signature: sig, RequestID: requestID,
			ClientID: "vendor", Subject: "usr_1", Active: true, RequestedAt: t0, ExpiresAt: t0.Add(time.Minute),
			Request: []byte("r")}), "CreateToken("+sig+")")
	}
	newPair := grantPair
	missing := func(what string, recs ...store.TokenRecord) { t.Helper(); absent(t, s, what, recs...) }
	refuses := func(what, sig string, c store.Consent, recs []store.TokenRecord) {
		t.Helper()
		if ok, err := s.ConsumeCodeCreating(ctx, sig, recs...); err != nil || ok {
			t.Errorf("%s: ConsumeCodeCreating = %v, %v; want false, nil", what, ok, err)
		}
		missing(what, recs...)
		if c.ID == "" {
			return
		}
		if got := must(s.GetConsent(ctx, c.ID))(t); !got.LastUsedAt.Equal(c.LastUsedAt) {
			t.Errorf("%s: the consent was stamped used at %v", what, got.LastUsedAt)
		}
	}

	c := newConsent()
	code("cc-1", c.ID)
	other := newConsent()
	refuses("new records of another consent", "cc-1", c, newPair(other.ID, "cc-x"))
	refuses("new records of two consents", "cc-1", c, append(newPair(c.ID, "cc-y")[:1], newPair(other.ID, "cc-y")[1]))
	code("cc-orphan", "no-such-consent")
	refuses("a code of no consent", "cc-orphan", store.Consent{}, newPair("no-such-consent", "cc-o2"))
	refuses("a missing code", "cc-missing", c, newPair(c.ID, "cc-m2"))
	revoked := newConsent()
	code("cc-revoked", revoked.ID)
	noErr(t, s.RevokeConsent(ctx, revoked.ID, t0), "RevokeConsent")
	refuses("a code of a revoked consent", "cc-revoked", must(s.GetConsent(ctx, revoked.ID))(t), newPair(revoked.ID, "cc-r2"))

	clash := newPair(c.ID, "cc-clash")
	clash[0].Signature = "cc-1"
	clash[0].Kind = store.TokenAuthorizeCode
	_, err := s.ConsumeCodeCreating(ctx, "cc-1", clash...)
	mustBe(t, err, store.ErrConflict, "ConsumeCodeCreating(a record already stored)")
	if !must(s.GetToken(ctx, store.TokenAuthorizeCode, "cc-1"))(t).Active {
		t.Error("a refused consumption left the code used")
	}
	if got := must(s.GetConsent(ctx, c.ID))(t); !got.LastUsedAt.IsZero() {
		t.Errorf("a refused consumption stamped the consent used at %v", got.LastUsedAt)
	}
	missing("a record already stored", clash[1])

	spentOnce(t, s, "consumed the code", c.ID, "cc-2", func(_ int, recs []store.TokenRecord) (bool, error) {
		return s.ConsumeCodeCreating(ctx, "cc-1", recs...)
	})
	if must(s.GetToken(ctx, store.TokenAuthorizeCode, "cc-1"))(t).Active {
		t.Error("the code is still active")
	}
	used := must(s.GetConsent(ctx, c.ID))(t)
	if used.LastUsedAt.IsZero() {
		t.Error("the consent was not stamped used")
	}
	refuses("a used code", "cc-1", used, newPair(c.ID, "cc-3"))
}

// flowRead is a read of a flow, and what is wrong with it.
type flowRead struct {
	what string
	read store.AuthFlow
}

// unfinishableReads are reads of flows at consent that FinishReadAuthFlow
// must not finish, beside read (a good one): a flow changed since its
// read, one decided, another user's read of read's flow, a missing flow,
// an expired one. atConsent makes a flow at consent of read's user.
func unfinishableReads(t *testing.T, s store.Store, read store.AuthFlow, atConsent func(expires time.Time) store.AuthFlow) []flowRead {
	t.Helper()
	ctx := t.Context()
	later := time.Now().Add(10 * time.Minute)
	stale := atConsent(later)
	must(s.UpdateReadAuthFlow(ctx, stale, func(f store.AuthFlow) (store.AuthFlow, error) { return f, nil }))(t)
	decided := must(s.UpdateReadAuthFlow(ctx, atConsent(later), func(f store.AuthFlow) (store.AuthFlow, error) {
		f.State, f.VerifierHash = store.FlowDecided, "vh"
		return f, nil
	}))(t)
	otherUser := read
	otherUser.UserID = "usr_other"
	missing := read
	missing.ID = "missing"
	return []flowRead{{"changed since read", stale}, {"decided", decided}, {"another user's read", otherUser}, {"missing", missing},
		{"expired", atConsent(time.Now().Add(-time.Second))}}
}

// standingConsents makes consents of the vendor that stand side by side:
// each of another user (a user and a client have one standing consent),
// though the records the tests give them name usr_1.
func standingConsents(t *testing.T, s store.Store) func() store.Consent {
	n := 0
	return func() store.Consent {
		n++
		return must(s.CreateConsent(t.Context(), store.Consent{UserID: fmt.Sprintf("usr_%d", n), ClientID: "vendor",
			Scopes: []string{"accounts.read"}, GrantedAt: t0}))(t)
	}
}

// grantPair is a grant's new records: access token name-access and refresh
// token name issued with it, of consent requestID.
func grantPair(requestID, name string) []store.TokenRecord {
	rec := func(kind store.TokenKind, sig, accessSig string) store.TokenRecord {
		return store.TokenRecord{Kind: kind, Signature: sig, RequestID: requestID, ClientID: "vendor", Subject: "usr_1",
			Active: true, RequestedAt: t0, ExpiresAt: t0.Add(time.Hour), AccessSignature: accessSig, TokenType: "bearer",
			Request: []byte("session of " + sig)}
	}
	return []store.TokenRecord{rec(store.TokenAccess, name+"-access", ""), rec(store.TokenRefresh, name, name+"-access")}
}

// absent fails t unless no record of recs is stored.
func absent(t *testing.T, s store.Store, what string, recs ...store.TokenRecord) {
	t.Helper()
	for _, r := range recs {
		_, err := s.GetToken(t.Context(), r.Kind, r.Signature)
		mustBe(t, err, store.ErrNotFound, what+": new record "+r.Signature)
	}
}

// spentOnce runs 20 concurrent spends of one token, each with its own new
// records (grantPair of consent requestID, named prefix-i), and fails t
// unless exactly one answered true and only its records are stored, as
// given. It returns the winner.
func spentOnce(t *testing.T, s store.Store, what, requestID, prefix string, spend func(i int, recs []store.TokenRecord) (bool, error)) int {
	t.Helper()
	const n = 20
	pair := func(i int) []store.TokenRecord { return grantPair(requestID, fmt.Sprintf("%s-%d", prefix, i)) }
	wins, errs := atOnce(n, func(i int) (bool, error) { return spend(i, pair(i)) })
	winner := -1
	for i := range n {
		if errs[i] != nil {
			t.Errorf("caller %d: %v", i, errs[i])
		} else if wins[i] && winner >= 0 {
			t.Fatalf("callers %d and %d both %s", winner, i, what)
		} else if wins[i] {
			winner = i
		}
	}
	if winner < 0 {
		t.Fatalf("no caller %s", what)
	}
	for i := range n {
		if i != winner {
			absent(t, s, fmt.Sprintf("caller %d (lost)", i), pair(i)...)
			continue
		}
		for _, r := range pair(i) {
			got := must(s.GetToken(t.Context(), r.Kind, r.Signature))(t)
			if !got.Active || got.RequestID != r.RequestID || got.AccessSignature != r.AccessSignature || string(got.Request) != string(r.Request) ||
				!got.ExpiresAt.Equal(r.ExpiresAt) || got.TokenType != r.TokenType {
				t.Errorf("new record %s = %+v, want %+v", r.Signature, got, r)
			}
		}
	}
	return winner
}

// testAllowReadAuthFlow: the consent form's Allow in one step
// (AllowReadAuthFlow). It finishes the flow as read with the decision,
// replaces the standing consent of its user and client (revoked at the new
// grant, its tokens ended) and writes the code's records; of 20 flows of
// one user and client allowed at once, those that report true each replaced
// the one before, and one consent stands at the end. In every other case it
// changes nothing and says so: the flow changed, decided, expired, gone or
// another user's; a consent of another user or client; records of another
// consent or none; a denial; a record already stored. (Another
// authorization under way: gormstore's TestAllowReadAuthFlowRaces.)
func testAllowReadAuthFlow(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Microsecond)
	atConsent := func(userID string, expires time.Time) store.AuthFlow {
		t.Helper()
		return must(s.CreateAuthFlow(ctx, store.AuthFlow{ClientID: "vendor", Request: []byte("form"), State: store.FlowConsent,
			RequestedScopes: []string{"openid", "accounts.read"}, UserID: userID, AuthTime: now, ExpiresAt: expires}))(t)
	}
	allow := store.FlowDecision{GrantedScopes: []string{"openid", "accounts.read"}}
	newConsent := func(f store.AuthFlow) store.Consent {
		return store.Consent{ID: store.NewID("cns"), UserID: f.UserID, ClientID: f.ClientID, Scopes: allow.GrantedScopes, GrantedAt: now}
	}
	// The code's records: its code and a session, of consent c.
	code := func(c store.Consent, name string) []store.TokenRecord {
		rec := func(kind store.TokenKind, sig string) store.TokenRecord {
			return store.TokenRecord{Kind: kind, Signature: sig, RequestID: c.ID, ClientID: c.ClientID, Subject: c.UserID,
				Active: true, RequestedAt: now, ExpiresAt: now.Add(time.Minute), Request: []byte("session of " + sig)}
		}
		return []store.TokenRecord{rec(store.TokenAuthorizeCode, name), rec(store.TokenPKCE, name)}
	}
	standing := must(s.CreateConsent(ctx, store.Consent{UserID: "usr_1", ClientID: "vendor", Scopes: []string{"accounts.read"}, GrantedAt: t0}))(t)
	grant := grantPair(standing.ID, "old")
	noErr(t, s.CreateTokens(ctx, grant...), "CreateTokens(the standing consent's)")

	read := atConsent("usr_1", now.Add(10*time.Minute))
	unchanged := func(what string, recs ...store.TokenRecord) {
		t.Helper()
		diff(t, what+": the flow", read, must(s.GetAuthFlow(ctx, read.ID))(t))
		if got := must(s.GetConsent(ctx, standing.ID))(t); !got.RevokedAt.IsZero() {
			t.Errorf("%s: the standing consent was revoked", what)
		}
		if !must(s.GetToken(ctx, store.TokenAccess, "old-access"))(t).Active {
			t.Errorf("%s: the standing consent's access token was ended", what)
		}
		absent(t, s, what, recs...)
	}
	refuses := func(what string, f store.AuthFlow, d store.FlowDecision, c store.Consent, recs []store.TokenRecord) {
		t.Helper()
		if _, ok, err := s.AllowReadAuthFlow(ctx, f, d, c, grantAudit(c), recs...); err != nil || ok {
			t.Errorf("%s: AllowReadAuthFlow = %v, %v; want false, nil", what, ok, err)
		}
		if _, err := s.GetConsent(ctx, c.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: the new consent was stored (%v)", what, err)
		}
		if es := auditOf(t, s, c.ID); len(es) != 0 {
			t.Errorf("%s: audit events %+v appended", what, es)
		}
		unchanged(what, recs...)
	}

	otherClient := read
	otherClient.ClientID = "vendor2"
	for _, c := range append(unfinishableReads(t, s, read, func(expires time.Time) store.AuthFlow { return atConsent("usr_1", expires) }),
		flowRead{"another client's read", otherClient}) {
		cns := newConsent(c.read)
		refuses(c.what, c.read, allow, cns, code(cns, "ac-"+c.what))
	}
	cns := newConsent(read)
	refuses("a denial", read, store.FlowDecision{DenyReason: "user_denied"}, cns, code(cns, "ac-deny"))
	ofOther := newConsent(read)
	ofOther.UserID = "usr_other"
	refuses("a consent of another user", read, allow, ofOther, code(ofOther, "ac-other-user"))
	refuses("records of another consent", read, allow, cns, code(ofOther, "ac-other-consent"))
	refuses("no records", read, allow, cns, nil)
	clash := code(cns, "ac-clash")
	clash[0].Kind, clash[0].Signature = store.TokenAccess, "old-access"
	if _, ok, err := s.AllowReadAuthFlow(ctx, read, allow, cns, grantAudit(cns), clash...); err != nil || ok {
		t.Errorf("a record already stored: AllowReadAuthFlow = %v, %v; want false, nil", ok, err)
	}
	unchanged("a record already stored", clash[1])
	// Allowed: the flow done with the decision, the standing consent
	// replaced, the records written.
	recs := code(cns, "ac-1")
	got, ok, err := s.AllowReadAuthFlow(ctx, read, allow, cns, grantAudit(cns), recs...)
	if err != nil || !ok {
		t.Fatalf("AllowReadAuthFlow = %v, %v; want true", ok, err)
	}
	want := cns
	want.Replaced = []string{standing.ID}
	diff(t, "the consent allowed", want, got)
	// Its audit event, appended with it: the Replaced one, naming the
	// consent it replaced.
	if es := auditOf(t, s, cns.ID); len(es) != 1 || es[0].Action != "consent.updated" || es[0].ActorID != "usr_1" ||
		string(es[0].After) != `{"clientId":"vendor","previousConsentId":"`+standing.ID+`","scopes":["openid","accounts.read"]}` ||
		es[0].RemoteAddr != "192.0.2.7" || es[0].HTTPRequestID != "req-"+cns.ID || !es[0].At.Equal(now) {
		t.Errorf("the grant's audit events = %+v, want one consent.updated naming %s", es, standing.ID)
	}
	diff(t, "the consent stored", cns, must(s.GetConsent(ctx, cns.ID))(t))
	f := must(s.GetAuthFlow(ctx, read.ID))(t)
	if f.State != store.FlowDone || f.Version != read.Version+1 || !slices.Equal(f.GrantedScopes, allow.GrantedScopes) || f.Denied {
		t.Errorf("the flow allowed = %+v", f)
	}
	if got := must(s.GetConsent(ctx, standing.ID))(t); !got.RevokedAt.Equal(now) {
		t.Errorf("the replaced consent: revoked at %v, want %v", got.RevokedAt, now)
	}
	for _, r := range grant {
		if must(s.GetToken(ctx, r.Kind, r.Signature))(t).Active {
			t.Errorf("the replaced consent's %s is still active", r.Signature)
		}
	}
	for _, r := range recs {
		if got := must(s.GetToken(ctx, r.Kind, r.Signature))(t); !got.Active || got.RequestID != cns.ID || string(got.Request) != string(r.Request) {
			t.Errorf("the code's record %s = %+v", r.Signature, got)
		}
	}
	again := newConsent(read)
	if _, ok, err := s.AllowReadAuthFlow(ctx, read, allow, again, grantAudit(again), code(again, "ac-again")...); err != nil || ok {
		t.Errorf("the same read again: AllowReadAuthFlow = %v, %v; want false, nil", ok, err)
	}

	// 20 flows of one user and client at once: one consent stands.
	const n = 20
	flows := make([]store.AuthFlow, n)
	consents := make([]store.Consent, n)
	for i := range n {
		flows[i] = atConsent("usr_1", now.Add(10*time.Minute))
		consents[i] = newConsent(flows[i])
	}
	wins, errs := atOnce(n, func(i int) (bool, error) {
		_, ok, err := s.AllowReadAuthFlow(ctx, flows[i], allow, consents[i], grantAudit(consents[i]), code(consents[i], fmt.Sprintf("ac-race-%d", i))...)
		return ok, err
	})
	standingNow := 0
	for i := range n {
		noErr(t, errs[i], fmt.Sprintf("caller %d", i))
		c, err := s.GetConsent(ctx, consents[i].ID)
		if !wins[i] {
			mustBe(t, err, store.ErrNotFound, fmt.Sprintf("caller %d (refused): its consent", i))
			absent(t, s, fmt.Sprintf("caller %d (refused)", i), code(consents[i], fmt.Sprintf("ac-race-%d", i))...)
			continue
		}
		noErr(t, err, fmt.Sprintf("caller %d: its consent", i))
		if c.RevokedAt.IsZero() {
			standingNow++
		}
	}
	if !slices.Contains(wins, true) {
		t.Error("no caller of 20 was allowed")
	}
	for _, c := range must(s.ListConsents(ctx, "usr_1"))(t) {
		if c.ClientID == "vendor" && c.RevokedAt.IsZero() && !slices.ContainsFunc(consents, func(x store.Consent) bool { return x.ID == c.ID }) {
			t.Errorf("consent %s stands beside the 20 allowed at once", c.ID)
		}
	}
	if standingNow != 1 {
		t.Errorf("%d consents of usr_1 and vendor stand after 20 allowed at once, want 1", standingNow)
	}
	// Each grant made at once appended its one event, in the counter's
	// order.
	var seqs []int64
	for i := range n {
		es := auditOf(t, s, consents[i].ID)
		if want := map[bool]int{true: 1, false: 0}[wins[i]]; len(es) != want {
			t.Errorf("caller %d (allowed: %v): %d audit events, want %d", i, wins[i], len(es), want)
		}
		for _, e := range es {
			seqs = append(seqs, e.Seq)
		}
	}
	slices.Sort(seqs)
	if len(slices.Compact(slices.Clone(seqs))) != len(seqs) {
		t.Errorf("the grants' audit events share numbers: %v", seqs)
	}

	// A first grant of its user and client: the Granted event.
	first := atConsent("usr_first", now.Add(10*time.Minute))
	fc := newConsent(first)
	if _, ok, err := s.AllowReadAuthFlow(ctx, first, allow, fc, grantAudit(fc), code(fc, "ac-first")...); err != nil || !ok {
		t.Fatalf("a first grant: AllowReadAuthFlow = %v, %v; want true", ok, err)
	}
	if es := auditOf(t, s, fc.ID); len(es) != 1 || es[0].Action != "consent.granted" ||
		string(es[0].After) != `{"clientId":"vendor","scopes":["openid","accounts.read"]}` {
		t.Errorf("a first grant's audit events = %+v, want one consent.granted", es)
	}
	// A Replaced event that does not name the replaced consent is refused,
	// nothing written.
	bad := atConsent("usr_first", now.Add(10*time.Minute))
	bc := newConsent(bad)
	g := grantAudit(bc)
	g.Replaced.After = g.Granted.After
	if _, _, err := s.AllowReadAuthFlow(ctx, bad, allow, bc, g, code(bc, "ac-bad")...); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("a Replaced event without the mark: %v, want ErrInvalid", err)
	}
	if _, err := s.GetConsent(ctx, bc.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a Replaced event without the mark: the consent was stored (%v)", err)
	}
}

// grantAudit is the audit event of a grant of c, as authz makes it.
func grantAudit(c store.Consent) store.GrantAudit {
	e := store.AuditEvent{BusinessGroupID: "bg_1", ActorID: c.UserID, Action: "consent.granted", TargetType: "consent", TargetID: c.ID,
		Outcome: "success", RemoteAddr: "192.0.2.7", HTTPRequestID: "req-" + c.ID, At: c.GrantedAt,
		After: json.RawMessage(`{"clientId":"` + c.ClientID + `","scopes":["openid","accounts.read"]}`)}
	r := e
	r.Action = "consent.updated"
	r.After = json.RawMessage(`{"clientId":"` + c.ClientID + `","previousConsentId":` + string(store.ReplacedMarkJSON) + `,"scopes":["openid","accounts.read"]}`)
	return store.GrantAudit{Granted: e, Replaced: r}
}

// auditOf are the audit events whose target is id.
func auditOf(t *testing.T, s store.Store, id string) []store.AuditEvent {
	t.Helper()
	es, _ := must2(s.ListAudit(t.Context(), store.AuditFilter{TargetID: &id}, store.Page{Limit: 100}))(t)
	return es
}

package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/store"
)

// accessFixture is an accounting software user of o with a consent, an
// assignment to a role and a group holding o's first account (not its
// second) and, listed by mistake, an account of another business group.
// want's user is Secretless, as every joined read returns it.
type accessFixture struct {
	o, other org
	user     store.User
	consent  store.Consent
	want     store.Access // ReadAccess without an account, from the single reads
}

func newAccessFixture(t *testing.T, s store.Store) accessFixture {
	t.Helper()
	ctx := t.Context()
	f := accessFixture{o: newOrg(t, s), other: newOrg(t, s)}
	f.user = newUser(t, s, f.o.group.ID, "software-"+store.RandomToken(4), true)
	f.user = must(s.UpdateUser(ctx, f.user.ID, func(u store.User) (store.User, error) {
		u.SecurityQuestion, u.SecurityAnswerHash = store.SecurityQuestions[0], "$argon2id$answer"
		return u, nil
	}))(t)
	role := must(s.CreateJobRole(ctx, store.JobRole{BusinessGroupID: f.o.group.ID, Name: "Books", Grants: store.AccountingSoftwareReadOnlyGrants()}))(t)
	g := must(s.CreateAccountGroup(ctx, store.AccountGroup{BusinessGroupID: f.o.group.ID, Name: "Books",
		AccountIDs: []string{f.o.accounts[0].ID, f.other.accounts[0].ID}}))(t)
	must(s.PutAssignment(ctx, store.Assignment{BusinessGroupID: f.o.group.ID, UserID: f.user.ID, JobRoleID: role.ID, AccountGroupID: g.ID}))(t)
	f.consent = must(s.CreateConsent(ctx, store.Consent{UserID: f.user.ID, ClientID: "vendor", Scopes: []string{"openid", "accounts.read"},
		GrantedAt: t0, LastUsedAt: t0.Add(time.Minute)}))(t)
	must(s.CreateTransactions(ctx, []store.Transaction{posted(f.o.accounts[0].ID, "e1", "2025-03-03", store.Credit, "1.00")}))(t)

	f.want.Consent = must(s.GetConsent(ctx, f.consent.ID))(t)
	f.want.User = must(s.GetUser(ctx, f.user.ID))(t)
	if f.want.User.PasswordHash == "" || f.want.User.SecurityAnswerHash == "" {
		t.Fatal("the fixture's user lacks a password or answer hash: Secretless would go unchecked")
	}
	f.want.User = f.want.User.Secretless()
	f.want.Assignment = must(s.UserAssignment(ctx, f.user.ID, ""))(t)
	f.want.Role = must(s.GetJobRole(ctx, role.ID))(t)
	f.want.Group = must(s.GetAccountGroup(ctx, g.ID))(t)
	f.want.MaxSeq = must(s.MaxSeq(ctx))(t)
	if f.want.MaxSeq == 0 {
		t.Fatal("MaxSeq is 0 after a transaction")
	}
	return f
}

// withAccount is f.want for a route naming account: the group's list is not
// read, and the account only when the group holds it.
func (f accessFixture) withAccount(a *store.Account) store.Access {
	w := f.want
	w.Group.AccountIDs = nil
	if a != nil {
		w.Account = *a
	}
	return w
}

// testReadAccess: the joined read returns exactly what the single reads
// return; a record that is missing is zero and the others are still read
// (store.JudgeGrant names the reason); an account outside the group is
// not read; a membership change shows at once.
func testReadAccess(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := newAccessFixture(t, s)
	check := func(what string, got store.Access, err error, want store.Access) {
		t.Helper()
		noErr(t, err, what)
		diff(t, what, want, got)
	}
	read := func(consentID, userID, accountID string) (store.Access, error) {
		return s.ReadAccess(ctx, consentID, userID, accountID)
	}
	in, outside, foreign := f.o.accounts[0], f.o.accounts[1], f.other.accounts[0]

	a, err := read(f.consent.ID, f.user.ID, "")
	check("no account", a, err, f.want)
	a, err = read(f.consent.ID, f.user.ID, in.ID)
	check("account in the group", a, err, f.withAccount(&in))
	// The store reads what the group lists; the rule refuses another
	// business group's account (store.JudgeGrant).
	a, err = read(f.consent.ID, f.user.ID, foreign.ID)
	check("another business group's account listed in the group", a, err, f.withAccount(&foreign))
	for what, id := range map[string]string{
		"same business group, outside the group": outside.ID,
		"another business group, not listed":     f.other.accounts[1].ID,
		"no such account":                        "acc_missing",
		"quote in the ID":                        `acc_"x`,
		"the group's JSON as the ID":             `","`,
	} {
		a, err := read(f.consent.ID, f.user.ID, id)
		check(what, a, err, f.withAccount(nil))
	}

	noConsent := f.want
	noConsent.Consent = store.Consent{}
	a, err = read("cns_missing", f.user.ID, "")
	check("no consent", a, err, noConsent)

	a, err = read(f.consent.ID, "usr_missing", in.ID)
	check("no user", a, err, store.Access{Consent: f.want.Consent, MaxSeq: f.want.MaxSeq})

	// A user without an assignment: consent and user only.
	loner := newUser(t, s, f.o.group.ID, "loner-"+store.RandomToken(4), true)
	c := must(s.CreateConsent(ctx, store.Consent{UserID: loner.ID, ClientID: "vendor", GrantedAt: t0}))(t)
	a, err = read(c.ID, loner.ID, in.ID)
	check("no assignment", a, err, store.Access{Consent: must(s.GetConsent(ctx, c.ID))(t), User: must(s.GetUser(ctx, loner.ID))(t).Secretless(), MaxSeq: f.want.MaxSeq})

	// Revoked consents and deleted users are still read: the rule refuses them.
	noErr(t, s.RevokeConsent(ctx, c.ID, t0), "RevokeConsent")
	if a, err := read(c.ID, loner.ID, ""); err != nil || a.Consent.RevokedAt.IsZero() {
		t.Errorf("revoked consent: %+v, %v", a.Consent, err)
	}

	// Removing the account from the group shows on the next read.
	must(s.UpdateAccountGroup(ctx, f.want.Group.ID, func(g store.AccountGroup) (store.AccountGroup, error) {
		g.AccountIDs = slices.DeleteFunc(slices.Clone(g.AccountIDs), func(id string) bool { return id == in.ID })
		return g, nil
	}))(t)
	a, err = read(f.consent.ID, f.user.ID, in.ID)
	noErr(t, err, "ReadAccess after the removal")
	if a.Account.ID != "" || a.Group.ID != f.want.Group.ID {
		t.Errorf("account removed from the group: account %q group %q", a.Account.ID, a.Group.ID)
	}
	// So does the user's status.
	must(s.UpdateUser(ctx, f.user.ID, func(u store.User) (store.User, error) { u.Status = store.UserLocked; return u, nil }))(t)
	if a, err := read(f.consent.ID, f.user.ID, ""); err != nil || a.User.Status != store.UserLocked {
		t.Errorf("locked user read as %s, %v", a.User.Status, err)
	}

	// Inside a transaction it joins the transaction.
	noErr(t, s.InTx(ctx, func(ctx context.Context) error {
		a, err := s.ReadAccess(ctx, f.consent.ID, f.user.ID, "")
		if err == nil && a.Consent.ID == "" {
			t.Error("ReadAccess in a transaction: no consent")
		}
		return err
	}), "InTx")
}

// testReadTokenAccess: ReadAccess for an access token's consent and user,
// read with the record; ErrNotFound for an unknown signature or another
// kind's.
func testReadTokenAccess(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := newAccessFixture(t, s)
	tok := store.TokenRecord{Kind: store.TokenAccess, Signature: "sig_" + store.RandomToken(8), RequestID: f.consent.ID,
		ClientID: "vendor", Subject: f.user.ID, Active: true, RequestedAt: t0, ExpiresAt: t0.Add(time.Hour), Request: []byte("sealed")}
	refresh := tok
	refresh.Kind, refresh.Signature = store.TokenRefresh, "sig_"+store.RandomToken(8)
	orphan := tok
	orphan.Signature, orphan.RequestID = "sig_"+store.RandomToken(8), "cns_missing"
	for _, r := range []store.TokenRecord{tok, refresh, orphan} {
		noErr(t, s.CreateToken(ctx, r), "CreateToken")
	}
	check := func(what, sig, accountID string, wantRec store.TokenRecord, want store.Access) {
		t.Helper()
		want.User = want.User.Standing() // of the user, its standing
		rec, a, err := s.ReadTokenAccess(ctx, sig, accountID)
		noErr(t, err, what)
		diff(t, what+": record", wantRec, rec)
		diff(t, what, want, a)
	}
	in, outside := f.o.accounts[0], f.o.accounts[1]
	rec := must(s.GetToken(ctx, store.TokenAccess, tok.Signature))(t)
	check("no account", tok.Signature, "", rec, f.want)
	check("account in the group", tok.Signature, in.ID, rec, f.withAccount(&in))
	check("account outside the group", tok.Signature, outside.ID, rec, f.withAccount(nil))
	noConsent := f.want
	noConsent.Consent = store.Consent{}
	check("token of a missing consent", orphan.Signature, "", must(s.GetToken(ctx, store.TokenAccess, orphan.Signature))(t), noConsent)

	for what, sig := range map[string]string{"unknown signature": "sig_missing", "a refresh token's signature": refresh.Signature} {
		_, _, err := s.ReadTokenAccess(ctx, sig, "")
		mustBe(t, err, store.ErrNotFound, what)
	}
	t.Run("GetTokenGrant", func(t *testing.T) {
		// The record with its consent and user, in one statement; zero
		// where missing (a client_credentials token has neither).
		// GetTokenGrantState: the same without the record's request.
		check := func(what string, kind store.TokenKind, sig string, want store.Access) {
			t.Helper()
			wantRec := must(s.GetToken(ctx, kind, sig))(t)
			rec, a, err := s.GetTokenGrant(ctx, kind, sig)
			noErr(t, err, what)
			diff(t, what+": record", wantRec, rec)
			diff(t, what, want, a)
			if len(rec.Request) == 0 {
				t.Fatalf("%s: the record has no request, so leaving it out could not be told from reading it", what)
			}
			rec, a, err = s.GetTokenGrantState(ctx, kind, sig)
			noErr(t, err, what+" (state)")
			wantRec.Request = nil
			diff(t, what+": record (state)", wantRec, rec)
			diff(t, what+" (state)", want, a)
		}
		// Of the user, its standing only.
		if u := f.want.User; u.DisplayName == "" || u.Email == "" || u.CreatedAt.IsZero() || u.Version == 0 {
			t.Fatalf("the fixture's user has zero fields, so reading them could not be told from leaving them out: %+v", u)
		}
		grant := store.Access{Consent: f.want.Consent, User: f.want.User.Standing()}
		check("access token", store.TokenAccess, tok.Signature, grant)
		check("refresh token", store.TokenRefresh, refresh.Signature, grant)
		check("token of a missing consent", store.TokenAccess, orphan.Signature, store.Access{User: f.want.User.Standing()})
		cc := store.TokenRecord{Kind: store.TokenAccess, Signature: "sig_" + store.RandomToken(8), RequestID: "req_" + store.RandomToken(8),
			ClientID: "bank-service", Active: true, RequestedAt: t0, ExpiresAt: t0.Add(time.Hour), Request: []byte("sealed")}
		noErr(t, s.CreateToken(ctx, cc), "CreateToken(client credentials)")
		check("client_credentials token", store.TokenAccess, cc.Signature, store.Access{})
		noErr(t, s.InTx(ctx, func(ctx context.Context) error {
			_, a, err := s.GetTokenGrant(ctx, store.TokenAccess, tok.Signature)
			diff(t, "in a transaction", grant, a)
			return err
		}), "GetTokenGrant in a transaction")
		_, _, err := s.GetTokenGrant(ctx, store.TokenAccess, refresh.Signature)
		mustBe(t, err, store.ErrNotFound, "GetTokenGrant(another kind's signature)")
		_, _, err = s.GetTokenGrant(ctx, store.TokenAccess, "sig_missing")
		mustBe(t, err, store.ErrNotFound, "GetTokenGrant(unknown)")
		_, _, err = s.GetTokenGrantState(ctx, store.TokenAccess, "sig_missing")
		mustBe(t, err, store.ErrNotFound, "GetTokenGrantState(unknown)")
	})

	// An inactive record is read as it is: the verifier refuses it.
	noErr(t, s.DeactivateToken(ctx, store.TokenAccess, tok.Signature), "DeactivateToken")
	if rec, _, err := s.ReadTokenAccess(ctx, tok.Signature, ""); err != nil || rec.Active {
		t.Errorf("deactivated token read as active %v, %v", rec.Active, err)
	}
}

// testGrantRecords: consent, user, assignment and job role as the single
// reads return them; a missing one is zero, the others still read.
func testGrantRecords(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := newAccessFixture(t, s)
	want := f.want
	want.Group, want.MaxSeq = store.AccountGroup{}, 0
	check := func(what, consentID, userID string, want store.Access) {
		t.Helper()
		a, err := s.GrantRecords(ctx, consentID, userID)
		noErr(t, err, what)
		diff(t, what, want, a)
	}
	// GetTokenGrantRecords reads the same records with the token that names
	// them, in one statement.
	code := store.TokenRecord{Kind: store.TokenAuthorizeCode, Signature: "sig_" + store.RandomToken(8), RequestID: f.consent.ID,
		ClientID: "vendor", Subject: f.user.ID, Active: true, RequestedAt: t0, ExpiresAt: t0.Add(time.Minute), Request: []byte("sealed")}
	refresh := code
	refresh.Kind, refresh.Signature, refresh.ExpiresAt = store.TokenRefresh, "sig_"+store.RandomToken(8), t0.Add(time.Hour)
	noConsentTok, noUserTok := refresh, refresh
	noConsentTok.Signature, noConsentTok.RequestID = "sig_"+store.RandomToken(8), "cns_missing"
	noUserTok.Signature, noUserTok.Subject = "sig_"+store.RandomToken(8), "usr_missing"
	noErr(t, s.CreateTokens(ctx, code, refresh, noConsentTok, noUserTok), "CreateTokens")
	checkTok := func(what string, r store.TokenRecord, want store.Access) {
		t.Helper()
		rec, a, err := s.GetTokenGrantRecords(ctx, r.Kind, r.Signature)
		noErr(t, err, what)
		diff(t, what+": record", must(s.GetToken(ctx, r.Kind, r.Signature))(t), rec)
		diff(t, what, want, a)
	}
	check("all there", f.consent.ID, f.user.ID, want)
	checkTok("with a code, all there", code, want)
	checkTok("with a refresh token, all there", refresh, want)
	noConsent := want
	noConsent.Consent = store.Consent{}
	check("no consent", "cns_missing", f.user.ID, noConsent)
	checkTok("with a token, no consent", noConsentTok, noConsent)
	check("no user", f.consent.ID, "usr_missing", store.Access{Consent: want.Consent})
	checkTok("with a token, no user", noUserTok, store.Access{Consent: want.Consent})
	_, _, err := s.GetTokenGrantRecords(ctx, store.TokenAccess, refresh.Signature)
	mustBe(t, err, store.ErrNotFound, "GetTokenGrantRecords(another kind's signature)")
	noErr(t, s.InTx(ctx, func(ctx context.Context) error {
		_, a, err := s.GetTokenGrantRecords(ctx, store.TokenRefresh, refresh.Signature)
		diff(t, "GetTokenGrantRecords in a transaction", want, a)
		return err
	}), "GetTokenGrantRecords in a transaction")
	noErr(t, s.DeleteAssignment(ctx, want.Assignment.ID), "DeleteAssignment")
	check("no assignment", f.consent.ID, f.user.ID, store.Access{Consent: want.Consent, User: want.User})
	checkTok("with a token, no assignment", refresh, store.Access{Consent: want.Consent, User: want.User})
	noErr(t, s.InTx(ctx, func(ctx context.Context) error {
		a, err := s.GrantRecords(ctx, f.consent.ID, f.user.ID)
		if err == nil && a.User.ID == "" {
			t.Error("GrantRecords in a transaction: no user")
		}
		return err
	}), "InTx")
}

// testTokenGrantRecordsTaking: GetTokenGrantRecordsTaking reads a code with
// its grant's records, as GetTokenGrantRecords does, and in the same step
// takes the keys' records of the client named (a code exchange's PKCE and
// OpenID Connect sessions): another client's are left as they were, a
// missing key is no error, a missing code is ErrNotFound with the takes
// made all the same, a rolled-back transaction takes nothing, and of 20
// concurrent readers each record goes to exactly one.
func testTokenGrantRecordsTaking(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := newAccessFixture(t, s)
	want := f.want
	want.Group, want.MaxSeq = store.AccountGroup{}, 0
	code := store.TokenRecord{Kind: store.TokenAuthorizeCode, Signature: "sig_" + store.RandomToken(8), RequestID: f.consent.ID,
		ClientID: "vendor", Subject: f.user.ID, Active: true, RequestedAt: t0, ExpiresAt: t0.Add(time.Minute),
		TokenType: "bearer", Request: []byte("code")}
	pkce, oidc := code, code
	pkce.Kind, pkce.Request = store.TokenPKCE, []byte("pkce")
	oidc.Kind, oidc.Signature, oidc.Request = store.TokenOIDC, "hash_"+store.RandomToken(8), []byte("oidc")
	noErr(t, s.CreateTokens(ctx, code, pkce, oidc), "CreateTokens")
	keys := []store.TokenKey{{Kind: pkce.Kind, Signature: pkce.Signature}, {Kind: oidc.Kind, Signature: oidc.Signature},
		{Kind: store.TokenOIDC, Signature: "missing"}}
	read := func(what, clientID string, keys ...store.TokenKey) map[store.TokenKind]store.TokenRecord {
		t.Helper()
		rec, a, taken, err := s.GetTokenGrantRecordsTaking(ctx, code.Kind, code.Signature, clientID, keys...)
		noErr(t, err, what)
		diff(t, what+": record", code, rec)
		diff(t, what+": grant", want, a)
		m := map[store.TokenKind]store.TokenRecord{}
		for _, r := range taken {
			if _, dup := m[r.Kind]; dup {
				t.Errorf("%s: two %s records taken", what, r.Kind)
			}
			m[r.Kind] = r
		}
		return m
	}
	there := func(what string, recs ...store.TokenRecord) {
		t.Helper()
		for _, r := range recs {
			diff(t, what+": "+string(r.Kind), r, must(s.GetToken(ctx, r.Kind, r.Signature))(t))
		}
	}

	diff(t, "another client's take", map[store.TokenKind]store.TokenRecord{}, read("another client", "other", keys...))
	there("after another client's take", code, pkce, oidc)
	diff(t, "no keys", map[store.TokenKind]store.TokenRecord{}, read("no keys", "vendor"))
	there("after no keys", pkce, oidc)

	boom := errors.New("boom")
	mustBe(t, s.InTx(ctx, func(ctx context.Context) error {
		_, _, taken, err := s.GetTokenGrantRecordsTaking(ctx, code.Kind, code.Signature, "vendor", keys...)
		noErr(t, err, "in a transaction")
		if len(taken) != 2 {
			t.Errorf("in a transaction: %d records taken, want 2", len(taken))
		}
		return boom
	}), boom, "InTx(take, then fail)")
	there("after a rolled-back take", code, pkce, oidc)

	const n = 20
	got, errs := atOnce(n, func(i int) ([]store.TokenRecord, error) {
		_, _, taken, err := s.GetTokenGrantRecordsTaking(ctx, code.Kind, code.Signature, "vendor", keys...)
		return taken, err
	})
	wins := map[store.TokenKind]int{}
	for i, err := range errs {
		noErr(t, err, fmt.Sprintf("reader %d", i))
		for _, r := range got[i] {
			wins[r.Kind]++
			diff(t, "taken", map[store.TokenKind]store.TokenRecord{pkce.Kind: pkce, oidc.Kind: oidc}[r.Kind], r)
		}
	}
	diff(t, "readers per record taken", map[store.TokenKind]int{pkce.Kind: 1, oidc.Kind: 1}, wins)
	for _, r := range []store.TokenRecord{pkce, oidc} {
		_, err := s.GetToken(ctx, r.Kind, r.Signature)
		mustBe(t, err, store.ErrNotFound, "GetToken("+string(r.Kind)+") after the take")
	}
	there("the code after the takes", code)

	// A missing code: ErrNotFound, the client's records taken all the same.
	lost := pkce
	lost.Signature = "sig_" + store.RandomToken(8)
	noErr(t, s.CreateTokens(ctx, lost), "CreateTokens")
	_, _, taken, err := s.GetTokenGrantRecordsTaking(ctx, code.Kind, lost.Signature, "vendor", store.TokenKey{Kind: lost.Kind, Signature: lost.Signature})
	mustBe(t, err, store.ErrNotFound, "GetTokenGrantRecordsTaking(a missing code)")
	if len(taken) != 0 {
		t.Errorf("a missing code: %d records returned, want none", len(taken))
	}
	_, err = s.GetToken(ctx, lost.Kind, lost.Signature)
	mustBe(t, err, store.ErrNotFound, "GetToken after the take with a missing code")
}

// testConcurrentTokenReads: the reads of a token and its grant made by
// many requests at once (introspection's GetTokenGrant and
// GetTokenGrantState, which PostgreSQL answers in batches, and the data
// API's ReadTokenAccess) each return exactly what the same read returns
// alone in a transaction: its own token, consent, user and account,
// ErrNotFound for a key the store does not hold.
func testConcurrentTokenReads(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := newAccessFixture(t, s)
	var sigs []string
	for i := range 8 {
		kind := store.TokenAccess
		if i == 7 {
			kind = store.TokenRefresh
		}
		rec := store.TokenRecord{Kind: kind, Signature: "sig_" + store.RandomToken(8), RequestID: f.consent.ID, ClientID: "vendor",
			Subject: f.user.ID, Active: i%3 != 0, RequestedAt: t0, ExpiresAt: t0.Add(time.Duration(i+1) * time.Hour), Request: []byte{byte(i)}}
		if i == 5 {
			rec.RequestID = "cns_missing" // a token whose consent is gone: read record by record
		}
		noErr(t, s.CreateToken(ctx, rec), "CreateToken")
		sigs = append(sigs, rec.Signature)
	}
	sigs = append(sigs, "sig_missing")
	accounts := []string{"", f.o.accounts[0].ID, f.o.accounts[1].ID, f.other.accounts[0].ID}
	type read struct {
		how          int // 0 GetTokenGrant, 1 GetTokenGrantState, 2 ReadTokenAccess
		sig, account string
	}
	type answer struct {
		rec store.TokenRecord
		acc store.Access
		err error
	}
	do := func(ctx context.Context, r read) answer {
		var a answer
		switch r.how {
		case 0:
			a.rec, a.acc, a.err = s.GetTokenGrant(ctx, store.TokenAccess, r.sig)
		case 1:
			a.rec, a.acc, a.err = s.GetTokenGrantState(ctx, store.TokenRefresh, r.sig)
		default:
			a.rec, a.acc, a.err = s.ReadTokenAccess(ctx, r.sig, r.account)
		}
		return a
	}
	var reads []read
	for _, sig := range sigs {
		reads = append(reads, read{0, sig, ""}, read{1, sig, ""})
		for _, acc := range accounts {
			reads = append(reads, read{2, sig, acc})
		}
	}
	alone := make([]answer, len(reads))
	noErr(t, s.InTx(ctx, func(ctx context.Context) error {
		for i, r := range reads {
			alone[i] = do(ctx, r)
		}
		return nil
	}), "the reads alone")
	found := 0
	for _, a := range alone {
		if a.err == nil {
			found++
		} else if !errors.Is(a.err, store.ErrNotFound) {
			t.Fatalf("a read alone: %v", a.err)
		}
	}
	if found < len(reads)/2 {
		t.Fatalf("only %d of %d reads alone found their token: the fixture is wrong", found, len(reads))
	}
	var wg sync.WaitGroup
	for round := range 6 {
		for i, r := range reads {
			wg.Go(func() {
				j := (i + round*7) % len(reads) // each round in another order
				r = reads[j]
				got := do(ctx, r)
				want := alone[j]
				if (got.err == nil) != (want.err == nil) || (got.err != nil && !errors.Is(got.err, store.ErrNotFound)) {
					t.Errorf("%+v: %v, alone %v", r, got.err, want.err)
					return
				}
				diff(t, fmt.Sprintf("%+v: record", r), want.rec, got.rec)
				diff(t, fmt.Sprintf("%+v: access", r), want.acc, got.acc)
			})
		}
	}
	wg.Wait()
}

package authz

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ory/fosite"

	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/store/gormstore"
	"github.com/bankfeed/bankfeed/store/gormstore/gormtest"
)

// txCounting counts the transactions authz opens on the store.
type txCounting struct {
	store.Store
	n atomic.Int32
}

func (s *txCounting) InTx(ctx context.Context, fn func(context.Context) error) error {
	s.n.Add(1)
	return s.Store.InTx(ctx, fn)
}

// grantFixture is a fositeStore on a transaction-counting store with one
// standing consent, and the request its grants issue tokens for.
type grantFixture struct {
	t       *testing.T
	a       *fositeStore
	st      *txCounting
	consent store.Consent
	req     *fosite.AccessRequest
	now     time.Time
}

func newGrantFixture(t *testing.T, name string) *grantFixture {
	st := &txCounting{Store: gormtest.Open(t, name, gormstore.Config{})}
	seal, err := newSealer(bytes.Repeat([]byte{7}, 32), "test")
	if err != nil {
		t.Fatal(err)
	}
	a := &fositeStore{st: st, seal: seal, now: time.Now, grace: time.Minute,
		lifespans: map[fosite.TokenType]time.Duration{fosite.AccessToken: time.Hour, fosite.RefreshToken: 24 * time.Hour}}
	c, err := st.CreateConsent(t.Context(), store.Consent{UserID: "usr_1", ClientID: "vendor", Scopes: []string{"accounts.read"}, GrantedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	req := fosite.NewAccessRequest(newSession())
	req.ID, req.Client = c.ID, &fosite.DefaultClient{ID: "vendor"}
	req.Session.(*Session).Subject = "usr_1"
	return &grantFixture{t: t, a: a, st: st, consent: c, req: req, now: time.Now().UTC().Truncate(time.Microsecond)}
}

// record is a stored token of the fixture's consent.
func (f *grantFixture) record(kind store.TokenKind, sig, accessSig string) store.TokenRecord {
	return store.TokenRecord{Kind: kind, Signature: sig, RequestID: f.consent.ID, ClientID: "vendor", Subject: "usr_1",
		Active: true, RequestedAt: f.now, ExpiresAt: f.now.Add(time.Hour), AccessSignature: accessSig, TokenType: "bearer",
		Request: []byte("r")}
}

// respond is one grant's response as fosite's handler runs it: BeginTX in
// a grant response's ctx, spend (the rotation or the code's
// invalidation), access token a-n and refresh token r-n, Commit (Rollback
// after a failure before it).
func (f *grantFixture) respond(n string, spend func(ctx context.Context) error) error {
	a := f.a
	ctx, err := a.BeginTX(context.WithValue(withRetryNote(f.t.Context()), grantResponseKey{}, true))
	if err != nil {
		return err
	}
	err = spend(ctx)
	if err == nil {
		err = a.CreateAccessTokenSession(ctx, "a-"+n, f.req)
	}
	if err == nil {
		err = a.CreateRefreshTokenSession(ctx, "r-"+n, "a-"+n, f.req)
	}
	if err == nil {
		return a.Commit(ctx)
	}
	if rerr := a.Rollback(ctx); rerr != nil {
		f.t.Errorf("rollback: %v", rerr)
	}
	return err
}

// issued reports, for access token a-n and refresh token r-n, whether each
// is stored and active; a missing one is store.ErrNotFound.
func (f *grantFixture) issued(n string) (accessActive, refreshActive bool, err error) {
	acc, err := f.st.GetToken(f.t.Context(), store.TokenAccess, "a-"+n)
	if err != nil {
		return false, false, err
	}
	ref, err := f.st.GetToken(f.t.Context(), store.TokenRefresh, "r-"+n)
	return acc.Active, ref.Active, err
}

// transactions fails the test unless want transactions were opened so far.
func (f *grantFixture) transactions(what string, want int32) {
	f.t.Helper()
	if got := f.st.n.Load(); got != want {
		f.t.Errorf("%s: %d transactions opened so far, want %d", what, got, want)
	}
}

// TestRefreshGrantNeedsNoTransaction drives the store as fosite's refresh
// handler does in a refresh grant's response (BeginTX, RotateRefreshToken,
// the two new tokens, Commit). For the usual grant authz opens no
// transaction: the commit rotates the token and writes the new ones in one
// store call (issue 15; one statement on PostgreSQL, SQLite's store takes
// its own immediate transaction inside the call). A retry of the rotated token inside the grace period takes
// the steps one by one in a transaction and gets its one retry; a second
// retry is refused and writes nothing.
func TestRefreshGrantNeedsNoTransaction(t *testing.T) {
	f := newGrantFixture(t, "authz_refreshgrant")
	if err := f.st.CreateTokens(t.Context(), f.record(store.TokenAccess, "a-0", ""), f.record(store.TokenRefresh, "r-0", "a-0")); err != nil {
		t.Fatal(err)
	}
	rotate := func(ctx context.Context) error { return f.a.RotateRefreshToken(ctx, f.consent.ID, "r-0") }

	if err := f.respond("1", rotate); err != nil {
		t.Fatalf("the usual grant: %v", err)
	}
	f.transactions("the usual grant", 0)
	if acc, ref, err := f.issued("1"); err != nil || !acc || !ref {
		t.Errorf("the usual grant's tokens: active %v %v, %v", acc, ref, err)
	}
	if acc, ref, err := f.issued("0"); err != nil || acc || ref {
		t.Errorf("the rotated pair: active %v %v, %v; want both ended", acc, ref, err)
	}

	if err := f.respond("2", rotate); err != nil {
		t.Fatalf("the retry inside the grace period: %v", err)
	}
	f.transactions("the retry", 1)
	if acc, ref, err := f.issued("2"); err != nil || !acc || !ref {
		t.Errorf("the retry's tokens: active %v %v, %v", acc, ref, err)
	}

	if err := f.respond("3", rotate); !errors.Is(err, fosite.ErrSerializationFailure) {
		t.Fatalf("a second retry: %v, want a serialization failure", err)
	}
	if _, _, err := f.issued("3"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the second retry's tokens: %v, want none written", err)
	}
}

// TestCodeExchangeNeedsNoTransaction drives the store as fosite's
// authorization-code handler does in a code exchange's response (BeginTX,
// InvalidateAuthorizeCodeSession, the two new tokens, Commit). For the
// usual exchange authz opens no transaction: the commit consumes the code,
// stamps its consent used and writes the new tokens in one store call
// (issue 15), as for a refresh grant. The
// same code again takes the steps one by one in a transaction, is refused
// as used, and writes nothing.
func TestCodeExchangeNeedsNoTransaction(t *testing.T) {
	f := newGrantFixture(t, "authz_codeexchange")
	ctx := t.Context()
	code := f.record(store.TokenAuthorizeCode, "code", "")
	code.ExpiresAt = f.now.Add(time.Minute)
	if err := f.st.CreateToken(ctx, code); err != nil {
		t.Fatal(err)
	}
	invalidate := func(ctx context.Context) error { return f.a.InvalidateAuthorizeCodeSession(ctx, "code") }

	if err := f.respond("1", invalidate); err != nil {
		t.Fatalf("the usual exchange: %v", err)
	}
	f.transactions("the usual exchange", 0)
	if acc, ref, err := f.issued("1"); err != nil || !acc || !ref {
		t.Errorf("the exchange's tokens: active %v %v, %v", acc, ref, err)
	}
	if rec, err := f.st.GetToken(ctx, store.TokenAuthorizeCode, "code"); err != nil || rec.Active {
		t.Errorf("code after the exchange: active %v, %v; want used", rec.Active, err)
	}
	used, err := f.st.GetConsent(ctx, f.consent.ID)
	if err != nil || used.LastUsedAt.IsZero() {
		t.Errorf("consent after the exchange: used at %v, %v; want stamped", used.LastUsedAt, err)
	}

	if err := f.respond("2", invalidate); !errors.Is(err, fosite.ErrInvalidatedAuthorizeCode) {
		t.Fatalf("the code again: %v, want it refused as used", err)
	}
	f.transactions("the code again", 1)
	if _, _, err := f.issued("2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the refused exchange's tokens: %v, want none written", err)
	}
	if again, _ := f.st.GetConsent(ctx, f.consent.ID); !again.LastUsedAt.Equal(used.LastUsedAt) {
		t.Errorf("the refused exchange stamped the consent used at %v", again.LastUsedAt)
	}
}

// TestDeferredSpendHappensInABegunTransaction: when a call that needs the
// transaction begins it after the spend was left to the commit (fosite
// v0.49's handlers make none, but the store must not depend on it), the
// commit takes the spend's steps in that transaction.
func TestDeferredSpendHappensInABegunTransaction(t *testing.T) {
	f := newGrantFixture(t, "authz_deferredspend")
	if err := f.st.CreateTokens(t.Context(), f.record(store.TokenAccess, "a-0", ""), f.record(store.TokenRefresh, "r-0", "a-0")); err != nil {
		t.Fatal(err)
	}
	err := f.respond("1", func(ctx context.Context) error {
		if err := f.a.RotateRefreshToken(ctx, f.consent.ID, "r-0"); err != nil {
			return err
		}
		return f.a.RevokeAccessToken(ctx, "another-request") // begins the transaction
	})
	if err != nil {
		t.Fatal(err)
	}
	f.transactions("the grant", 1)
	if acc, ref, err := f.issued("0"); err != nil || acc || ref {
		t.Errorf("the rotated pair: active %v %v, %v; want both ended", acc, ref, err)
	}
	if acc, ref, err := f.issued("1"); err != nil || !acc || !ref {
		t.Errorf("the new pair: active %v %v, %v", acc, ref, err)
	}
}

// spendCut is a store whose one-statement spends fail as a database that
// cannot be reached fails them.
type spendCut struct{ *txCounting }

var errCut = fmt.Errorf("%w: connection refused", store.ErrUnavailable)

func (spendCut) RotateRefreshTokenCreating(context.Context, string, time.Time, ...store.TokenRecord) (bool, error) {
	return false, errCut
}

func (spendCut) ConsumeCodeCreating(context.Context, string, ...store.TokenRecord) (bool, error) {
	return false, errCut
}

// TestDeferredSpendOutageIsUnavailable: when the commit's one statement
// finds the database unreachable, the commit fails with
// store.ErrUnavailable in its chain (the token endpoint's outage answer,
// 503 temporarily_unavailable, reads it there) and does not fall back to
// the steps in a transaction, as it does for a token spent already.
func TestDeferredSpendOutageIsUnavailable(t *testing.T) {
	f := newGrantFixture(t, "authz_spendoutage")
	f.a.st = spendCut{f.st}
	for name, spend := range map[string]func(context.Context) error{
		"refresh grant": func(ctx context.Context) error { return f.a.RotateRefreshToken(ctx, f.consent.ID, "r-0") },
		"code exchange": func(ctx context.Context) error { return f.a.InvalidateAuthorizeCodeSession(ctx, "code") },
	} {
		if err := f.respond("1", spend); !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s: commit = %v, want store.ErrUnavailable in its chain", name, err)
		}
		f.transactions(name, 0)
	}
}

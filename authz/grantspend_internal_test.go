package authz

import (
	"bytes"
	"context"
	"errors"
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

// TestRefreshGrantNeedsNoTransaction drives the store as fosite's refresh
// handler does in a refresh grant's response (BeginTX, RotateRefreshToken,
// the two new tokens, Commit). The usual grant opens no transaction: the
// commit rotates the token and writes the new ones in one store call
// (issue 15). A retry of the rotated token inside the grace period takes
// the steps one by one in a transaction and gets its one retry; a second
// retry is refused and writes nothing.
func TestRefreshGrantNeedsNoTransaction(t *testing.T) {
	st := &txCounting{Store: gormtest.Open(t, "authz_refreshgrant", gormstore.Config{})}
	seal, err := newSealer(bytes.Repeat([]byte{7}, 32), "test")
	if err != nil {
		t.Fatal(err)
	}
	a := &fositeStore{st: st, seal: seal, now: time.Now, grace: time.Minute,
		lifespans: map[fosite.TokenType]time.Duration{fosite.AccessToken: time.Hour, fosite.RefreshToken: 24 * time.Hour}}
	ctx := t.Context()
	c, err := st.CreateConsent(ctx, store.Consent{UserID: "usr_1", ClientID: "vendor", Scopes: []string{"accounts.read"}, GrantedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	old := func(kind store.TokenKind, sig, accessSig string) store.TokenRecord {
		return store.TokenRecord{Kind: kind, Signature: sig, RequestID: c.ID, ClientID: "vendor", Subject: "usr_1",
			Active: true, RequestedAt: now, ExpiresAt: now.Add(time.Hour), AccessSignature: accessSig, TokenType: "bearer",
			Request: []byte("r")}
	}
	if err := st.CreateTokens(ctx, old(store.TokenAccess, "a-0", ""), old(store.TokenRefresh, "r-0", "a-0")); err != nil {
		t.Fatal(err)
	}
	req := fosite.NewAccessRequest(newSession())
	req.ID, req.Client = c.ID, &fosite.DefaultClient{ID: "vendor"}
	req.Session.(*Session).Subject = "usr_1"

	// grant is one refresh grant's response for refresh token "r-0",
	// issuing access token a-n and refresh token r-n.
	grant := func(n string) error {
		ctx := context.WithValue(withRetryNote(t.Context()), grantResponseKey{}, true)
		ctx, err := a.BeginTX(ctx)
		if err != nil {
			return err
		}
		err = a.RotateRefreshToken(ctx, c.ID, "r-0")
		if err == nil {
			err = a.CreateAccessTokenSession(ctx, "a-"+n, req)
		}
		if err == nil {
			err = a.CreateRefreshTokenSession(ctx, "r-"+n, "a-"+n, req)
		}
		if err == nil {
			return a.Commit(ctx)
		}
		if rerr := a.Rollback(ctx); rerr != nil {
			t.Errorf("rollback: %v", rerr)
		}
		return err
	}
	pair := map[store.TokenKind]string{store.TokenAccess: "a-", store.TokenRefresh: "r-"}
	active := func(kind store.TokenKind, sig string) (bool, error) {
		rec, err := st.GetToken(ctx, kind, sig)
		return rec.Active, err
	}
	issued := func(n string) {
		t.Helper()
		for k, prefix := range pair {
			if on, err := active(k, prefix+n); err != nil || !on {
				t.Errorf("%s %s: active %v, %v; want issued", k, n, on, err)
			}
		}
	}

	if err := grant("1"); err != nil {
		t.Fatalf("the usual grant: %v", err)
	}
	if got := st.n.Load(); got != 0 {
		t.Errorf("the usual grant opened %d transactions, want none", got)
	}
	issued("1")
	for k, prefix := range pair {
		if on, err := active(k, prefix+"0"); err != nil || on {
			t.Errorf("old %s: active %v, %v; want ended", k, on, err)
		}
	}

	if err := grant("2"); err != nil {
		t.Fatalf("the retry inside the grace period: %v", err)
	}
	if got := st.n.Load(); got != 1 {
		t.Errorf("the retry opened %d transactions, want 1", got)
	}
	issued("2")

	if err := grant("3"); !errors.Is(err, fosite.ErrSerializationFailure) {
		t.Fatalf("a second retry: %v, want a serialization failure", err)
	}
	for k, prefix := range pair {
		if _, err := active(k, prefix+"3"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("second retry's %s: %v, want none written", k, err)
		}
	}
}

// TestCodeExchangeNeedsNoTransaction drives the store as fosite's
// authorization-code handler does in a code exchange's response (BeginTX,
// InvalidateAuthorizeCodeSession, the two new tokens, Commit). The usual
// exchange opens no transaction: the commit consumes the code, stamps its
// consent used and writes the new tokens in one store call (issue 15). The
// same code again takes the steps one by one in a transaction, is refused
// as used, and writes nothing.
func TestCodeExchangeNeedsNoTransaction(t *testing.T) {
	st := &txCounting{Store: gormtest.Open(t, "authz_codeexchange", gormstore.Config{})}
	seal, err := newSealer(bytes.Repeat([]byte{7}, 32), "test")
	if err != nil {
		t.Fatal(err)
	}
	a := &fositeStore{st: st, seal: seal, now: time.Now,
		lifespans: map[fosite.TokenType]time.Duration{fosite.AccessToken: time.Hour, fosite.RefreshToken: 24 * time.Hour}}
	ctx := t.Context()
	c, err := st.CreateConsent(ctx, store.Consent{UserID: "usr_1", ClientID: "vendor", Scopes: []string{"accounts.read"}, GrantedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	if err := st.CreateToken(ctx, store.TokenRecord{Kind: store.TokenAuthorizeCode, Signature: "code", RequestID: c.ID,
		ClientID: "vendor", Subject: "usr_1", Active: true, RequestedAt: now, ExpiresAt: now.Add(time.Minute),
		TokenType: "bearer", Request: []byte("r")}); err != nil {
		t.Fatal(err)
	}
	req := fosite.NewAccessRequest(newSession())
	req.ID, req.Client = c.ID, &fosite.DefaultClient{ID: "vendor"}
	req.Session.(*Session).Subject = "usr_1"
	exchange := func(n string) error {
		ctx, err := a.BeginTX(context.WithValue(t.Context(), grantResponseKey{}, true))
		if err != nil {
			return err
		}
		err = a.InvalidateAuthorizeCodeSession(ctx, "code")
		if err == nil {
			err = a.CreateAccessTokenSession(ctx, "a-"+n, req)
		}
		if err == nil {
			err = a.CreateRefreshTokenSession(ctx, "r-"+n, "a-"+n, req)
		}
		if err == nil {
			return a.Commit(ctx)
		}
		if rerr := a.Rollback(ctx); rerr != nil {
			t.Errorf("rollback: %v", rerr)
		}
		return err
	}

	if err := exchange("1"); err != nil {
		t.Fatalf("the usual exchange: %v", err)
	}
	if got := st.n.Load(); got != 0 {
		t.Errorf("the usual exchange opened %d transactions, want none", got)
	}
	for kind, sig := range map[store.TokenKind]string{store.TokenAccess: "a-1", store.TokenRefresh: "r-1"} {
		if _, err := st.GetToken(ctx, kind, sig); err != nil {
			t.Errorf("new %s: %v", kind, err)
		}
	}
	if rec, err := st.GetToken(ctx, store.TokenAuthorizeCode, "code"); err != nil || rec.Active {
		t.Errorf("code after the exchange: active %v, %v; want used", rec.Active, err)
	}
	used, err := st.GetConsent(ctx, c.ID)
	if err != nil || used.LastUsedAt.IsZero() {
		t.Errorf("consent after the exchange: used at %v, %v; want stamped", used.LastUsedAt, err)
	}

	if err := exchange("2"); !errors.Is(err, fosite.ErrInvalidatedAuthorizeCode) {
		t.Fatalf("the code again: %v, want it refused as used", err)
	}
	if got := st.n.Load(); got != 1 {
		t.Errorf("the code again opened %d transactions, want 1", got)
	}
	if _, err := st.GetToken(ctx, store.TokenAccess, "a-2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the refused exchange's access token: %v, want none written", err)
	}
	if again, _ := st.GetConsent(ctx, c.ID); !again.LastUsedAt.Equal(used.LastUsedAt) {
		t.Errorf("the refused exchange stamped the consent used at %v", again.LastUsedAt)
	}
}

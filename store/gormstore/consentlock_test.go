package gormstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/store/gormstore/gormtest"
)

// TestConsentCheckedOncePerTransaction: a grant's tokens for one consent
// check it once per transaction (the second insert is the insert alone),
// and a revocation in the same transaction is seen by the next token,
// which is refused.
func TestConsentCheckedOncePerTransaction(t *testing.T) {
	st := gormtest.OpenStore(t, "consent_lock")
	ctx := t.Context()
	statements := 0
	if err := st.Instrument(func(string, time.Duration, bool) { statements++ }); err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	bg, err := st.CreateBusinessGroup(ctx, store.BusinessGroup{ID: store.NewID("bg"), Name: "Maple Foods"})
	must(err)
	u, err := st.CreateUser(ctx, store.User{ID: store.NewID("usr"), BusinessGroupID: bg.ID, LoginID: "avery",
		DisplayName: "Avery Clerk", Status: store.UserActive})
	must(err)
	cl, err := st.CreateClient(ctx, store.Client{ID: store.NewID("cl"), Name: "Ledgerly", RedirectURIs: []string{"https://l.example/cb"}})
	must(err)
	cs, err := st.CreateConsent(ctx, store.Consent{ID: store.NewID("cns"), UserID: u.ID, ClientID: cl.ID, Scopes: []string{"accounts.read"}})
	must(err)
	token := func(ctx context.Context, kind store.TokenKind) error {
		now := time.Now()
		return st.CreateToken(ctx, store.TokenRecord{Kind: kind, Signature: store.RandomToken(16), RequestID: cs.ID,
			ClientID: cl.ID, Subject: u.ID, Active: true, RequestedAt: now, ExpiresAt: now.Add(time.Hour)})
	}
	err = st.InTx(ctx, func(ctx context.Context) error {
		statements = 0
		must(token(ctx, store.TokenAccess))
		if statements != 2 {
			t.Errorf("first token: %d statements, want 2 (the consent's check and the insert)", statements)
		}
		statements = 0
		must(token(ctx, store.TokenRefresh))
		if statements != 1 {
			t.Errorf("second token of the same consent: %d statements, want 1 (the insert)", statements)
		}
		must(st.RevokeConsent(ctx, cs.ID, time.Time{}))
		if err := token(ctx, store.TokenAccess); !errors.Is(err, store.ErrGrantConsentRevoked) {
			t.Errorf("token after the revocation in the same transaction: %v, want ErrGrantConsentRevoked", err)
		}
		return nil
	})
	must(err)
	// A new transaction checks again.
	if err := token(ctx, store.TokenAccess); !errors.Is(err, store.ErrGrantConsentRevoked) {
		t.Errorf("token of a revoked consent: %v, want ErrGrantConsentRevoked", err)
	}
}

package store

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

// TestCanSignIn: only active users and users awaiting their first sign-in
// may try, and not while a lockout runs.
func TestCanSignIn(t *testing.T) {
	now := time.Date(2025, 3, 14, 15, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		status UserStatus
		until  time.Time
		want   bool
	}{
		{UserActive, time.Time{}, true},
		{UserAwaitingSignIn, time.Time{}, true},
		{UserActive, now.Add(time.Minute), false},
		{UserAwaitingSignIn, now.Add(time.Minute), false},
		{UserActive, now, false}, // the lockout ends after its instant
		{UserActive, now.Add(-time.Second), true},
		{UserLocked, time.Time{}, false},
		{UserLocked, now.Add(-time.Hour), false},
		{UserDeleted, time.Time{}, false},
		{"", time.Time{}, false},
	} {
		if got := (User{Status: c.status, LockedUntil: c.until}).CanSignIn(now); got != c.want {
			t.Errorf("%q locked until %v: CanSignIn = %v, want %v", c.status, c.until, got, c.want)
		}
	}
}

func TestConsentActive(t *testing.T) {
	now := time.Date(2025, 3, 14, 15, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name             string
		expires, revoked time.Time
		want             bool
	}{
		{"until revoked", time.Time{}, time.Time{}, true},
		{"expires later", now.Add(time.Hour), time.Time{}, true},
		{"expires now", now, time.Time{}, false},
		{"expired", now.Add(-time.Hour), time.Time{}, false},
		{"revoked", time.Time{}, now.Add(-time.Hour), false},
		{"revoked before it would expire", now.Add(time.Hour), now.Add(-time.Hour), false},
	} {
		if got := (Consent{ExpiresAt: c.expires, RevokedAt: c.revoked}).Active(now); got != c.want {
			t.Errorf("%s: Active = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestTransactionalPermissions: the money-moving permissions are exactly
// the transactional ones, and none is one the article lets an accounting
// software user see.
func TestTransactionalPermissions(t *testing.T) {
	want := map[Permission]bool{PermTransfers: true, PermBillPayments: true, PermWirePayments: true, PermPayroll: true}
	n := 0
	for _, p := range Permissions() {
		if p.Transactional() != want[p] {
			t.Errorf("%s: Transactional = %v", p, p.Transactional())
		}
		if p.Transactional() {
			n++
		}
	}
	if n != len(want) {
		t.Errorf("%d transactional permissions in the catalogue, want %d", n, len(want))
	}
	for _, g := range AccountingSoftwareReadOnlyGrants() {
		if g.Permission.Transactional() {
			t.Errorf("accounting software grants include transactional %s", g.Permission)
		}
	}
}

func TestAccountTypes(t *testing.T) {
	for typ, cat := range map[AccountType]string{AccountChecking: "DEPOSIT_ACCOUNT", AccountSavings: "DEPOSIT_ACCOUNT",
		AccountLineOfCredit: "LOC_ACCOUNT", AccountCreditCard: "LOC_ACCOUNT", AccountLoan: "LOAN_ACCOUNT"} {
		if !typ.Valid() || typ.Category() != cat {
			t.Errorf("%s: Valid %v, Category %q; want true, %q", typ, typ.Valid(), typ.Category(), cat)
		}
	}
	for _, typ := range []AccountType{"", "checking", "GOLD"} {
		if typ.Valid() || typ.Category() != "" {
			t.Errorf("%q: Valid %v, Category %q", typ, typ.Valid(), typ.Category())
		}
	}
}

func TestSignedAmount(t *testing.T) {
	amt := decimal.RequireFromString("12.34")
	if got := (Transaction{Amount: amt, Direction: Credit}).SignedAmount(); !got.Equal(amt) {
		t.Errorf("credit = %s", got)
	}
	if got := (Transaction{Amount: amt, Direction: Debit}).SignedAmount(); !got.Equal(amt.Neg()) {
		t.Errorf("debit = %s", got)
	}
}

package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/store"
)

// badTexts are strings no text column may hold: PostgreSQL refuses a NUL
// byte and invalid UTF-8 (SQLSTATE 22021) while SQLite stores both, so the
// store refuses them itself, identically on every backend.
var badTexts = map[string]string{
	"NUL":              "a\x00b",
	"leading NUL":      "\x00",
	"invalid UTF-8":    "\xff\xfe",
	"truncated rune":   "caf\xc3",
	"surrogate half":   "\xed\xa0\x80",
	"overlong slash":   "\xc0\xaf",
	"NUL after rune":   "é\x00",
	"invalid in token": "rt.\xff.\xfe",
}

// testTextRefused: every family of text column — names, descriptions, IDs
// looked up, login IDs, signatures, cursors — refuses a NUL byte or invalid
// UTF-8 with store.ErrInvalid, writes nothing, and leaves the store usable
// (on PostgreSQL a refused statement inside a transaction would otherwise
// abort it).
func testTextRefused(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := newOrg(t, s)
	acc := o.accounts[0].ID
	for name, bad := range badTexts {
		t.Run(name, func(t *testing.T) {
			cases := []struct {
				what string
				call func() error
			}{
				{"business group name", func() error {
					_, err := s.CreateBusinessGroup(ctx, store.BusinessGroup{ID: store.NewID("bg"), Name: "G " + bad, LegalName: "L"})
					return err
				}},
				{"business group name update", func() error {
					_, err := s.UpdateBusinessGroup(ctx, o.group.ID, func(g store.BusinessGroup) (store.BusinessGroup, error) {
						g.Name = bad
						return g, nil
					})
					return err
				}},
				{"transaction description", func() error {
					tx := posted(acc, "ext-"+store.RandomToken(4), "2025-01-15", store.Credit, "1.00")
					tx.Description = bad
					_, err := s.CreateTransactions(ctx, []store.Transaction{tx})
					return err
				}},
				{"transaction external ID", func() error {
					_, err := s.CreateTransactions(ctx, []store.Transaction{posted(acc, bad, "2025-01-15", store.Credit, "1.00")})
					return err
				}},
				{"account lookup", func() error { _, err := s.GetAccount(ctx, bad); return err }},
				{"accounts with entities lookup", func() error {
					_, _, err := s.AccountsWithEntities(ctx, o.group.ID, []string{acc, bad})
					return err
				}},
				{"user lookup", func() error { _, err := s.GetUser(ctx, bad); return err }},
				{"login ID lookup", func() error { _, err := s.GetUserByLogin(ctx, bad); return err }},
				{"login challenge lookup", func() error { _, err := s.GetAuthFlow(ctx, bad); return err }},
				{"login challenge and session lookup", func() error { _, err := s.SessionAccessFlow(ctx, "sess", bad); return err }},
				{"session and login challenge lookup", func() error { _, err := s.SessionAccessFlow(ctx, bad, "flow"); return err }},
				{"browser session lookup", func() error { _, err := s.GetBrowserSession(ctx, bad); return err }},
				{"client lookup", func() error { _, err := s.GetClient(ctx, bad); return err }},
				{"token signature lookup", func() error { _, err := s.GetToken(ctx, store.TokenRefresh, bad); return err }},
				{"token grant lookup", func() error { _, _, err := s.GetTokenGrant(ctx, store.TokenAccess, bad); return err }},
				{"token grant state lookup", func() error { _, _, err := s.GetTokenGrantState(ctx, store.TokenAccess, bad); return err }},
				{"refresh rotation", func() error { _, err := s.RotateRefreshToken(ctx, bad, time.Now()); return err }},
				{"token take", func() error { _, err := s.TakeToken(ctx, store.TokenPAR, bad); return err }},
				{"tokens take", func() error {
					_, err := s.TakeTokens(ctx, store.TokenKey{Kind: store.TokenPKCE, Signature: "sig"}, store.TokenKey{Kind: store.TokenOIDC, Signature: bad})
					return err
				}},
				{"code read and tokens take", func() error {
					_, _, _, err := s.GetTokenGrantRecordsTaking(ctx, store.TokenAuthorizeCode, "sig", "client", store.TokenKey{Kind: store.TokenPKCE, Signature: bad})
					return err
				}},
				{"token end", func() error { return s.DeactivateToken(ctx, store.TokenAccess, bad) }},
				{"flow write", func() error {
					_, err := s.CreateAuthFlow(ctx, store.AuthFlow{ClientID: bad, State: store.FlowLogin, ExpiresAt: time.Now().Add(time.Minute)})
					return err
				}},
				{"token write", func() error {
					now := time.Now()
					return s.CreateToken(ctx, store.TokenRecord{Kind: store.TokenPAR, Signature: "sig-" + store.RandomToken(4), ClientID: bad,
						Active: true, RequestedAt: now, ExpiresAt: now.Add(time.Minute)})
				}},
				{"external ID lookup", func() error { _, err := s.GetTransactionByExternalID(ctx, acc, bad); return err }},
				{"login failures key", func() error { _, err := s.GetLoginFailures(ctx, bad); return err }},
				{"account cursor", func() error {
					_, _, err := s.ListAccounts(ctx, store.AccountFilter{BusinessGroupID: &o.group.ID}, store.Page{After: bad, Limit: 10})
					return err
				}},
				{"user cursor", func() error {
					_, _, err := s.ListUsers(ctx, store.UserFilter{BusinessGroupID: o.group.ID}, store.Page{After: bad, Limit: 10})
					return err
				}},
				{"transaction cursor", func() error {
					_, _, err := s.ListTransactions(ctx, store.TransactionFilter{AccountID: acc},
						&store.TxCursor{BusinessDate: "2025-01-15", ID: bad}, 10)
					return err
				}},
				{"in a transaction", func() error {
					return s.InTx(ctx, func(ctx context.Context) error {
						_, err := s.GetUser(ctx, bad)
						return err
					})
				}},
			}
			for _, c := range cases {
				if err := c.call(); !errors.Is(err, store.ErrInvalid) {
					t.Errorf("%s: error = %v, want store.ErrInvalid", c.what, err)
				}
			}
		})
	}
	// Nothing was written and the store still answers.
	got := must(s.GetBusinessGroup(ctx, o.group.ID))(t)
	if got.Name != o.group.Name {
		t.Errorf("group renamed to %q", got.Name)
	}
	if n := must(s.MaxSeq(ctx))(t); n != 0 {
		t.Errorf("MaxSeq = %d after refused transactions, want 0", n)
	}
	// Valid text beyond ASCII is stored as given.
	g := must(s.CreateBusinessGroup(ctx, store.BusinessGroup{ID: store.NewID("bg"), Name: "Café ☕ 𝄞", LegalName: "L"}))(t)
	if got := must(s.GetBusinessGroup(ctx, g.ID))(t); got.Name != "Café ☕ 𝄞" {
		t.Errorf("name = %q", got.Name)
	}
}

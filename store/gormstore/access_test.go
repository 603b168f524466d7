package gormstore_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/store/demo"
	"github.com/bankfeed/bankfeed/store/gormstore"
)

// TestReadAccess: the joined read returns exactly what the single reads
// return, sees a membership change at once, and is ok=false (no error) for
// every missing record and every account outside the group.
func TestReadAccess(t *testing.T) {
	onDemoStores(t, func(t *testing.T, s *gormstore.Store, creds demo.Credentials, c store.Consent) {
		ctx := t.Context()
		bg := creds.BusinessGroups[0]
		uid := c.UserID
		var want store.Access
		want.Consent, _ = s.GetConsent(ctx, c.ID)
		want.User, _ = s.GetUser(ctx, uid)
		want.Assignment, _ = s.UserAssignment(ctx, uid, "")
		want.Role, _ = s.GetJobRole(ctx, want.Assignment.JobRoleID)
		want.Group, _ = s.GetAccountGroup(ctx, want.Assignment.AccountGroupID)
		want.MaxSeq, _ = s.MaxSeq(ctx)
		if want.MaxSeq == 0 || len(want.Group.AccountIDs) == 0 {
			t.Fatalf("demo data: MaxSeq %d, %d accounts in the group", want.MaxSeq, len(want.Group.AccountIDs))
		}
		opts := cmp.Options{cmp.Comparer(func(a, b store.Money) bool { return a.Equal(b) }), cmpopts.EquateEmpty()}
		check := func(what string, consentID, userID, accountID string, want store.Access, wantOK bool) {
			t.Helper()
			got, ok, err := s.ReadAccess(ctx, consentID, userID, accountID)
			if err != nil || ok != wantOK {
				t.Fatalf("%s: ReadAccess = ok %v, %v; want ok %v", what, ok, err, wantOK)
			}
			if d := cmp.Diff(want, got, opts); d != "" {
				t.Errorf("%s (-want +got):\n%s", what, d)
			}
		}
		check("no account", c.ID, uid, "", want, true)

		inGroup := want.Group.AccountIDs[len(want.Group.AccountIDs)/2]
		withAccount := want
		withAccount.Group.AccountIDs = nil
		withAccount.Account, _ = s.GetAccount(ctx, inGroup)
		check("account in the group", c.ID, uid, inGroup, withAccount, true)

		var outside, otherGroup string
		for _, a := range bg.Accounts {
			if !a.InAccountGroup {
				outside = a.ID
			}
		}
		otherGroup = creds.BusinessGroups[1].AccountGroup.AccountIDs[0]
		if outside == "" {
			t.Fatal("demo data: every account of the first business group is in the group")
		}
		for what, id := range map[string]string{
			"same business group, outside the group": outside,
			"another business group":                 otherGroup,
			"no such account":                        "acc_missing",
			"quote in the ID":                        `acc_"x`,
			"the group's JSON as the ID":             `","`,
		} {
			check(what, c.ID, uid, id, store.Access{}, false)
		}
		check("no consent", "cns_missing", uid, "", store.Access{}, false)
		check("no user", c.ID, "usr_missing", "", store.Access{}, false)

		// By token: the record and the same records in one statement.
		tok := store.TokenRecord{Kind: store.TokenAccess, Signature: "sig_" + store.RandomToken(8), RequestID: c.ID,
			ClientID: c.ClientID, Subject: uid, Active: true, RequestedAt: c.GrantedAt, ExpiresAt: c.GrantedAt.Add(time.Hour),
			Request: []byte("sealed")}
		other := tok
		other.Kind, other.Signature = store.TokenRefresh, "sig_"+store.RandomToken(8)
		orphan := tok
		orphan.Signature, orphan.RequestID = "sig_"+store.RandomToken(8), "cns_missing"
		for _, r := range []store.TokenRecord{tok, other, orphan} {
			if err := s.CreateToken(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		wantRec, err := s.GetToken(ctx, store.TokenAccess, tok.Signature)
		if err != nil {
			t.Fatal(err)
		}
		checkToken := func(what, sig, accountID string, want store.Access, wantOK bool) {
			t.Helper()
			rec, got, ok, err := s.ReadTokenAccess(ctx, sig, accountID)
			if err != nil || ok != wantOK {
				t.Fatalf("%s: ReadTokenAccess = ok %v, %v; want ok %v", what, ok, err, wantOK)
			}
			if !wantOK {
				wantRec := store.TokenRecord{}
				if d := cmp.Diff(wantRec, rec, opts); d != "" {
					t.Errorf("%s: record (-want +got):\n%s", what, d)
				}
			} else if d := cmp.Diff(wantRec, rec, opts); d != "" {
				t.Errorf("%s: record (-want +got):\n%s", what, d)
			}
			if d := cmp.Diff(want, got, opts); d != "" {
				t.Errorf("%s (-want +got):\n%s", what, d)
			}
		}
		checkToken("token, no account", tok.Signature, "", want, true)
		checkToken("token, account in the group", tok.Signature, inGroup, withAccount, true)
		checkToken("token, account outside the group", tok.Signature, outside, store.Access{}, false)
		checkToken("unknown signature", "sig_missing", "", store.Access{}, false)
		checkToken("a refresh token's signature", other.Signature, "", store.Access{}, false)
		checkToken("token of a missing consent", orphan.Signature, "", store.Access{}, false)

		// Removing the account from the group shows on the next read.
		if _, err := s.UpdateAccountGroup(ctx, want.Group.ID, func(g store.AccountGroup) (store.AccountGroup, error) {
			g.AccountIDs = slices.DeleteFunc(slices.Clone(g.AccountIDs), func(id string) bool { return id == inGroup })
			return g, nil
		}); err != nil {
			t.Fatal(err)
		}
		check("account removed from the group", c.ID, uid, inGroup, store.Access{}, false)

		// Inside a transaction it joins the transaction.
		if err := s.InTx(ctx, func(ctx context.Context) error {
			_, ok, err := s.ReadAccess(ctx, c.ID, uid, "")
			if !ok {
				t.Error("ReadAccess in a transaction: not ok")
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
	})
}

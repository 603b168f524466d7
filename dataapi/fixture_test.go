package dataapi_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/bankfeed/bankfeed/store"
)

// fixture names what seed wrote.
//
// Business group acme (bg_acme): entities le_ops and le_hold.
//
//	acc_chq  CHECKING CAD le_ops   in the account group; transactions, balances, statements
//	acc_sav  SAVINGS  CAD le_ops   in the group
//	acc_loc  LINEOFCREDIT le_hold  in the group
//	acc_loan LOAN     le_hold      in the group
//	acc_out  CHECKING le_hold      NOT in the group
//
// Business group other (bg_other): acc_foreign, which acme's account group
// lists by mistake (the API must still refuse it).
type fixture struct {
	bgAcme, bgOther            string
	leOps, leHold              string
	chq, sav, loc, loan, out   string
	foreign                    string
	group, role, roleNoStmt    string
	user, otherUser, client    string
	consent                    string
	pendingLive, pendingPosted string // pending IDs: still pending; replaced by postedOfPending
	postedOfPending            string
	pendingRemoved             string
	stmtJan, stmtFeb           string
	chqPosted                  int // posted entries on acc_chq
}

func m(s string) store.Money { return decimal.RequireFromString(s) }

// must unwraps a store call in test set-up; a failure there is a broken
// test, reported by the panic's stack.
func must[T any](v T, err error) T {
	if err != nil {
		panic(fmt.Sprintf("test set-up: %v", err))
	}
	return v
}

func seed(t testing.TB, st store.Store) fixture {
	t.Helper()
	ctx := context.Background()
	f := fixture{
		bgAcme: "bg_acme", bgOther: "bg_other", leOps: "le_ops", leHold: "le_hold",
		chq: "acc_chq", sav: "acc_sav", loc: "acc_loc", loan: "acc_loan", out: "acc_out", foreign: "acc_foreign",
		group: "ag_acme", role: "jr_read", roleNoStmt: "jr_summary", user: "usr_as", otherUser: "usr_other", client: "cli_vendor",
	}
	must(st.CreateBusinessGroup(ctx, store.BusinessGroup{ID: f.bgAcme, Name: "Acme", LegalName: "Acme Holdings Inc."}))
	must(st.CreateBusinessGroup(ctx, store.BusinessGroup{ID: f.bgOther, Name: "Other", LegalName: "Other Co. Ltd."}))
	must(st.CreateLegalEntity(ctx, store.LegalEntity{ID: f.leOps, BusinessGroupID: f.bgAcme, Name: "Acme Ops", LegalName: "Acme Operations Ltd."}))
	must(st.CreateLegalEntity(ctx, store.LegalEntity{ID: f.leHold, BusinessGroupID: f.bgAcme, Name: "Acme Hold", LegalName: "Acme Holdings Inc."}))
	must(st.CreateLegalEntity(ctx, store.LegalEntity{ID: "le_other", BusinessGroupID: f.bgOther, Name: "Other", LegalName: "Other Co. Ltd."}))
	acct := func(id, bg, le, number string, typ store.AccountType) {
		must(st.CreateAccount(ctx, store.Account{
			ID: id, BusinessGroupID: bg, LegalEntityID: le, Number: number, DisplayNumber: store.MaskAccountNumber(number),
			Type: typ, ProductName: "Business " + string(typ), Nickname: id, Currency: "CAD", Status: store.AccountOpen, OpenedOn: "2020-01-02",
		}))
	}
	acct(f.chq, f.bgAcme, f.leOps, "00012-003-1234567", store.AccountChecking)
	acct(f.sav, f.bgAcme, f.leOps, "00012-003-2345678", store.AccountSavings)
	acct(f.loc, f.bgAcme, f.leHold, "00012-003-3456789", store.AccountLineOfCredit)
	acct(f.loan, f.bgAcme, f.leHold, "00012-003-4567890", store.AccountLoan)
	acct(f.out, f.bgAcme, f.leHold, "00012-003-5678901", store.AccountChecking)
	acct(f.foreign, f.bgOther, "le_other", "00099-003-9999999", store.AccountChecking)

	must(st.CreateAccountGroup(ctx, store.AccountGroup{ID: f.group, BusinessGroupID: f.bgAcme, Name: "Accounting",
		AccountIDs: []string{f.chq, f.foreign, f.loan, f.loc, f.sav}}))
	must(st.CreateJobRole(ctx, store.JobRole{ID: f.role, BusinessGroupID: f.bgAcme, Name: "Accounting software read-only",
		Grants: store.AccountingSoftwareReadOnlyGrants()}))
	must(st.CreateJobRole(ctx, store.JobRole{ID: f.roleNoStmt, BusinessGroupID: f.bgAcme, Name: "Summary only",
		Grants: store.Grants{{Permission: store.PermAccountSummary, Rights: store.Rights(store.RightView)}}}))
	must(st.CreateUser(ctx, store.User{ID: f.user, BusinessGroupID: f.bgAcme, LoginID: "acme-books", DisplayName: "Books",
		AccountingSoftware: true, Status: store.UserActive}))
	must(st.CreateUser(ctx, store.User{ID: f.otherUser, BusinessGroupID: f.bgOther, LoginID: "other-books", DisplayName: "Other books",
		AccountingSoftware: true, Status: store.UserActive}))
	must(st.PutAssignment(ctx, store.Assignment{BusinessGroupID: f.bgAcme, UserID: f.user, JobRoleID: f.role, AccountGroupID: f.group}))
	must(st.CreateClient(ctx, store.Client{ID: f.client, Name: "Ledgerly", RedirectURIs: []string{"https://vendor.example/cb"},
		GrantTypes: []string{"authorization_code", "refresh_token"}, ResponseTypes: []string{"code"},
		Scopes: []string{"openid", "offline_access", store.ScopeAccountsRead, store.ScopeStatementsRead}, TokenEndpointAuthMethod: "client_secret_basic"}))
	f.consent = newConsent(t, st, f.user, f.client).ID

	// acc_chq: 40 posted entries over January and February 2025, a pending
	// entry still pending, one that posted (replaced) and one that dropped.
	bal := m("1000.00")
	var txs []store.Transaction
	day := store.Date("2025-01-02")
	for i := 0; i < 40; i++ {
		dir := store.Credit
		amt := m(fmt.Sprintf("%d.%02d", 10+i*7, (i*37)%100))
		if i%3 == 0 {
			dir = store.Debit
		}
		bal = bal.Add(store.Signed(amt, dir))
		at := day.Time().Add(10 * time.Hour)
		txs = append(txs, store.Transaction{
			ID: fmt.Sprintf("txn_chq_%03d", i), AccountID: f.chq, ExternalID: fmt.Sprintf("core-%03d", i), Status: store.Posted,
			TransactionAt: at, PostedAt: at, BusinessDate: day, ValueDate: day, Amount: amt, Direction: dir,
			Description: fmt.Sprintf("Entry %d", i), Memo: "memo", Payee: "Payee", Counterparty: "Counterparty Inc.",
			CheckNumber:   map[bool]string{true: fmt.Sprint(1000 + i), false: ""}[i%5 == 0],
			BankReference: fmt.Sprintf("REF%05d", i), CustomerReference: fmt.Sprintf("INV-%d", i),
			Code:           store.BankTransactionCode{BAI: map[store.Direction]string{store.Credit: "165", store.Debit: "475"}[dir], Domain: "PMNT", Family: "RCDT", SubFamily: "ESCT"},
			RunningBalance: bal, HasRunning: true,
		})
		if i%2 == 1 {
			day = day.AddDays(3)
		}
	}
	created := must(st.CreateTransactions(ctx, txs))
	f.chqPosted = len(created)

	pendAt := time.Date(2025, 3, 11, 14, 0, 0, 0, time.UTC)
	pend := func(ext, amount string) store.Transaction {
		return store.Transaction{AccountID: f.chq, ExternalID: ext, Status: store.Pending, TransactionAt: pendAt,
			BusinessDate: store.BusinessDate(pendAt), Amount: m(amount), Direction: store.Debit, Description: "Card " + ext}
	}
	ps := must(st.CreateTransactions(ctx, []store.Transaction{pend("p-live", "12.34"), pend("p-post", "56.78"), pend("p-drop", "9.10")}))
	f.pendingLive, f.pendingPosted, f.pendingRemoved = ps[0].ID, ps[1].ID, ps[2].ID
	postedAt := time.Date(2025, 3, 12, 13, 0, 0, 0, time.UTC)
	posted := must(st.CreateTransactions(ctx, []store.Transaction{{
		AccountID: f.chq, ExternalID: "core-post", Status: store.Posted, TransactionAt: pendAt, PostedAt: postedAt,
		BusinessDate: store.BusinessDate(postedAt), Amount: m("56.78"), Direction: store.Debit, Description: "Card p-post",
		PendingID: f.pendingPosted, RunningBalance: bal.Sub(m("56.78")), HasRunning: true,
	}}))
	f.postedOfPending = posted[0].ID
	if err := st.ReplacePending(ctx, f.pendingPosted, f.postedOfPending); err != nil {
		t.Fatalf("seed: replace pending: %v", err)
	}
	if err := st.RemovePending(ctx, f.pendingRemoved, t0); err != nil {
		t.Fatalf("seed: remove pending: %v", err)
	}
	f.chqPosted++

	// Balances.
	if err := st.SetBalance(ctx, store.Balance{AccountID: f.chq, AsOf: t0, Ledger: bal.Sub(m("56.78")), Available: bal.Sub(m("56.78")).Sub(m("12.34"))}); err != nil {
		t.Fatalf("seed: balance: %v", err)
	}
	if err := st.SetBalance(ctx, store.Balance{AccountID: f.loc, AsOf: t0, Ledger: m("-2500.00"), Available: m("7500.00")}); err != nil {
		t.Fatalf("seed: balance: %v", err)
	}
	if err := st.SetBalance(ctx, store.Balance{AccountID: f.loan, AsOf: t0, Ledger: m("-120000.00"), Available: m("0.00")}); err != nil {
		t.Fatalf("seed: balance: %v", err)
	}
	if err := st.PutDailyBalance(ctx, store.DailyBalance{AccountID: f.chq, BusinessDate: "2025-03-11", OpeningLedger: m("1500.00"),
		ClosingLedger: m("1600.10"), OpeningAvailable: m("1400.00"), ClosingAvailable: m("1500.10"), Closed: true}); err != nil {
		t.Fatalf("seed: daily balance: %v", err)
	}

	// Statements for January and February that reconcile with the entries.
	for _, p := range [][2]store.Date{{"2025-01-01", "2025-01-31"}, {"2025-02-01", "2025-02-28"}} {
		open := m("1000.00")
		var n int
		var deb, cred store.Money
		for _, tx := range created {
			if tx.BusinessDate < p[0] {
				open = open.Add(tx.SignedAmount())
			} else if tx.BusinessDate <= p[1] {
				n++
				if tx.Direction == store.Debit {
					deb = deb.Add(tx.Amount)
				} else {
					cred = cred.Add(tx.Amount)
				}
			}
		}
		s := must(st.CreateStatement(ctx, store.Statement{AccountID: f.chq, PeriodStart: p[0], PeriodEnd: p[1],
			StatementDate: p[1].AddDays(1), Opening: open, Closing: open.Add(cred).Sub(deb), EntryCount: n,
			TotalDebits: deb, TotalCredits: cred, Status: "AVAILABLE"}))
		if p[0] == "2025-01-01" {
			f.stmtJan = s.ID
		} else {
			f.stmtFeb = s.ID
		}
	}
	return f
}

func newConsent(t testing.TB, st store.Store, user, client string) store.Consent {
	t.Helper()
	return must(st.CreateConsent(context.Background(), store.Consent{UserID: user, ClientID: client,
		Scopes: []string{"openid", "offline_access", store.ScopeAccountsRead, store.ScopeStatementsRead}, GrantedAt: t0.Add(-time.Hour)}))
}

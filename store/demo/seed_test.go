package demo_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/store/demo"
	"github.com/bankfeed/bankfeed/store/gormstore"
	"github.com/bankfeed/bankfeed/store/gormstore/gormtest"
)

// now is a Wednesday afternoon in Toronto.
var now = time.Date(2026, time.March, 11, 15, 30, 0, 0, store.Toronto())

// backend opens a fresh, migrated database.
type backend struct {
	name string
	open func(t *testing.T) store.Store
}

func backends(t *testing.T) []backend {
	bs := []backend{{"sqlite", openSQLite}}
	if os.Getenv(gormtest.PostgresEnv) != "" {
		bs = append(bs, backend{"postgres", openPostgres})
	}
	return bs
}

// migrated opens and migrates a store at dsn, logging slow queries (the
// scale seed's) to the default logger.
func migrated(t *testing.T, dsn string) store.Store {
	t.Helper()
	return gormtest.Open(t, "", gormstore.Config{DSN: dsn, Logger: slog.Default()})
}

func openSQLite(t *testing.T) store.Store {
	t.Helper()
	return migrated(t, filepath.Join(t.TempDir(), "bankfeed.db"))
}

// openPostgres opens a store on a database of its own on the server,
// dropped afterwards.
func openPostgres(t *testing.T) store.Store {
	t.Helper()
	return migrated(t, gormtest.PostgresDSN(t, "bankfeed_demo"))
}

func seed(t *testing.T, st store.Store, opts demo.Options) demo.Credentials {
	t.Helper()
	creds, err := demo.Seed(t.Context(), st, opts)
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	return creds
}

func TestSeed(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			st := b.open(t)
			creds := seed(t, st, demo.Options{Seed: 1, Now: now})
			ctx := t.Context()

			t.Run("OnlyAnEmptyDatabase", func(t *testing.T) {
				_, err := demo.Seed(ctx, st, demo.Options{Seed: 2, Now: now})
				if !errors.Is(err, store.ErrConflict) {
					t.Fatalf("second seed: %v, want ErrConflict", err)
				}
			})
			t.Run("Credentials", func(t *testing.T) { checkCredentials(t, st, creds) })
			t.Run("Statements", func(t *testing.T) { checkStatements(t, st) })
			t.Run("Balances", func(t *testing.T) { checkBalances(t, st) })
			t.Run("Pending", func(t *testing.T) { checkPending(t, st) })
			t.Run("FDXRatesAndContacts", func(t *testing.T) { checkFDXData(t, st, creds) })
			t.Run("Audit", func(t *testing.T) {
				sys := "system"
				for _, g := range creds.BusinessGroups {
					es, _, err := st.ListAudit(ctx, store.AuditFilter{BusinessGroupID: &g.ID, ActorID: &sys}, store.Page{Limit: 1000})
					if err != nil {
						t.Fatal(err)
					}
					actions := map[string]int{}
					for _, e := range es {
						actions[e.Action]++
						if bytes.Contains(e.After, []byte("argon2")) {
							t.Errorf("audit event %s carries a hash", e.Action)
						}
					}
					for _, a := range []string{"business_group.create", "legal_entity.create", "service_agreement.create", "account.create", "job_role.create", "account_group.create", "user.create", "assignment.create"} {
						if actions[a] == 0 {
							t.Errorf("%s: no %s audit event (have %v)", g.Name, a, actions)
						}
					}
				}
			})
		})
	}
}

func checkCredentials(t *testing.T, st store.Store, creds demo.Credentials) {
	ctx := t.Context()
	if len(creds.BusinessGroups) != 2 {
		t.Fatalf("%d business groups", len(creds.BusinessGroups))
	}
	js, err := json.Marshal(creds)
	if err != nil || !strings.Contains(string(js), `"accountingSoftwareUser":{"userId":`) || !strings.Contains(string(js), `"clientSecret":`) {
		t.Errorf("JSON %s (%v)", js, err)
	}
	var out strings.Builder
	creds.Print(&out)
	for _, want := range []string{creds.Vendor.ClientSecret, creds.BusinessGroups[1].AccountingSoftware.Password, "temporary password", demo.VendorRedirectURI} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("Print lacks %q:\n%s", want, out.String())
		}
	}
	for _, g := range creds.BusinessGroups {
		accounts, _, err := st.ListAccounts(ctx, store.AccountFilter{BusinessGroupID: &g.ID}, store.Page{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(accounts) < 6 || len(accounts) > 10 {
			t.Errorf("%s: %d accounts, want 6 to 10", g.Name, len(accounts))
		}
		currencies, types := map[string]bool{}, map[store.AccountType]bool{}
		for _, a := range accounts {
			currencies[a.Currency], types[a.Type] = true, true
			if a.DisplayNumber != store.MaskAccountNumber(a.Number) || !strings.HasPrefix(a.DisplayNumber, "****") {
				t.Errorf("account %s display number %q", a.ID, a.DisplayNumber)
			}
		}
		if !currencies["CAD"] || !currencies["USD"] || len(types) < 4 {
			t.Errorf("%s: currencies %v, types %v", g.Name, currencies, types)
		}
		entities, err := st.ListLegalEntities(ctx, g.ID)
		if err != nil || len(entities) < 2 || len(entities) > 3 {
			t.Errorf("%s: %d legal entities (%v)", g.Name, len(entities), err)
		}
		for _, e := range entities {
			if sas, err := st.ListServiceAgreements(ctx, e.ID); err != nil || len(sas) == 0 {
				t.Errorf("entity %s: no service agreement (%v)", e.Name, err)
			}
		}

		for _, l := range []demo.Login{g.Administrator, g.SecondApprover, g.OrdinaryUser} {
			u, err := st.GetUserByLogin(ctx, l.LoginID)
			if err != nil {
				t.Fatal(err)
			}
			if u.Status != store.UserActive || u.AccountingSoftware || u.MustChangePassword || !store.VerifySecret(u.PasswordHash, l.Password) || l.TemporaryPassword {
				t.Errorf("%s: %+v", l.LoginID, u)
			}
			if !store.VerifySecret(u.SecurityAnswerHash, store.NormalizeAnswer(creds.SecurityAnswer)) {
				t.Errorf("%s: security answer does not verify", l.LoginID)
			}
		}
		as, err := st.GetUserByLogin(ctx, g.AccountingSoftware.LoginID)
		if err != nil {
			t.Fatal(err)
		}
		if !as.AccountingSoftware || as.Status != store.UserAwaitingSignIn || !as.MustChangePassword || !g.AccountingSoftware.TemporaryPassword ||
			!store.VerifySecret(as.PasswordHash, g.AccountingSoftware.Password) || as.BusinessGroupID != g.ID {
			t.Errorf("accounting software user %+v", as)
		}

		// The accounting software user: the read-only role and an account
		// group with some but not all accounts, in the overview context.
		asg, err := st.UserAssignment(ctx, as.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		role, err := st.GetJobRole(ctx, asg.JobRoleID)
		if err != nil {
			t.Fatal(err)
		}
		if role.Name != "Accounting software — read only" || role.ID != g.JobRole.ID ||
			!slices.Equal(role.Grants.Normalize(), store.AccountingSoftwareReadOnlyGrants().Normalize()) {
			t.Errorf("role %+v", role)
		}
		ag, err := st.GetAccountGroup(ctx, asg.AccountGroupID)
		if err != nil {
			t.Fatal(err)
		}
		if ag.ID != g.AccountGroup.ID || !slices.Equal(ag.AccountIDs, g.AccountGroup.AccountIDs) || len(ag.AccountIDs) == 0 || len(ag.AccountIDs) >= len(accounts) {
			t.Errorf("account group %+v of %d accounts", ag, len(accounts))
		}
		if got := store.VisibleAccounts(store.User{Status: store.UserActive, BusinessGroupID: g.ID}, ag, accounts); len(got) != len(ag.AccountIDs) {
			t.Errorf("%d visible accounts, want %d", len(got), len(ag.AccountIDs))
		}
		if got := store.AllowedScopes(store.EffectiveGrants(store.User{Status: store.UserActive, BusinessGroupID: g.ID, AccountingSoftware: true}, role)); !slices.Equal(got, store.DataScopes) {
			t.Errorf("allowed scopes %v", got)
		}

		// Administrators: full admin grants, self-approval of nothing, so a
		// request of one needs the other.
		adm, _ := st.GetUserByLogin(ctx, g.Administrator.LoginID)
		apr, _ := st.GetUserByLogin(ctx, g.SecondApprover.LoginID)
		aa, err := st.UserAssignment(ctx, adm.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		arole, err := st.GetJobRole(ctx, aa.JobRoleID)
		if err != nil {
			t.Fatal(err)
		}
		// They were onboarded as the bank's operator does (store.AddAdministrator):
		// the built-in Administrator role and Administrators account group.
		if arole.Name != store.AdministratorRoleName || !slices.Equal(arole.Grants.Normalize(), store.AdminGrants().Normalize()) {
			t.Errorf("administrator's role %+v; want the built-in %q", arole, store.AdministratorRoleName)
		}
		if ag, err := st.GetAccountGroup(ctx, aa.AccountGroupID); err != nil || ag.Name != store.AdministratorsGroupName {
			t.Errorf("administrator's account group %+v (%v); want the built-in %q", ag, err, store.AdministratorsGroupName)
		}
		if adm.ID != g.Administrator.UserID || apr.ID != g.SecondApprover.UserID {
			t.Errorf("printed user IDs %s, %s; stored %s, %s", g.Administrator.UserID, g.SecondApprover.UserID, adm.ID, apr.ID)
		}
		grants := store.EffectiveGrants(adm, arole)
		req := store.ApprovalRequest{Status: store.ApprovalPending, Permission: store.PermManageJobRoles, Right: store.RightCreate, InitiatorID: adm.ID}
		if err := store.CanDecide(adm.ID, grants, req); !errors.Is(err, store.ErrForbidden) {
			t.Errorf("administrator approves own request: %v", err)
		}
		pa, err := st.UserAssignment(ctx, apr.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		prole, _ := st.GetJobRole(ctx, pa.JobRoleID)
		if err := store.CanDecide(apr.ID, store.EffectiveGrants(apr, prole), req); err != nil {
			t.Errorf("second approver cannot approve: %v", err)
		}
	}
	if creds.BusinessGroups[0].AccountingSoftware.LoginID == creds.BusinessGroups[1].AccountingSoftware.LoginID {
		t.Error("login IDs not unique")
	}

	c, err := st.GetClient(ctx, demo.VendorClientID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != demo.VendorName || !store.VerifyToken(c.SecretHash, creds.Vendor.ClientSecret) || !slices.Equal(c.RedirectURIs, []string{demo.VendorRedirectURI}) ||
		!slices.Equal(c.GrantTypes, []string{"authorization_code", "refresh_token"}) || !slices.Equal(c.ResponseTypes, []string{"code"}) ||
		!slices.Equal(c.Scopes, append([]string{"openid", "profile", "offline_access"}, store.DataScopes...)) || c.TokenEndpointAuthMethod != "client_secret_basic" {
		t.Errorf("client %+v", c)
	}
	if creds.Vendor.ClientID != c.ID || creds.Vendor.RedirectURI != demo.VendorRedirectURI {
		t.Errorf("vendor credentials %+v", creds.Vendor)
	}
}

func allAccounts(t *testing.T, st store.Store) []store.Account {
	t.Helper()
	var out []store.Account
	p := store.Page{Limit: 500}
	for {
		as, next, err := st.ListAccounts(t.Context(), store.AccountFilter{}, p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, as...)
		if next == "" {
			return out
		}
		p.After = next
	}
}

// listAll pages through ListTransactions.
func listAll(t *testing.T, st store.Store, f store.TransactionFilter) []store.Transaction {
	t.Helper()
	var out []store.Transaction
	var after *store.TxCursor
	for {
		txs, more, err := st.ListTransactions(t.Context(), f, after, 700)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, txs...)
		if !more {
			return out
		}
		last := txs[len(txs)-1]
		after = &store.TxCursor{BusinessDate: last.BusinessDate, ID: last.ID}
	}
}

// checkStatements holds every statement to its invariant: opening + Σ signed
// posted entries of the period = closing, with the counts and sums, through
// both SumPosted and ListTransactions.
func checkStatements(t *testing.T, st store.Store) {
	ctx := t.Context()
	n := 0
	for _, a := range allAccounts(t, st) {
		stmts, err := st.ListStatements(ctx, a.ID, "", "")
		if err != nil {
			t.Fatal(err)
		}
		if len(stmts) != 13 {
			t.Errorf("account %s: %d statements, want 13", a.ID, len(stmts))
		}
		for i, s := range stmts {
			n++
			count, debits, credits, err := st.SumPosted(ctx, a.ID, s.PeriodStart, s.PeriodEnd)
			if err != nil {
				t.Fatal(err)
			}
			if count != s.EntryCount || !debits.Equal(s.TotalDebits) || !credits.Equal(s.TotalCredits) || !s.Opening.Add(credits).Sub(debits).Equal(s.Closing) {
				t.Errorf("%s %s: statement %d entries %s/%s, %s→%s; SumPosted %d, %s/%s", a.ID, s.PeriodStart, s.EntryCount, s.TotalDebits, s.TotalCredits, s.Opening, s.Closing, count, debits, credits)
			}
			txs := listAll(t, st, store.TransactionFilter{AccountID: a.ID, From: s.PeriodStart, To: s.PeriodEnd, Statuses: []store.TransactionStatus{store.Posted}})
			bal := s.Opening
			for _, tx := range txs {
				bal = bal.Add(tx.SignedAmount())
				// Lists run in posting order, so running balances read top to bottom.
				if !tx.HasRunning || !tx.RunningBalance.Equal(bal) {
					t.Fatalf("%s %s: running balance %s, want %s", a.ID, tx.ID, tx.RunningBalance, bal)
				}
			}
			if len(txs) != s.EntryCount || !bal.Equal(s.Closing) {
				t.Errorf("%s %s: %d listed entries sum to %s, statement %d closing %s", a.ID, s.PeriodStart, len(txs), bal, s.EntryCount, s.Closing)
			}
			if i > 0 && !s.Opening.Equal(stmts[i-1].Closing) {
				t.Errorf("%s %s opens at %s, previous closed at %s", a.ID, s.PeriodStart, s.Opening, stmts[i-1].Closing)
			}
		}
	}
	if n < 13*12 {
		t.Errorf("only %d statements", n)
	}
}

func checkBalances(t *testing.T, st store.Store) {
	ctx := t.Context()
	today := store.BusinessDate(now)
	for _, a := range allAccounts(t, st) {
		b, err := st.GetBalance(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		d, err := st.GetDailyBalance(ctx, a.ID, today)
		if err != nil {
			t.Fatal(err)
		}
		if d.Closed || !d.ClosingLedger.Equal(b.Ledger) || !d.ClosingAvailable.Equal(b.Available) {
			t.Errorf("%s: today %+v, balance %+v", a.ID, d, b)
		}
		y, err := st.LatestDailyBalance(ctx, a.ID, today.AddDays(-1))
		if err != nil {
			t.Fatal(err)
		}
		if !y.Closed || !y.ClosingLedger.Equal(d.OpeningLedger) {
			t.Errorf("%s: yesterday %+v, today %+v", a.ID, y, d)
		}
		// Today's posted entries take the ledger from the opening to the balance.
		posted := listAll(t, st, store.TransactionFilter{AccountID: a.ID, From: today, To: today, Statuses: []store.TransactionStatus{store.Posted}})
		sum := d.OpeningLedger
		for _, tx := range posted {
			sum = sum.Add(tx.SignedAmount())
		}
		if !sum.Equal(b.Ledger) {
			t.Errorf("%s: opening %s + today's entries = %s, ledger %s", a.ID, d.OpeningLedger, sum, b.Ledger)
		}
	}
}

func checkPending(t *testing.T, st store.Store) {
	ctx := t.Context()
	var open, replaced, removed int
	for _, a := range allAccounts(t, st) {
		for _, tx := range listAll(t, st, store.TransactionFilter{AccountID: a.ID, IncludeRemoved: true}) {
			switch {
			case tx.Status == store.Posted && tx.PendingID != "":
				// A replaced pending entry leaves the lists; the posted one links to it.
				replaced++
				p, err := st.GetTransaction(ctx, tx.PendingID)
				if err != nil {
					t.Fatal(err)
				}
				if p.Status != store.Pending || p.ReplacedByID != tx.ID || !p.Amount.Equal(tx.Amount) || tx.BusinessDate <= p.BusinessDate {
					t.Errorf("pending %+v replaced by %+v", p, tx)
				}
			case tx.Status == store.Pending && !tx.RemovedAt.IsZero():
				removed++
			case tx.Status == store.Pending:
				open++
				if tx.ReplacedByID != "" || tx.BusinessDate < store.BusinessDate(now).AddDays(-1) {
					t.Errorf("%s still pending from %s (%+v)", tx.ID, tx.BusinessDate, tx)
				}
			}
		}
	}
	if open == 0 || replaced == 0 || removed == 0 {
		t.Errorf("pending entries: %d open, %d replaced, %d removed; want some of each", open, replaced, removed)
	}
}

// fingerprint lists every entry's ID, amount and direction, account by account.
func fingerprint(t *testing.T, st store.Store) []string {
	var out []string
	for _, a := range allAccounts(t, st) {
		for _, tx := range listAll(t, st, store.TransactionFilter{AccountID: a.ID}) {
			out = append(out, fmt.Sprintf("%s %s %s %s %s %s", a.ID, tx.ID, tx.BusinessDate, tx.Status, tx.Direction, tx.Amount.StringFixed(2)))
		}
	}
	return out
}

func TestSeedIsDeterministic(t *testing.T) {
	a, b, c := openSQLite(t), openSQLite(t), openSQLite(t)
	ca := seed(t, a, demo.Options{Seed: 42, Now: now})
	cb := seed(t, b, demo.Options{Seed: 42, Now: now})
	seed(t, c, demo.Options{Seed: 43, Now: now})
	fa, fb, fc := fingerprint(t, a), fingerprint(t, b), fingerprint(t, c)
	if len(fa) < 5000 {
		t.Fatalf("only %d entries", len(fa))
	}
	if !slices.Equal(fa, fb) {
		for i := range min(len(fa), len(fb)) {
			if fa[i] != fb[i] {
				t.Fatalf("same seed, different entries at %d: %s vs %s", i, fa[i], fb[i])
			}
		}
		t.Fatalf("same seed, %d vs %d entries", len(fa), len(fb))
	}
	if slices.Equal(fa, fc) {
		t.Error("different seeds, same entries")
	}
	if ca.BusinessGroups[0].ID != cb.BusinessGroups[0].ID || ca.BusinessGroups[1].AccountGroup.ID != cb.BusinessGroups[1].AccountGroup.ID ||
		!slices.Equal(ca.BusinessGroups[0].AccountGroup.AccountIDs, cb.BusinessGroups[0].AccountGroup.AccountIDs) {
		t.Error("same seed, different organisation IDs")
	}
	if ca.Vendor.ClientSecret == cb.Vendor.ClientSecret || ca.BusinessGroups[0].Administrator.Password == cb.BusinessGroups[0].Administrator.Password {
		t.Error("secrets repeat across seeds")
	}
}

// TestSeedIsAllOrNothing makes the last write of the small demo fail (the
// vendor client exists already) and expects nothing of it to remain.
func TestSeedIsAllOrNothing(t *testing.T) {
	st := openSQLite(t)
	if _, err := st.CreateClient(t.Context(), store.Client{ID: demo.VendorClientID, Name: "squatter", RedirectURIs: []string{"http://127.0.0.1:1/cb"},
		GrantTypes: []string{"authorization_code"}, ResponseTypes: []string{"code"}, TokenEndpointAuthMethod: "client_secret_basic", SecretHash: store.HashToken("x")}); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Seed(t.Context(), st, demo.Options{Now: now}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("seed over an existing client: %v, want ErrConflict", err)
	}
	if gs, err := st.ListBusinessGroups(t.Context()); err != nil || len(gs) != 0 {
		t.Fatalf("business groups left behind: %v (%v)", gs, err)
	}
	if u, err := st.GetUserByLogin(t.Context(), "maple.admin"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("user left behind: %+v (%v)", u, err)
	}
}

// TestScaleMode runs the scale path small: several batches, accounts spread
// over both groups, progress shown.
func TestScaleMode(t *testing.T) {
	st := openSQLite(t)
	var progress bytes.Buffer
	creds := seed(t, st, demo.Options{Seed: 5, Now: now, Accounts: 14, TransactionsPerAccount: 900, Progress: &progress})
	accounts := allAccounts(t, st)
	if len(accounts) != 14 {
		t.Fatalf("%d accounts", len(accounts))
	}
	total := 0
	for _, g := range creds.BusinessGroups {
		if g.AccountCount == 0 || len(g.AccountGroup.AccountIDs) == 0 || len(g.AccountGroup.AccountIDs) >= g.AccountCount {
			t.Errorf("%s: account group of %d for %d accounts", g.Name, len(g.AccountGroup.AccountIDs), g.AccountCount)
		}
	}
	for _, a := range accounts {
		txs := listAll(t, st, store.TransactionFilter{AccountID: a.ID, IncludeRemoved: true})
		n := len(txs)
		for _, tx := range txs {
			if tx.PendingID != "" {
				n++ // the replaced pending entry, no longer listed
			}
		}
		if n < 800 || n > 1100 {
			t.Errorf("account %s: %d entries, want about 900", a.ID, n)
		}
		total += n
	}
	if !strings.Contains(progress.String(), "accounts 14/14") || !strings.Contains(progress.String(), fmt.Sprintf("%d entries", total)) {
		t.Errorf("progress %q, total %d", progress.String(), total)
	}
	checkStatements(t, st)
}

// checkFDXData is issue 13 §1–§2: every loan, line of credit and card
// carries its interest rate as account data — the rate its interest
// entries' memo names — and every legal entity has a contact to answer
// FDX AccountContact.
func checkFDXData(t *testing.T, st store.Store, creds demo.Credentials) {
	ctx := t.Context()
	for _, g := range creds.BusinessGroups {
		accounts, _, err := st.ListAccounts(ctx, store.AccountFilter{BusinessGroupID: &g.ID}, store.Page{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range accounts {
			switch a.Type {
			case store.AccountLoan, store.AccountLineOfCredit, store.AccountCreditCard:
				if !a.HasInterestRate() || !a.InterestRate.IsPositive() {
					t.Errorf("%s %s: no interest rate (%s %q)", a.Type, a.ID, a.InterestRate, a.InterestRateType)
				}
			}
			if !a.HasInterestRate() {
				continue
			}
			memo := a.InterestRate.StringFixed(2) + "% p.a."
			err := st.StreamTransactions(ctx, store.TransactionFilter{AccountID: a.ID, Statuses: []store.TransactionStatus{store.Posted}}, func(tx store.Transaction) error {
				if strings.HasPrefix(tx.Description, "Interest ") && tx.Memo != memo {
					return fmt.Errorf("%s: interest entry %s memo %q, account rate %s", a.ID, tx.ID, tx.Memo, memo)
				}
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		}
		entities, err := st.ListLegalEntities(ctx, g.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entities {
			c := e.Contact
			if c.AddressLine1 == "" || c.City == "" || c.Country != "CA" || !strings.Contains(c.Email, "@") || !strings.HasPrefix(c.Phone, "+1") {
				t.Errorf("entity %s contact %+v", e.Name, c)
			}
			// The bank writes to Québec's entities in French (their PDF statements).
			if want := map[bool]string{true: "fr", false: "en"}[c.Region == "QC"]; c.Language != want {
				t.Errorf("entity %s (%s) language %q, want %q", e.Name, c.Region, c.Language, want)
			}
		}
	}
}

package demo

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/store"
)

// fixedNow is a Wednesday afternoon in Toronto.
var fixedNow = time.Date(2026, time.March, 11, 15, 30, 0, 0, store.Toronto())

type generated struct {
	plan *accountPlan
	txs  []store.Transaction
	res  accountResult
}

func generateAll(t *testing.T, seed int64, specs []groupSpec, now time.Time, target int) []generated {
	t.Helper()
	cal := newCalendar(now)
	var out []generated
	for _, gp := range buildPlans(seed, specs, cal, target) {
		for _, ap := range gp.accounts {
			g := generated{plan: ap}
			res, err := generateAccount(seed, *ap, cal, func(tx store.Transaction) error {
				g.txs = append(g.txs, tx)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			g.res = res
			out = append(out, g)
		}
	}
	return out
}

func TestCalendar(t *testing.T) {
	cal := newCalendar(fixedNow)
	if cal.start != "2025-02-01" || cal.today != "2026-03-11" {
		t.Fatalf("window %s..%s, want 2025-02-01..2026-03-11", cal.start, cal.today)
	}
	for _, d := range cal.days {
		if !isWeekday(d) {
			t.Errorf("%s is not a weekday", d)
		}
	}
	if cal.days[len(cal.days)-1] != cal.today {
		t.Errorf("last business date %s, want today", cal.days[len(cal.days)-1])
	}
	// Saturday: the window ends on Friday.
	sat := newCalendar(time.Date(2026, time.March, 14, 12, 0, 0, 0, store.Toronto()))
	if got := sat.days[len(sat.days)-1]; got != "2026-03-13" {
		t.Errorf("Saturday's last business date %s, want 2026-03-13", got)
	}
	// 23:30 in Toronto is already the next day in UTC; the business date is Toronto's.
	late := newCalendar(time.Date(2026, time.March, 10, 23, 30, 0, 0, store.Toronto()))
	if late.today != "2026-03-10" {
		t.Errorf("today %s, want 2026-03-10", late.today)
	}
	for d, want := range map[store.Date]bool{"2026-01-30": true, "2026-01-29": false, "2026-02-27": true, "2025-08-29": true, "2025-08-28": false} {
		if got := lastBusinessDayOfMonth(d); got != want {
			t.Errorf("lastBusinessDayOfMonth(%s) = %v", d, got)
		}
	}
	for d, want := range map[store.Date]bool{"2026-03-16": true, "2026-03-13": false, "2025-11-17": true, "2025-11-15": false, "2025-10-15": true} {
		if got := firstBusinessDayOnOrAfter(d, 15); got != want {
			t.Errorf("firstBusinessDayOnOrAfter(%s, 15) = %v", d, got)
		}
	}
}

func TestTxnIDsSortInOrdinalOrder(t *testing.T) {
	g := ids{stream(1, "t", 0)}
	prev := ""
	for _, n := range []int{0, 1, 2, 31, 32, 33, 1000, 32767, 32768, 1<<20 - 1} {
		id := g.txnID(n)
		if len(id) != len("txn_")+20 {
			t.Fatalf("%q has length %d", id, len(id))
		}
		if id[:8] <= prev {
			t.Errorf("ordinal %d: %q does not sort after %q", n, id[:8], prev)
		}
		prev = id[:8]
	}
}

// TestGeneratedLedgers checks every account of the small demo without a
// database: records validate, balances chain, statements reconcile, codes
// fit directions, pending entries sit where they should.
func TestGeneratedLedgers(t *testing.T) {
	cal := newCalendar(fixedNow)
	all := generateAll(t, 1, smallDemo, fixedNow, 0)
	if len(all) != 16 {
		t.Fatalf("%d accounts, want 16", len(all))
	}
	kinds := map[string]int{}
	seen := map[string]bool{}
	total, pendingNow, replaced, removed := 0, 0, 0, 0
	for _, g := range all {
		a := g.plan.account
		t.Run(a.Nickname+"_"+a.DisplayNumber, func(t *testing.T) {
			byID := map[string]store.Transaction{}
			bal := g.plan.opening
			lastDate := store.Date("")
			ext := map[string]bool{}
			for _, tx := range g.txs {
				if err := tx.Validate(); err != nil {
					t.Fatalf("%s: %v", tx.ID, err)
				}
				if seen[tx.ID] {
					t.Fatalf("duplicate ID %s", tx.ID)
				}
				seen[tx.ID] = true
				if ext[tx.ExternalID] {
					t.Fatalf("duplicate external ID %s", tx.ExternalID)
				}
				ext[tx.ExternalID] = true
				byID[tx.ID] = tx
				if tx.BusinessDate < lastDate {
					t.Fatalf("%s: business date %s before %s (stream must be in date order)", tx.ID, tx.BusinessDate, lastDate)
				}
				lastDate = tx.BusinessDate
				if !isWeekday(tx.BusinessDate) || tx.BusinessDate < cal.start || tx.BusinessDate > cal.today {
					t.Fatalf("%s: business date %s outside the weekdays of the window", tx.ID, tx.BusinessDate)
				}
				if tx.Amount.Exponent() != -2 || !tx.Amount.IsPositive() {
					t.Fatalf("%s: amount %s", tx.ID, tx.Amount)
				}
				if tx.TransactionAt.After(fixedNow) || (!tx.PostedAt.IsZero() && tx.PostedAt.After(fixedNow)) {
					t.Fatalf("%s: in the future", tx.ID)
				}
				bai, _ := strconv.Atoi(tx.Code.BAI)
				if (tx.Direction == store.Credit) != (bai >= 100 && bai < 400) || bai >= 700 {
					t.Fatalf("%s: BAI %s does not fit a %s", tx.ID, tx.Code.BAI, tx.Direction)
				}
				if tx.Code.Domain == "" || tx.Code.Family == "" || tx.Code.SubFamily == "" || tx.Description == "" || tx.BankReference == "" {
					t.Fatalf("%s: missing code, description or reference: %+v", tx.ID, tx)
				}
				if tx.Code.BAI == "475" && tx.CheckNumber == "" {
					t.Fatalf("%s: cheque without number", tx.ID)
				}
				switch tx.Status {
				case store.Posted:
					if store.BusinessDate(tx.PostedAt) != tx.BusinessDate {
						t.Fatalf("%s: posted %s but business date %s", tx.ID, tx.PostedAt, tx.BusinessDate)
					}
					bal += store.Cents(tx.SignedAmount())
					if !tx.HasRunning || store.Cents(tx.RunningBalance) != bal {
						t.Fatalf("%s: running balance %s, want %s", tx.ID, tx.RunningBalance, money(bal))
					}
					if tx.PendingID != "" {
						p, ok := byID[tx.PendingID]
						if !ok || p.Status != store.Pending || !p.Amount.Equal(tx.Amount) {
							t.Fatalf("%s replaces %s, which was not emitted before it as a pending entry of the same amount", tx.ID, tx.PendingID)
						}
					}
				case store.Pending:
					if tx.HasRunning || !tx.PostedAt.IsZero() || store.BusinessDate(tx.TransactionAt) != tx.BusinessDate {
						t.Fatalf("%s: malformed pending entry %+v", tx.ID, tx)
					}
				}
				kinds[tx.Code.BAI+" "+tx.Code.Domain+"/"+tx.Code.Family+"/"+tx.Code.SubFamily]++
			}
			if got := store.Cents(g.res.balance.Ledger); got != bal {
				t.Errorf("ledger balance %d, want %d", got, bal)
			}
			// Pending entries still pending at Now are in the last two business days.
			replacedIDs := map[string]bool{}
			for _, p := range g.res.replaces {
				replacedIDs[p[0]] = true
				replaced++
			}
			for _, r := range g.res.removes {
				replacedIDs[r.pendingID] = true
				removed++
			}
			for _, tx := range g.txs {
				if tx.Status == store.Pending && !replacedIDs[tx.ID] {
					pendingNow++
					if tx.BusinessDate < cal.days[len(cal.days)-2] {
						t.Errorf("%s still pending from %s", tx.ID, tx.BusinessDate)
					}
				}
			}
			// Daily balances chain and cover every business date.
			if len(g.res.daily) != len(cal.days) {
				t.Fatalf("%d daily balances, want %d", len(g.res.daily), len(cal.days))
			}
			for i, d := range g.res.daily {
				if d.BusinessDate != cal.days[i] || d.Closed != (d.BusinessDate != cal.today) {
					t.Fatalf("daily %d: %+v", i, d)
				}
				if i > 0 {
					p := g.res.daily[i-1]
					if !d.OpeningLedger.Equal(p.ClosingLedger) || !d.OpeningAvailable.Equal(p.ClosingAvailable) {
						t.Fatalf("%s opens at %s/%s, previous day closed at %s/%s", d.BusinessDate, d.OpeningLedger, d.OpeningAvailable, p.ClosingLedger, p.ClosingAvailable)
					}
				}
			}
			if last := g.res.daily[len(g.res.daily)-1]; !last.ClosingLedger.Equal(g.res.balance.Ledger) || !last.ClosingAvailable.Equal(g.res.balance.Available) {
				t.Errorf("today's closing %s/%s differs from the balance %s/%s", last.ClosingLedger, last.ClosingAvailable, g.res.balance.Ledger, g.res.balance.Available)
			}
			// Statements: 13 complete months that reconcile with the entries.
			if len(g.res.statements) != historyMonths {
				t.Fatalf("%d statements, want %d", len(g.res.statements), historyMonths)
			}
			for i, s := range g.res.statements {
				var count int
				var debits, credits int64
				for _, tx := range g.txs {
					if tx.Status == store.Posted && tx.BusinessDate >= s.PeriodStart && tx.BusinessDate <= s.PeriodEnd {
						count++
						if tx.Direction == store.Debit {
							debits += store.Cents(tx.Amount)
						} else {
							credits += store.Cents(tx.Amount)
						}
					}
				}
				if !s.Reconciles() || count != s.EntryCount || debits != store.Cents(s.TotalDebits) || credits != store.Cents(s.TotalCredits) {
					t.Errorf("statement %s: %+v; entries: %d, debits %d, credits %d", s.PeriodStart, s, count, debits, credits)
				}
				if i > 0 && !s.Opening.Equal(g.res.statements[i-1].Closing) {
					t.Errorf("statement %s opens at %s, previous closed at %s", s.PeriodStart, s.Opening, g.res.statements[i-1].Closing)
				}
				if s.PeriodStart != s.PeriodStart.MonthStart() || s.PeriodEnd != s.PeriodStart.MonthEnd() || s.PeriodEnd >= cal.today {
					t.Errorf("statement period %s..%s", s.PeriodStart, s.PeriodEnd)
				}
			}
			total += len(g.txs)
		})
	}
	t.Logf("%d entries; %d pending at Now, %d replaced, %d removed; codes: %v", total, pendingNow, replaced, removed, kinds)
	if pendingNow == 0 || replaced == 0 || removed == 0 {
		t.Errorf("want pending, replaced and removed entries: %d, %d, %d", pendingNow, replaced, removed)
	}
	for _, want := range []string{"466 PMNT/ICDT/SALA", "475 PMNT/ICHQ/CCHQ", "495 PMNT/ICDT/PRCT", "195 PMNT/RCDT/XBCT", "698 ACMT/MDOP/CHRG",
		"354 ACMT/MCOP/INTR", "654 ACMT/MDOP/INTR", "142 PMNT/RCDT/DMCT", "169 PMNT/RCDT/DMCT", "455 PMNT/RDDT/PMDD", "699 PMNT/CCRD/POSD"} {
		if kinds[want] == 0 {
			t.Errorf("no entry with code %s", want)
		}
	}
}

func TestPayrollMatchesFunding(t *testing.T) {
	all := generateAll(t, 7, smallDemo, fixedNow, 0)
	var funding, paid []string
	for _, g := range all {
		if g.plan.account.Nickname != "Operating" && g.plan.account.Nickname != "Payroll" {
			continue
		}
		for _, tx := range g.txs {
			switch {
			case tx.Code.BAI == "506" && tx.CustomerReference != "" && tx.CustomerReference[:2] == "PR":
				funding = append(funding, fmt.Sprint(tx.BusinessDate, tx.Amount))
			case tx.Code.BAI == "206" && tx.CustomerReference != "" && tx.CustomerReference[:2] == "PR":
				paid = append(paid, fmt.Sprint(tx.BusinessDate, tx.Amount))
			}
		}
	}
	if len(funding) < 25 || fmt.Sprint(funding) != fmt.Sprint(paid) {
		t.Errorf("payroll funding out of the operating account %v\ndoes not match funding into the payroll account %v", funding, paid)
	}
}

func TestDeterministic(t *testing.T) {
	digest := func(seed int64) string {
		var s []string
		for _, g := range generateAll(t, seed, smallDemo, fixedNow, 0) {
			for _, tx := range g.txs {
				s = append(s, tx.ID+tx.Amount.String()+tx.Description)
			}
		}
		return fmt.Sprint(len(s), s)
	}
	a, b, c := digest(3), digest(3), digest(4)
	if a != b {
		t.Error("same seed, different entries")
	}
	if a == c {
		t.Error("different seeds, same entries")
	}
}

func TestTargetMode(t *testing.T) {
	all := generateAll(t, 1, scaleSpec(10), fixedNow, 2000)
	if len(all) != 10 {
		t.Fatalf("%d accounts", len(all))
	}
	for _, g := range all {
		n := len(g.txs)
		if n < 1800 || n > 2300 {
			t.Errorf("account %s (%s): %d entries, want about 2000", g.plan.account.Nickname, g.plan.account.Type, n)
		}
		for _, s := range g.res.statements {
			if !s.Reconciles() {
				t.Errorf("statement does not reconcile: %+v", s)
			}
		}
	}
}

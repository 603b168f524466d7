package demo

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/shopspring/decimal"

	"github.com/bankfeed/bankfeed/store"
)

// profile is what an account is used for; it decides the mix of entries.
type profile int

const (
	profOperating profile = iota
	profPayroll
	profSavings
	profLineOfCredit
	profLoan
	profCreditCard
)

// accountPlan is everything the generator needs to know about one account.
// Amounts are integer cents throughout; Money is built only at the end.
type accountPlan struct {
	stream   int // RNG stream (the account's global index)
	account  store.Account
	profile  profile
	opening  int64 // ledger balance at the start of the window (negative: owed)
	limit    int64 // credit limit of a line of credit or card
	rateBps  int64 // yearly interest rate in basis points
	payment  int64 // loan: monthly payment
	scalePct int64 // amount scale (100: the reference business)
	target   int   // entries wanted over the window; 0: the profile's natural rate
	payroll  *payrollPlan
	sibling  string // masked number of the account transfers go to or come from
	parties  *parties
}

// payrollPlan ties an entity's payroll: the operating account funds (or pays)
// it and the payroll account pays it, with amounts both derive from the seed.
type payrollPlan struct {
	seed      int64
	entity    int
	base      int64 // cents per pay run
	employees int
	direct    bool   // the operating account pays payroll itself
	other     string // masked number of the other account of the pair
}

// amount of pay run n (±4 % around base), the same for both accounts.
func (pp *payrollPlan) amount(n int) int64 {
	r := stream(pp.seed, "payroll", pp.entity*10000+n)
	return pp.base*between(r, 96, 104)/100 + r.Int64N(100)
}

// payRun reports whether d is a bi-weekly payroll Friday of the window and
// which run it is.
func payRun(cal calendar, d store.Date) (int, bool) {
	if weekday(d) != time.Friday {
		return 0, false
	}
	first := cal.start
	for weekday(first) != time.Friday {
		first = first.AddDays(1)
	}
	a, _ := time.Parse(time.DateOnly, string(first))
	b, _ := time.Parse(time.DateOnly, string(d))
	weeks := int(b.Sub(a).Hours()/24) / 7
	return weeks / 2, weeks%2 == 0
}

type fate int

const (
	fatePosted   fate = iota
	fatePending       // still pending at Now
	fateReplaced      // pending today, posts the next business day (ReplacePending)
	fateRemoved       // pending today, dropped the next business day (RemovePending)
)

// event is one entry before it gets an ID and a balance.
type event struct {
	k            *kind
	cents        int64
	minute       int // minutes after midnight (Toronto) of the business date
	desc, memo   string
	payee, party string
	custRef      string
	cheque       string
	valueLag     int // business days between business date and value date
	fate         fate

	// set on the posting of a replaced pending entry, or a removal
	pendingID string
	txAt      time.Time
	removal   bool
}

type removal struct {
	pendingID string
	at        time.Time
}

// accountResult is what remains to write once an account's entries are
// stored.
type accountResult struct {
	daily      []store.DailyBalance
	statements []store.Statement
	balance    store.Balance
	replaces   [][2]string // pending ID, posted ID
	removes    []removal
	entries    int
}

type gen struct {
	p    accountPlan
	cal  calendar
	r    *rand.Rand
	ids  ids
	emit func(store.Transaction) error

	bal, pendingDebits int64
	seq, chequeNo      int
	debt               int
	carry              []event
	removedOne         bool
	res                accountResult

	month                  store.Date
	mOpen, mDebit, mCredit int64
	mCount                 int
	prevCloseAvail         int64
	floor, ceil            int64
}

func money(cents int64) store.Money { return decimal.New(cents, -2) }

// generateAccount produces the account's entries in stream order (a pending
// entry always before the posting that replaces it) through emit, and
// returns its daily balances, statements and current balance.
func generateAccount(seed int64, p accountPlan, cal calendar, emit func(store.Transaction) error) (accountResult, error) {
	r := stream(seed, "account", p.stream)
	g := &gen{p: p, cal: cal, r: r, ids: ids{r}, emit: emit, bal: p.opening, chequeNo: int(between(r, 1200, 4800))}
	g.prevCloseAvail = g.bal + p.limit
	switch p.profile {
	case profOperating:
		g.floor, g.ceil = 60_000_00*p.scalePct/100, 1_800_000_00*p.scalePct/100
		if p.account.Currency != "CAD" {
			g.ceil = 700_000_00 * p.scalePct / 100
		}
	case profPayroll:
		g.floor, g.ceil = 5_000_00, 400_000_00*p.scalePct/100
	case profSavings:
		g.floor, g.ceil = 100_000_00*p.scalePct/100, 3_000_000_00*p.scalePct/100
	case profLineOfCredit:
		g.floor, g.ceil = -p.limit*85/100, -p.limit*5/100
	case profCreditCard:
		g.floor, g.ceil = -p.limit*90/100, 0
	case profLoan:
		g.floor, g.ceil = -p.limit, 0
	}
	for i, d := range cal.days {
		if err := g.day(i, d); err != nil {
			return accountResult{}, err
		}
	}
	if g.month != "" && g.month.MonthEnd() < cal.today {
		g.closeMonth()
	}
	g.res.balance = store.Balance{AccountID: p.account.ID, AsOf: cal.now, Ledger: money(g.bal), Available: money(g.available())}
	return g.res, nil
}

func (g *gen) available() int64 { return g.bal + g.p.limit - g.pendingDebits }

func (g *gen) closeMonth() {
	end := g.month.MonthEnd()
	g.res.statements = append(g.res.statements, store.Statement{
		ID:            g.ids.newID("stm"),
		AccountID:     g.p.account.ID,
		PeriodStart:   g.month,
		PeriodEnd:     end,
		StatementDate: end.AddDays(1),
		Opening:       money(g.mOpen),
		Closing:       money(g.bal),
		EntryCount:    g.mCount,
		TotalDebits:   money(g.mDebit),
		TotalCredits:  money(g.mCredit),
		Status:        "AVAILABLE",
		CreatedAt:     g.cal.at(end.AddDays(1), 6*60),
	})
}

func (g *gen) day(i int, d store.Date) error {
	if m := d.MonthStart(); m != g.month {
		if g.month != "" {
			g.closeMonth()
		}
		g.month, g.mOpen, g.mDebit, g.mCredit, g.mCount = m, g.bal, 0, 0, 0
	}
	last := len(g.cal.days) - 1
	isToday := d == g.cal.today
	openLedger, openAvail := g.bal, g.prevCloseAvail

	items := g.carry
	g.carry = nil
	fresh := g.scheduled(d)
	n := g.randomCount(i, len(fresh))
	proj := g.bal
	for _, ev := range fresh {
		proj += signed(ev.k.dir, ev.cents)
	}
	for added := 0; added < n; {
		evs := g.random(d, proj)
		for _, ev := range evs {
			proj += signed(ev.k.dir, ev.cents)
		}
		fresh = append(fresh, evs...)
		added += len(evs)
	}
	for j := range fresh {
		ev := &fresh[j]
		if !ev.k.pendingOK {
			continue
		}
		switch {
		case i >= last-1 && g.r.IntN(3) == 0:
			ev.fate = fatePending
		case i >= last-11 && i <= last-3 && g.p.profile == profCreditCard && !g.removedOne && ev.k == kCardPurchase:
			ev.fate, g.removedOne = fateRemoved, true
			ev.desc = "Pre-authorization — " + ev.payee
		case i >= last-11 && i <= last-3 && g.r.IntN(5) == 0:
			ev.fate = fateReplaced
		}
	}
	if isToday {
		fresh = slices.DeleteFunc(fresh, func(ev event) bool { return g.cal.at(d, ev.minute).After(g.cal.now) })
	}
	items = append(items, fresh...)
	slices.SortStableFunc(items, func(a, b event) int { return a.minute - b.minute })

	ordinal := 0
	for _, ev := range items {
		if ev.removal {
			g.res.removes = append(g.res.removes, removal{pendingID: ev.pendingID, at: g.cal.at(d, ev.minute)})
			g.pendingDebits -= ev.cents
			continue
		}
		tx := g.tx(d, ordinal, ev)
		ordinal++
		switch ev.fate {
		case fatePosted:
			if ev.pendingID != "" {
				tx.PendingID = ev.pendingID
				g.res.replaces = append(g.res.replaces, [2]string{ev.pendingID, tx.ID})
				if ev.k.dir == store.Debit {
					g.pendingDebits -= ev.cents
				}
			}
			g.bal += signed(ev.k.dir, ev.cents)
			tx.RunningBalance, tx.HasRunning = money(g.bal), true
			g.mCount++
			if ev.k.dir == store.Debit {
				g.mDebit += ev.cents
			} else {
				g.mCredit += ev.cents
			}
		default:
			tx.Status, tx.PostedAt = store.Pending, time.Time{}
			if ev.k.dir == store.Debit {
				g.pendingDebits += ev.cents
			}
			next := ev
			next.pendingID, next.txAt = tx.ID, tx.TransactionAt
			next.minute = int(between(g.r, 90, 330)) // overnight posting run
			switch ev.fate {
			case fateReplaced:
				next.fate = fatePosted
				g.carry = append(g.carry, next)
			case fateRemoved:
				next.removal = true
				if ev.k.dir != store.Debit {
					next.cents = 0
				}
				g.carry = append(g.carry, next)
			}
		}
		if err := g.emit(tx); err != nil {
			return err
		}
		g.res.entries++
	}
	closeAvail := g.available()
	g.res.daily = append(g.res.daily, store.DailyBalance{
		AccountID:        g.p.account.ID,
		BusinessDate:     d,
		OpeningLedger:    money(openLedger),
		ClosingLedger:    money(g.bal),
		OpeningAvailable: money(openAvail),
		ClosingAvailable: money(closeAvail),
		Closed:           !isToday,
		UpdatedAt:        g.cal.at(d.AddDays(1), 60),
	})
	g.prevCloseAvail = closeAvail
	return nil
}

func signed(d store.Direction, c int64) int64 {
	if d == store.Debit {
		return -c
	}
	return c
}

// tx turns an event into a record (posted unless the caller changes it).
func (g *gen) tx(d store.Date, ordinal int, ev event) store.Transaction {
	g.seq++
	txAt := g.cal.at(d, ev.minute)
	posted := txAt
	if !ev.txAt.IsZero() {
		txAt = ev.txAt
	} else if ev.minute > 10 {
		txAt = posted.Add(-time.Duration(g.r.IntN(10)) * time.Minute)
	}
	value := d
	for lag := ev.valueLag; lag > 0; {
		value = value.AddDays(1)
		if isWeekday(value) {
			lag--
		}
	}
	return store.Transaction{
		ID:                g.ids.txnID(ordinal),
		AccountID:         g.p.account.ID,
		ExternalID:        fmt.Sprintf("C%05d-%08d", g.p.stream, g.seq),
		Status:            store.Posted,
		TransactionAt:     txAt,
		PostedAt:          posted,
		BusinessDate:      d,
		ValueDate:         value,
		Amount:            money(ev.cents),
		Direction:         ev.k.dir,
		Description:       ev.desc,
		Memo:              ev.memo,
		Payee:             ev.payee,
		Counterparty:      ev.party,
		CheckNumber:       ev.cheque,
		BankReference:     fmt.Sprintf("%s%s%07d", refPrefix(ev.k), string(d[2:4])+string(d[5:7])+string(d[8:10]), g.seq%10_000_000),
		CustomerReference: ev.custRef,
		Code:              ev.k.code,
		CreatedAt:         posted,
		UpdatedAt:         posted,
	}
}

func refPrefix(k *kind) string {
	switch k {
	case kWireIn, kWireInIntl, kWireOut, kWireOutIntl:
		return "FT"
	case kChequePaid, kChequeDeposit:
		return "CQ"
	case kInteracIn, kInteracOut:
		return "ET"
	case kCardPurchase:
		return "CD"
	case kFee, kInterestCredit, kInterestDebit:
		return "SC"
	}
	return "EF"
}

// randomCount is how many random entries the day gets: the profile's
// natural rate, or in target mode the day's share of the target less what
// is scheduled (carrying any excess over to the next days).
func (g *gen) randomCount(i, scheduled int) int {
	if g.p.target > 0 {
		total := int64(g.p.target)
		days := int64(len(g.cal.days))
		want := int(total*int64(i+1)/days - total*int64(i)/days)
		n := want - scheduled - g.debt
		if n < 0 {
			g.debt = -n
			return 0
		}
		g.debt = 0
		return n
	}
	var rate int64 // hundredths of an entry per business day
	switch g.p.profile {
	case profOperating:
		rate = 550
		if g.p.account.Currency != "CAD" {
			rate = 220
		}
	case profPayroll:
		rate = 20
	case profSavings:
		rate = 8
	case profLineOfCredit:
		rate = 12
	case profCreditCard:
		rate = 260
	}
	n := int(rate / 100)
	if g.r.Int64N(100) < rate%100 {
		n++
	}
	if n > 1 {
		n += g.r.IntN(3) - 1
	}
	return n
}

func (g *gen) mix() []weighted {
	switch g.p.profile {
	case profOperating:
		if g.p.account.Currency != "CAD" {
			return []weighted{{kSupplierEFT, 12}, {kCustomerEFT, 20}, {kWireInIntl, 6}, {kWireOutIntl, 5}, {kChequePaid, 3}, {kChequeDeposit, 3}}
		}
		return []weighted{{kSupplierEFT, 18}, {kPAD, 6}, {kCustomerEFT, 22}, {kChequeDeposit, 8}, {kChequePaid, 10},
			{kInteracIn, 6}, {kInteracOut, 7}, {kWireIn, 3}, {kWireOut, 3}}
	case profPayroll:
		return []weighted{{kInteracOut, 1}}
	case profSavings, profLineOfCredit, profLoan:
		return []weighted{{kTransferIn, 1}, {kTransferOut, 1}}
	case profCreditCard:
		return []weighted{{kCardPurchase, 1}}
	}
	return nil
}

// choose picks a kind from the mix, steering the balance back between the
// profile's floor and ceiling.
func (g *gen) choose(proj int64) *kind {
	var want store.Direction
	switch {
	case proj < g.floor:
		want = store.Credit
	case proj > g.ceil:
		want = store.Debit
	}
	total := 0
	var cands []weighted
	for _, w := range g.mix() {
		if want == "" || w.k.dir == want {
			cands = append(cands, w)
			total += w.w
		}
	}
	if total == 0 {
		if want == store.Credit {
			switch g.p.profile {
			case profOperating:
				return kCustomerEFT
			case profCreditCard:
				return kCardPayment
			default:
				return kTransferIn
			}
		}
		switch g.p.profile {
		case profOperating:
			return kSupplierEFT
		case profPayroll:
			return kInteracOut
		default:
			return kTransferOut
		}
	}
	n := g.r.IntN(total)
	for _, w := range cands {
		if n < w.w {
			return w.k
		}
		n -= w.w
	}
	return cands[len(cands)-1].k
}

// tiered draws cents from one of three ranges, the lower ones more often.
func (g *gen) tiered(a, b, c, d int64) int64 {
	switch x := g.r.IntN(9); {
	case x < 5:
		return between(g.r, a, b)
	case x < 8:
		return between(g.r, b, c)
	default:
		return between(g.r, c, d)
	}
}

func (g *gen) scaled(c int64) int64 { return max(c*g.p.scalePct/100, 1) }

func (g *gen) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + g.r.IntN(10))
	}
	return string(b)
}

func (g *gen) minuteOfDay() int { return int(between(g.r, 7*60, 19*60+30)) }

// random makes one random entry (two for a wire sent: the wire and its fee).
func (g *gen) random(d store.Date, proj int64) []event {
	k := g.choose(proj)
	pt := g.p.parties
	cad := g.p.account.Currency == "CAD"
	ev := event{k: k, minute: g.minuteOfDay()}
	switch k {
	case kSupplierEFT:
		ev.cents = g.scaled(g.tiered(250_00, 2_500_00, 12_000_00, 48_000_00))
		if cad {
			ev.payee = pick(g.r, pt.suppliers)
		} else {
			ev.payee = pick(g.r, pt.usSuppliers)
		}
		inv := g.digits(5)
		ev.party, ev.desc = ev.payee, "EFT payment — "+ev.payee
		ev.memo, ev.custRef = "Invoice "+inv, "INV-"+inv
	case kPAD:
		ev.cents = g.scaled(between(g.r, 180_00, 6_500_00))
		ev.payee = pick(g.r, pt.pads)
		ev.party, ev.desc = ev.payee, "Pre-authorized debit — "+ev.payee
		ev.memo, ev.custRef = "Customer no. "+g.digits(8), "PAD"+g.digits(9)
	case kCustomerEFT:
		ev.cents = g.scaled(g.tiered(1_200_00, 8_000_00, 30_000_00, 85_000_00))
		if cad {
			ev.party = pick(g.r, pt.customers)
		} else {
			ev.party = pick(g.r, pt.usCustomers)
		}
		inv := "AR-" + g.digits(5)
		ev.desc, ev.memo, ev.custRef = "EFT deposit — "+ev.party, "Payment of invoice "+inv, inv
	case kChequeDeposit:
		ev.cents = g.scaled(between(g.r, 300_00, 25_000_00))
		n := 1 + g.r.IntN(5)
		ev.party = pick(g.r, pt.customers)
		ev.desc = "Cheque deposit"
		if n == 1 {
			ev.memo = "1 cheque — " + ev.party
		} else {
			ev.memo = fmt.Sprintf("%d cheques — %s and others", n, ev.party)
		}
		ev.custRef, ev.valueLag = "DS"+g.digits(6), 1
	case kChequePaid:
		ev.cents = g.scaled(between(g.r, 150_00, 18_000_00))
		g.chequeNo += 1 + g.r.IntN(2)
		ev.cheque = fmt.Sprintf("%06d", g.chequeNo)
		ev.payee = pick(g.r, pt.suppliers)
		ev.party, ev.desc, ev.memo = ev.payee, "Cheque #"+ev.cheque, "Cheque to "+ev.payee
		ev.minute = int(between(g.r, 60, 5*60)) // cleared in the overnight run
	case kInteracIn:
		ev.cents = between(g.r, 50_00, 3_000_00)
		ev.party = pick(g.r, append(pt.people[:len(pt.people):len(pt.people)], pt.customers...))
		ev.desc, ev.memo, ev.custRef = "Interac e-Transfer from "+ev.party, "Payment", "CA"+g.alnum(6)
	case kInteracOut:
		ev.cents = between(g.r, 40_00, 2_500_00)
		ev.payee = pick(g.r, pt.people)
		ev.party, ev.desc, ev.memo, ev.custRef = ev.payee, "Interac e-Transfer to "+ev.payee, "Expense reimbursement", "CA"+g.alnum(6)
	case kWireIn, kWireInIntl:
		ev.cents = g.scaled(between(g.r, 10_000, 250_000)) * 100
		if k == kWireIn {
			ev.party = pick(g.r, append(pt.wireDomestic[:len(pt.wireDomestic):len(pt.wireDomestic)], pt.customers...))
			ev.desc, ev.memo = "Incoming wire — "+ev.party, "Remittance: invoice AR-"+g.digits(5)
		} else {
			j := g.r.IntN(len(pt.wireForeign))
			ev.party = pt.wireForeign[j]
			ev.desc, ev.memo = "Incoming international wire — "+ev.party, "Ordering bank "+pt.foreignBanks[j]+"; invoice AR-"+g.digits(5)
		}
		ev.custRef = "PO-" + g.digits(6)
	case kWireOut, kWireOutIntl:
		ev.cents = g.scaled(between(g.r, 5_000, 180_000)) * 100
		fee := event{k: kFee, minute: ev.minute + 1, desc: "Outgoing wire fee", cents: 25_00}
		if k == kWireOut {
			ev.payee = pick(g.r, pt.wireDomestic)
			ev.desc, ev.memo = "Outgoing wire — "+ev.payee, "Lynx payment; PO "+g.digits(6)
		} else {
			j := g.r.IntN(len(pt.wireForeign))
			ev.payee = pt.wireForeign[j]
			ev.desc, ev.memo = "Outgoing international wire — "+ev.payee, "Beneficiary bank "+pt.foreignBanks[j]+"; PO "+g.digits(6)
			fee.cents, fee.desc = 45_00, "International wire fee"
		}
		ev.party, ev.custRef = ev.payee, "PO-"+g.digits(6)
		fee.memo = "Wire " + ev.custRef
		return []event{ev, fee}
	case kCardPurchase:
		ev.cents = g.tiered(8_00, 150_00, 900_00, 2_400_00)
		ev.payee = pick(g.r, pt.merchants)
		ev.party, ev.desc, ev.custRef = ev.payee, "Visa purchase — "+ev.payee, "AUTH"+g.digits(6)
	case kCardPayment:
		ev.cents = max(-proj, 100_00)
		ev.party, ev.desc, ev.memo = g.p.sibling, "Payment received — thank you", "From account "+g.p.sibling
	case kTransferIn, kTransferOut:
		ev.cents = g.scaled(between(g.r, 5_000, 120_000)) * 100
		switch g.p.profile {
		case profLineOfCredit:
			if k == kTransferOut {
				ev.desc = "Drawdown to account " + g.p.sibling
			} else {
				ev.desc = "Repayment from account " + g.p.sibling
			}
		case profPayroll:
			ev.desc = "Transfer from account " + g.p.sibling
		default:
			if k == kTransferOut {
				ev.desc = "Transfer to account " + g.p.sibling
			} else {
				ev.desc = "Transfer from account " + g.p.sibling
			}
		}
		if g.p.profile == profLineOfCredit {
			if k == kTransferIn { // repay at most what is owed
				ev.cents = min(ev.cents, max(-proj, 1_000_00))
			} else { // draw at most what the limit leaves
				ev.cents = max(min(ev.cents, (g.p.limit+proj)*98/100), 1_000_00)
			}
		}
		ev.party, ev.memo = g.p.sibling, "Online banking transfer"
		ev.minute = int(between(g.r, 8*60, 17*60))
	}
	return []event{ev}
}

func (g *gen) alnum(n int) string {
	const a = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = a[g.r.IntN(len(a))]
	}
	return string(b)
}

func pct(bps int64) string { return fmt.Sprintf("%d.%02d%% p.a.", bps/100, bps%100) }

// scheduled are the day's recurring entries: payroll, remittances, month-end
// fees and interest, loan and card payments.
func (g *gen) scheduled(d store.Date) []event {
	var out []event
	p := g.p
	pp := p.payroll
	if run, ok := payRun(g.cal, d); ok && pp != nil {
		amt := pp.amount(run)
		memo := fmt.Sprintf("%s — %d employees", p.parties.payrollMemo, pp.employees)
		ref := "PR" + string(d[0:4]) + string(d[5:7]) + string(d[8:10])
		payroll := event{k: kPayroll, cents: amt, minute: 6*60 + 30, payee: "Employees (direct deposit)",
			party: "Payroll direct deposit file", desc: "Payroll — direct deposit", memo: memo, custRef: ref}
		switch {
		case p.profile == profPayroll:
			out = append(out, event{k: kTransferIn, cents: amt, minute: 6 * 60, party: pp.other,
				desc: "Payroll funding from account " + pp.other, memo: memo, custRef: ref}, payroll)
		case pp.direct:
			out = append(out, payroll)
		default:
			out = append(out, event{k: kTransferOut, cents: amt, minute: 6 * 60, party: pp.other,
				desc: "Payroll funding to account " + pp.other, memo: memo, custRef: ref})
		}
	}
	if pp != nil && p.profile == profOperating && firstBusinessDayOnOrAfter(d, 15) {
		amt := pp.base * 2 * between(g.r, 26, 29) / 100
		out = append(out, event{k: kTaxRemittance, cents: amt, minute: 9 * 60, payee: p.parties.taxAgency, party: p.parties.taxAgency,
			desc: "Bill payment — " + p.parties.taxAgency, memo: "Payroll source deductions " + string(d[0:7]),
			custRef: "SD-" + string(d[0:4]) + string(d[5:7])})
	}
	if lastBusinessDayOfMonth(d) {
		switch p.profile {
		case profOperating:
			fee := int64(95_00)
			if p.account.Currency != "CAD" {
				fee = 45_00
			}
			out = append(out, event{k: kFee, cents: fee, minute: 21 * 60, desc: "Monthly account fee", memo: "Business operating plan " + string(d[0:7])})
		case profPayroll:
			if pp != nil {
				out = append(out, event{k: kFee, cents: 25_00 + 2*int64(pp.employees)*45, minute: 21 * 60, desc: "Payroll service fee",
					memo: fmt.Sprintf("2 runs × %d deposits", pp.employees)})
			}
		case profSavings:
			if g.bal > 0 {
				out = append(out, event{k: kInterestCredit, cents: max(g.bal*p.rateBps/12/10000, 1), minute: 21*60 + 30, desc: "Interest paid", memo: pct(p.rateBps)})
			}
		case profLineOfCredit, profLoan, profCreditCard:
			if g.bal < 0 && p.profile != profCreditCard {
				out = append(out, event{k: kInterestDebit, cents: max(-g.bal*p.rateBps/12/10000, 1), minute: 21*60 + 30, desc: "Interest charged", memo: pct(p.rateBps)})
			}
		}
	}
	if p.profile == profLoan && firstBusinessDayOnOrAfter(d, 15) && g.bal < 0 {
		out = append(out, event{k: kLoanPayment, cents: min(p.payment, -g.bal), minute: 5 * 60, party: p.sibling,
			desc: "Loan payment", memo: "Pre-authorized from account " + p.sibling, custRef: "LN-" + string(d[0:7])})
	}
	if p.profile == profCreditCard && firstBusinessDayOnOrAfter(d, 20) && g.bal < 0 {
		out = append(out, event{k: kCardPayment, cents: -g.bal, minute: 5 * 60, party: p.sibling,
			desc: "Payment received — thank you", memo: "Pre-authorized from account " + p.sibling})
	}
	if p.profile == profCreditCard && firstBusinessDayOnOrAfter(d, 1) && d[5:7] == p.account.OpenedOn[5:7] {
		out = append(out, event{k: kFee, cents: 120_00, minute: 4 * 60, desc: "Annual card fee", memo: "Business Visa"})
	}
	return out
}

package statement

import (
	"context"
	"fmt"
	"sort"

	"github.com/bankfeed/bankfeed/store"
)

// Totals are what the proof pass learned: counts and sums (in cents) of the
// posted entries, per document and per business date. Writers use them for
// summaries (camt TxsSummry, BAI2 03/49, PDF totals) that must precede the
// entries in the file.
type Totals struct {
	Count       int // posted entries
	CreditCount int
	DebitCount  int
	Credits     int64 // cents, positive
	Debits      int64 // cents, positive

	PendingCount   int
	PendingCredits int64
	PendingDebits  int64

	Opening int64 // ledger, cents
	Closing int64
	// Available balances in cents (equal to ledger when the document has none).
	OpeningAvailable int64
	ClosingAvailable int64

	Days []Day // business dates with posted or pending entries, ascending
}

// Net is credits − debits in cents.
func (t Totals) Net() int64 { return t.Credits - t.Debits }

// Day are one business date's figures.
type Day struct {
	Date        store.Date
	Count       int
	CreditCount int
	DebitCount  int
	Credits     int64
	Debits      int64
	Opening     int64 // ledger before the day's first entry
	Closing     int64
	Pending     int
}

// DayOf returns the figures of date d; a date without entries gets zero
// counts and the balance carried from the previous day.
func (t Totals) DayOf(d store.Date) Day {
	i := sort.Search(len(t.Days), func(i int) bool { return t.Days[i].Date >= d })
	if i < len(t.Days) && t.Days[i].Date == d {
		return t.Days[i]
	}
	bal := t.Opening
	if i > 0 {
		bal = t.Days[i-1].Closing
	}
	return Day{Date: d, Opening: bal, Closing: bal}
}

// maxDays bounds the per-day table (the API limits ranges far below this).
const maxDays = 366 * 20

// Prove streams the document once, in constant memory (plus one small
// record per business date), and checks that it can be written: opening +
// Σ signed posted entries = closing, the stored statement's counts and sums,
// entries of this account in strictly increasing (business date, ID) order
// (so IDs are unique) inside the period, amounts with at most two decimals,
// running balances that follow. pending says whether the format takes
// pending entries. A data mismatch is a *ReconcileError; a malformed
// document wraps ErrInvalidDocument.
func Prove(ctx context.Context, d *Document, pending bool) (Totals, error) {
	var t Totals
	if err := d.check(); err != nil {
		return t, err
	}
	rec := func(reason, entry string) *ReconcileError {
		return &ReconcileError{StatementID: d.StatementID, AccountID: d.Account.ID, Reason: reason, EntryID: entry,
			Opening: d.OpeningLedger, Closing: d.ClosingLedger}
	}
	var ok bool
	if t.Opening, ok = Cents(d.OpeningLedger); !ok {
		return t, rec("opening balance has more than two decimals", "")
	}
	if t.Closing, ok = Cents(d.ClosingLedger); !ok {
		return t, rec("closing balance has more than two decimals", "")
	}
	t.OpeningAvailable, t.ClosingAvailable = t.Opening, t.Closing
	if d.HasAvailable {
		oa, ok1 := Cents(d.OpeningAvailable)
		ca, ok2 := Cents(d.ClosingAvailable)
		if !ok1 || !ok2 {
			return t, rec("available balance has more than two decimals", "")
		}
		t.OpeningAvailable, t.ClosingAvailable = oa, ca
	}

	running := t.Opening
	var last store.Transaction
	first := true
	var cur *Day
	err := d.Each(ctx, pending, func(tx store.Transaction) error {
		if tx.AccountID != d.Account.ID {
			return rec("entry of another account", tx.ID)
		}
		if tx.ID == "" {
			return rec("entry without an ID", "")
		}
		if tx.BusinessDate < d.PeriodStart || tx.BusinessDate > d.PeriodEnd {
			return rec(fmt.Sprintf("entry dated %s outside the period %s..%s", tx.BusinessDate, d.PeriodStart, d.PeriodEnd), tx.ID)
		}
		if !first && (tx.BusinessDate < last.BusinessDate || (tx.BusinessDate == last.BusinessDate && tx.ID <= last.ID)) {
			return rec("entries out of (business date, ID) order or repeated", tx.ID)
		}
		first = false
		last = tx
		c, ok := Cents(tx.Amount)
		if !ok || c < 0 {
			return rec("amount negative or with more than two decimals", tx.ID)
		}
		if tx.Direction != store.Debit && tx.Direction != store.Credit {
			return rec("entry without a debit/credit direction", tx.ID)
		}
		if cur == nil || cur.Date != tx.BusinessDate {
			if len(t.Days) >= maxDays {
				return rec("period too long", tx.ID)
			}
			t.Days = append(t.Days, Day{Date: tx.BusinessDate, Opening: running, Closing: running})
			cur = &t.Days[len(t.Days)-1]
		}
		if tx.Status == store.Pending {
			t.PendingCount++
			cur.Pending++
			if tx.Direction == store.Credit {
				t.PendingCredits += c
			} else {
				t.PendingDebits += c
			}
			return nil
		}
		t.Count++
		cur.Count++
		if tx.Direction == store.Credit {
			t.CreditCount++
			t.Credits += c
			cur.CreditCount++
			cur.Credits += c
			running += c
		} else {
			t.DebitCount++
			t.Debits += c
			cur.DebitCount++
			cur.Debits += c
			running -= c
		}
		cur.Closing = running
		if tx.HasRunning {
			if rb, ok := Cents(tx.RunningBalance); !ok || rb != running {
				return rec(fmt.Sprintf("stored running balance %s differs from opening + entries %s", tx.RunningBalance.StringFixed(2), FormatCents(running)), tx.ID)
			}
		}
		return nil
	})
	if err != nil {
		return t, err
	}
	if running != t.Closing {
		e := rec("opening + entries ≠ closing", "")
		e.Computed = FromCents(running)
		return t, e
	}
	if x := d.Expected; x != nil {
		dc, ok1 := Cents(x.TotalDebits)
		cc, ok2 := Cents(x.TotalCredits)
		if x.EntryCount != t.Count || !ok1 || !ok2 || dc != t.Debits || cc != t.Credits {
			e := rec(fmt.Sprintf("statement states %d entries, debits %s, credits %s; entries give %d, %s, %s",
				x.EntryCount, x.TotalDebits.StringFixed(2), x.TotalCredits.StringFixed(2), t.Count, FormatCents(t.Debits), FormatCents(t.Credits)), "")
			e.Computed = FromCents(running)
			return t, e
		}
	}
	for _, db := range d.Days {
		if db.BusinessDate < d.PeriodStart || db.BusinessDate > d.PeriodEnd {
			continue
		}
		day := t.DayOf(db.BusinessDate)
		o, ok1 := Cents(db.OpeningLedger)
		c, ok2 := Cents(db.ClosingLedger)
		if !ok1 || !ok2 || o != day.Opening || c != day.Closing {
			return t, rec(fmt.Sprintf("daily balance of %s states %s..%s; entries give %s..%s", db.BusinessDate,
				db.OpeningLedger.StringFixed(2), db.ClosingLedger.StringFixed(2), FormatCents(day.Opening), FormatCents(day.Closing)), "")
		}
	}
	return t, nil
}

func (d *Document) check() error {
	switch {
	case d.Entries == nil:
		return fmt.Errorf("%w: no entry source", ErrInvalidDocument)
	case d.Account.ID == "":
		return fmt.Errorf("%w: no account", ErrInvalidDocument)
	case !validCurrency(d.Account.Currency):
		return fmt.Errorf("%w: currency %q is not an ISO 4217 code", ErrInvalidDocument, d.Account.Currency)
	case d.StatementID == "":
		return fmt.Errorf("%w: no statement or export ID", ErrInvalidDocument)
	case !d.PeriodStart.Valid() || !d.PeriodEnd.Valid() || d.PeriodEnd < d.PeriodStart:
		return fmt.Errorf("%w: period %q..%q", ErrInvalidDocument, d.PeriodStart, d.PeriodEnd)
	}
	return nil
}

// DailyAvailable returns the stored available figures of date day, if the
// document carries them.
func (d *Document) DailyAvailable(day store.Date) (opening, closing int64, ok bool) {
	for _, db := range d.Days {
		if db.BusinessDate == day {
			o, ok1 := Cents(db.OpeningAvailable)
			c, ok2 := Cents(db.ClosingAvailable)
			return o, c, ok1 && ok2
		}
	}
	return 0, 0, false
}

func validCurrency(c string) bool {
	if len(c) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if c[i] < 'A' || c[i] > 'Z' {
			return false
		}
	}
	return true
}

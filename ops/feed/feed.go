// Package feed is the core-banking feed's logic shared by the operator API
// (/ops/v1) and the file importer: the wire shape of a transaction, batch
// posting that is idempotent by the core system's external ID and
// all-or-nothing, and closing a business day (with the monthly statement at
// month end).
//
// It writes only through store.Store and must not import net/http, echo or
// any other project package.
package feed

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/bankfeed/bankfeed/store"
)

// MaxBatch is the most transactions one batch may hold.
const MaxBatch = 5000

// Code is a bank transaction code on the wire.
type Code struct {
	BAI       string `json:"bai,omitempty"`
	Domain    string `json:"domain,omitempty"`
	Family    string `json:"family,omitempty"`
	SubFamily string `json:"subFamily,omitempty"`
}

// Transaction is one entry as the core system sends it.
type Transaction struct {
	AccountID            string           `json:"accountId"`
	ExternalID           string           `json:"externalId"`
	Status               string           `json:"status"` // PENDING or POSTED
	TransactionTimestamp *time.Time       `json:"transactionTimestamp,omitempty"`
	PostedTimestamp      *time.Time       `json:"postedTimestamp,omitempty"`
	BusinessDate         string           `json:"businessDate,omitempty"` // default: of postedTimestamp, else transactionTimestamp
	ValueDate            string           `json:"valueDate,omitempty"`
	Amount               *decimal.Decimal `json:"amount"`
	DebitCreditMemo      string           `json:"debitCreditMemo"`
	Description          string           `json:"description,omitempty"`
	Memo                 string           `json:"memo,omitempty"`
	Payee                string           `json:"payee,omitempty"`
	Counterparty         string           `json:"counterparty,omitempty"`
	CheckNumber          string           `json:"checkNumber,omitempty"`
	BankReference        string           `json:"bankReference,omitempty"`
	CustomerReference    string           `json:"customerReference,omitempty"`
	BankTransactionCode  *Code            `json:"bankTransactionCode,omitempty"`
	RunningBalance       *decimal.Decimal `json:"runningBalance,omitempty"`
	// PendingExternalID, on a posted entry, names the pending entry it
	// replaces (same account).
	PendingExternalID string `json:"pendingExternalId,omitempty"`
}

// RowError is a batch's bad row: Index is zero-based; Err is usually a
// *store.RuleError.
type RowError struct {
	Index int
	Err   error
}

func (e *RowError) Error() string { return fmt.Sprintf("row %d: %v", e.Index, e.Err) }

// Unwrap exposes the cause.
func (e *RowError) Unwrap() error { return e.Err }

// ToStore checks the wire record and converts it (ID left empty).
func (t Transaction) ToStore() (store.Transaction, error) {
	out := store.Transaction{
		AccountID:         strings.TrimSpace(t.AccountID),
		ExternalID:        strings.TrimSpace(t.ExternalID),
		Status:            store.TransactionStatus(strings.ToUpper(t.Status)),
		Direction:         store.Direction(strings.ToUpper(t.DebitCreditMemo)),
		Description:       t.Description,
		Memo:              t.Memo,
		Payee:             t.Payee,
		Counterparty:      t.Counterparty,
		CheckNumber:       t.CheckNumber,
		BankReference:     t.BankReference,
		CustomerReference: t.CustomerReference,
	}
	switch {
	case out.AccountID == "":
		return out, store.Invalid("accountId", "is required")
	case out.ExternalID == "":
		return out, store.Invalid("externalId", "is required (it makes replays idempotent)")
	case len(out.ExternalID) > 128:
		return out, store.Invalid("externalId", "is longer than 128 characters")
	case t.Amount == nil:
		return out, store.Invalid("amount", "is required")
	}
	out.Amount = *t.Amount
	if t.TransactionTimestamp != nil {
		out.TransactionAt = t.TransactionTimestamp.UTC()
	}
	if t.PostedTimestamp != nil {
		out.PostedAt = t.PostedTimestamp.UTC()
	}
	if out.Status == store.Pending && !out.PostedAt.IsZero() {
		return out, store.Invalid("postedTimestamp", "must be empty on a pending transaction")
	}
	if out.TransactionAt.IsZero() {
		out.TransactionAt = out.PostedAt
	}
	if out.TransactionAt.IsZero() {
		return out, store.Invalid("transactionTimestamp", "is required")
	}
	switch {
	case t.BusinessDate != "":
		d, err := store.ParseDate(t.BusinessDate)
		if err != nil {
			return out, store.Invalid("businessDate", "%q is not a date (want YYYY-MM-DD)", t.BusinessDate)
		}
		out.BusinessDate = d
	case !out.PostedAt.IsZero():
		out.BusinessDate = store.BusinessDate(out.PostedAt)
	default:
		out.BusinessDate = store.BusinessDate(out.TransactionAt)
	}
	if t.ValueDate != "" {
		d, err := store.ParseDate(t.ValueDate)
		if err != nil {
			return out, store.Invalid("valueDate", "%q is not a date (want YYYY-MM-DD)", t.ValueDate)
		}
		out.ValueDate = d
	}
	if t.BankTransactionCode != nil {
		out.Code = store.BankTransactionCode{BAI: t.BankTransactionCode.BAI, Domain: t.BankTransactionCode.Domain,
			Family: t.BankTransactionCode.Family, SubFamily: t.BankTransactionCode.SubFamily}
	}
	if t.RunningBalance != nil {
		if out.Status != store.Posted {
			return out, store.Invalid("runningBalance", "is only allowed on a posted transaction")
		}
		out.RunningBalance, out.HasRunning = *t.RunningBalance, true
	}
	if t.PendingExternalID != "" && out.Status != store.Posted {
		return out, store.Invalid("pendingExternalId", "is only allowed on a posted transaction")
	}
	if err := out.Validate(); err != nil {
		return out, err
	}
	return out, nil
}

// Result is what a batch did.
type Result struct {
	Created      int
	Replayed     int // already stored (same account and external ID): unchanged
	Transactions []store.Transaction
}

// Post stores a batch in one transaction: every row is checked first and
// the first bad one rejects the whole batch (a *RowError). Rows already
// stored are skipped, so replaying a batch changes nothing.
func Post(ctx context.Context, st store.Store, rows []Transaction) (Result, error) {
	if len(rows) == 0 {
		return Result{}, store.Invalid("transactions", "the batch is empty")
	}
	if len(rows) > MaxBatch {
		return Result{}, store.Invalid("transactions", "a batch holds at most %d transactions, not %d", MaxBatch, len(rows))
	}
	var res Result
	err := st.InTx(ctx, func(ctx context.Context) error {
		r, err := post(ctx, st, rows)
		res = r
		return err
	})
	return res, err
}

type extKey struct{ account, ext string }

func post(ctx context.Context, st store.Store, rows []Transaction) (Result, error) {
	txs := make([]store.Transaction, len(rows))
	known := make([]bool, len(rows))
	inBatch := map[extKey]int{}
	accounts := map[string]store.Account{}
	closedDays := map[extKey]bool{}
	for i, row := range rows {
		tx, err := row.ToStore()
		if err != nil {
			return Result{}, &RowError{Index: i, Err: err}
		}
		acc, ok := accounts[tx.AccountID]
		if !ok {
			acc, err = st.GetAccount(ctx, tx.AccountID)
			if errors.Is(err, store.ErrNotFound) {
				return Result{}, &RowError{Index: i, Err: store.Invalid("accountId", "unknown account %q", tx.AccountID)}
			} else if err != nil {
				return Result{}, fmt.Errorf("feed: get account: %w", err)
			}
			accounts[tx.AccountID] = acc
		}
		k := extKey{tx.AccountID, tx.ExternalID}
		if j, dup := inBatch[k]; dup {
			return Result{}, &RowError{Index: i, Err: store.Invalid("externalId", "repeats row %d of this batch", j)}
		}
		inBatch[k] = i
		if _, err := st.GetTransactionByExternalID(ctx, tx.AccountID, tx.ExternalID); err == nil {
			known[i] = true // a replay: the stored record wins, nothing to check
			txs[i] = tx
			continue
		} else if !errors.Is(err, store.ErrNotFound) {
			return Result{}, fmt.Errorf("feed: look up external ID: %w", err)
		}
		if acc.Status != store.AccountOpen {
			return Result{}, &RowError{Index: i, Err: store.Invalid("accountId", "account %q is closed", tx.AccountID)}
		}
		if tx.Status == store.Posted {
			dk := extKey{tx.AccountID, string(tx.BusinessDate)}
			closed, seen := closedDays[dk]
			if !seen {
				d, err := st.GetDailyBalance(ctx, tx.AccountID, tx.BusinessDate)
				if err != nil && !errors.Is(err, store.ErrNotFound) {
					return Result{}, fmt.Errorf("feed: get daily balance: %w", err)
				}
				closed = err == nil && d.Closed
				closedDays[dk] = closed
			}
			if closed {
				return Result{}, &RowError{Index: i, Err: store.Invalid("businessDate", "business day %s of account %q is closed", tx.BusinessDate, tx.AccountID)}
			}
		}
		tx.ID = store.NewID("txn")
		txs[i] = tx
	}
	// Link postings to their pending entries (in this batch or stored).
	for i, row := range rows {
		if known[i] || row.PendingExternalID == "" {
			continue
		}
		k := extKey{txs[i].AccountID, row.PendingExternalID}
		if j, ok := inBatch[k]; ok {
			if txs[j].Status != store.Pending {
				return Result{}, &RowError{Index: i, Err: store.Invalid("pendingExternalId", "row %d is not a pending transaction", j)}
			}
			if !known[j] {
				txs[i].PendingID = txs[j].ID
				continue
			}
		}
		p, err := st.GetTransactionByExternalID(ctx, k.account, k.ext)
		if errors.Is(err, store.ErrNotFound) {
			return Result{}, &RowError{Index: i, Err: store.Invalid("pendingExternalId", "no transaction %q on this account", k.ext)}
		} else if err != nil {
			return Result{}, fmt.Errorf("feed: get pending: %w", err)
		}
		if p.Status != store.Pending || p.ReplacedByID != "" || !p.RemovedAt.IsZero() {
			return Result{}, &RowError{Index: i, Err: store.Invalid("pendingExternalId", "transaction %q is not an open pending entry", k.ext)}
		}
		txs[i].PendingID = p.ID
	}
	saved, err := st.CreateTransactions(ctx, txs)
	if err != nil {
		var rule *store.RuleError
		if errors.As(err, &rule) {
			return Result{}, &RowError{Index: findInvalid(txs), Err: err}
		}
		return Result{}, fmt.Errorf("feed: create transactions: %w", err)
	}
	res := Result{Transactions: saved}
	for i, tx := range saved {
		if known[i] || tx.ID != txs[i].ID {
			res.Replayed++
			continue
		}
		res.Created++
		if txs[i].PendingID != "" {
			if err := st.ReplacePending(ctx, txs[i].PendingID, tx.ID); err != nil {
				return Result{}, &RowError{Index: i, Err: fmt.Errorf("replace pending entry: %w", err)}
			}
		}
	}
	return res, nil
}

func findInvalid(txs []store.Transaction) int {
	for i, tx := range txs {
		if tx.Validate() != nil {
			return i
		}
	}
	return 0
}

// CloseResult is a closed day and, at month end, the statement produced.
type CloseResult struct {
	Daily     store.DailyBalance
	Statement *store.Statement
}

// CloseDay freezes an account's business date: the day's figures (stored by
// the feed, or derived from the previous day and the posted entries) must
// reconcile — opening + credits − debits = closing, and opening = the
// previous day's closing — or nothing is written. On the last weekday of the
// month it also produces the monthly statement and checks it reconciles.
func CloseDay(ctx context.Context, st store.Store, accountID string, day store.Date, now time.Time) (CloseResult, error) {
	if !day.Valid() {
		return CloseResult{}, store.Invalid("businessDate", "%q is not a date (want YYYY-MM-DD)", day)
	}
	var res CloseResult
	err := st.InTx(ctx, func(ctx context.Context) error {
		if _, err := st.GetAccount(ctx, accountID); err != nil {
			return fmt.Errorf("feed: get account: %w", err)
		}
		var prev *store.DailyBalance
		if p, err := st.LatestDailyBalance(ctx, accountID, day.AddDays(-1)); err == nil {
			prev = &p
		} else if !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("feed: previous day: %w", err)
		}
		_, debits, credits, err := st.SumPosted(ctx, accountID, day, day)
		if err != nil {
			return fmt.Errorf("feed: sum posted: %w", err)
		}
		net := credits.Sub(debits)
		d, err := st.GetDailyBalance(ctx, accountID, day)
		switch {
		case errors.Is(err, store.ErrNotFound):
			d = store.DailyBalance{AccountID: accountID, BusinessDate: day}
			if prev != nil {
				d.OpeningLedger, d.OpeningAvailable = prev.ClosingLedger, prev.ClosingAvailable
			}
			d.ClosingLedger = d.OpeningLedger.Add(net)
			d.ClosingAvailable = d.OpeningAvailable.Add(net)
		case err != nil:
			return fmt.Errorf("feed: get daily balance: %w", err)
		case d.Closed:
			return fmt.Errorf("business day %s of account %q is already closed: %w", day, accountID, store.ErrConflict)
		}
		if !d.OpeningLedger.Add(net).Equal(d.ClosingLedger) {
			return store.Invalid("businessDate", "business day %s does not reconcile: opening %s + credits %s − debits %s ≠ closing %s",
				day, d.OpeningLedger.StringFixed(2), credits.StringFixed(2), debits.StringFixed(2), d.ClosingLedger.StringFixed(2))
		}
		if prev != nil && !prev.ClosingLedger.Equal(d.OpeningLedger) {
			return store.Invalid("businessDate", "business day %s opens at %s but %s closed at %s",
				day, d.OpeningLedger.StringFixed(2), prev.BusinessDate, prev.ClosingLedger.StringFixed(2))
		}
		d.Closed, d.UpdatedAt = true, now.UTC()
		if err := st.PutDailyBalance(ctx, d); err != nil {
			return fmt.Errorf("feed: close day: %w", err)
		}
		res.Daily = d
		if !LastBusinessDayOfMonth(day) {
			return nil
		}
		s, err := monthlyStatement(ctx, st, accountID, d, now)
		if err != nil {
			return err
		}
		res.Statement = &s
		return nil
	})
	return res, err
}

func monthlyStatement(ctx context.Context, st store.Store, accountID string, last store.DailyBalance, now time.Time) (store.Statement, error) {
	start, end := last.BusinessDate.MonthStart(), last.BusinessDate.MonthEnd()
	opening := last.OpeningLedger
	if p, err := st.LatestDailyBalance(ctx, accountID, start.AddDays(-1)); err == nil {
		opening = p.ClosingLedger
	} else if errors.Is(err, store.ErrNotFound) {
		// No earlier month: the first recorded day of this month opens it.
		for d := start; d < last.BusinessDate; d = d.AddDays(1) {
			if db, err := st.GetDailyBalance(ctx, accountID, d); err == nil {
				opening = db.OpeningLedger
				break
			} else if !errors.Is(err, store.ErrNotFound) {
				return store.Statement{}, fmt.Errorf("feed: daily balance: %w", err)
			}
		}
	} else {
		return store.Statement{}, fmt.Errorf("feed: previous month: %w", err)
	}
	n, debits, credits, err := st.SumPosted(ctx, accountID, start, end)
	if err != nil {
		return store.Statement{}, fmt.Errorf("feed: sum month: %w", err)
	}
	s := store.Statement{
		ID: store.NewID("stm"), AccountID: accountID, PeriodStart: start, PeriodEnd: end, StatementDate: end.AddDays(1),
		Opening: opening, Closing: last.ClosingLedger, EntryCount: n, TotalDebits: debits, TotalCredits: credits,
		Status: "AVAILABLE", CreatedAt: now.UTC(),
	}
	if !s.Reconciles() {
		return store.Statement{}, store.Invalid("businessDate", "the statement for %s to %s does not reconcile: opening %s + credits %s − debits %s ≠ closing %s",
			start, end, opening.StringFixed(2), credits.StringFixed(2), debits.StringFixed(2), last.ClosingLedger.StringFixed(2))
	}
	s, err = st.CreateStatement(ctx, s)
	if err != nil {
		return store.Statement{}, fmt.Errorf("feed: create statement %s: %w", start[:7], err)
	}
	return s, nil
}

// LastBusinessDayOfMonth reports whether no weekday follows d in its month.
func LastBusinessDayOfMonth(d store.Date) bool {
	for n := d.AddDays(1); n.MonthStart() == d.MonthStart(); n = n.AddDays(1) {
		t, _ := time.Parse(time.DateOnly, string(n))
		if w := t.Weekday(); w != time.Saturday && w != time.Sunday {
			return false
		}
	}
	return true
}

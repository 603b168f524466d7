package statement

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bankfeed/bankfeed/store"
)

// Kind says what a document covers.
type Kind string

const (
	// KindStatement is a stored periodic statement (opening/closing known in advance).
	KindStatement Kind = "statement"
	// KindRange is an arbitrary range of business dates.
	KindRange Kind = "range"
	// KindIntraday is a report of the current business day, pending entries allowed.
	KindIntraday Kind = "intraday"
)

// Bank names the bank in statement files (from configuration).
type Bank struct {
	Name      string // e.g. "Bankfeed Demo Bank"
	BIC       string // camt.053 servicer, MT940
	RoutingID string // OFX BANKID, BAI2 originator (up to 9 digits)
}

// Expected are a stored statement's own figures; when set, the proof checks
// the streamed entries against them too.
type Expected struct {
	EntryCount   int
	TotalDebits  store.Money
	TotalCredits store.Money
}

// EntryFunc streams entries in (BusinessDate, ID) order, calling yield for
// each; a yield error stops the stream and is returned. It is called twice
// per export (proof, then writing) and must return the same entries both
// times: read with a snapshot (store.TransactionFilter.AsOfSeq).
type EntryFunc func(ctx context.Context, yield func(store.Transaction) error) error

// Document is one account's statement or export, independent of format.
type Document struct {
	Bank     Bank
	Business string // the account holder's legal name
	Account  store.Account
	// AccountRef identifies the account in files (default Account.ID). The
	// full account number is never written: it is not sent to vendors.
	AccountRef string

	Kind        Kind
	StatementID string // statement ID, or an export ID for ranges (message IDs derive from it)
	PeriodStart store.Date
	PeriodEnd   store.Date

	OpeningLedger store.Money
	ClosingLedger store.Money
	// Available balances at the start and end of the period, when known.
	HasAvailable     bool
	OpeningAvailable store.Money
	ClosingAvailable store.Money

	// Days optionally carries the stored daily summaries of the period (BAI2
	// 040/045 per day); the proof checks their ledger figures.
	Days []store.DailyBalance

	Expected *Expected // optional
	Created  time.Time
	Lang     string // "en" or "fr" (PDF labels)
	// IncludePending lets pending entries through (camt.052, JSON); every
	// other format drops them. Balances always count posted entries only.
	IncludePending bool
	QBOIntuBID     string // INTU.BID for QBO/QFX
	Sequence       int    // statement sequence number (MT940 :28C:, camt ElctrncSeqNb); 0 means 1

	Entries EntryFunc
}

// Ref is AccountRef or, when empty, Account.ID.
func (d *Document) Ref() string {
	if d.AccountRef != "" {
		return d.AccountRef
	}
	return d.Account.ID
}

// Seq is Sequence or 1.
func (d *Document) Seq() int {
	if d.Sequence > 0 {
		return d.Sequence
	}
	return 1
}

// Currency is the account's ISO 4217 code.
func (d *Document) Currency() string { return d.Account.Currency }

// Each streams the entries the format should see: posted ones, plus pending
// ones when IncludePending (and the format supports them).
func (d *Document) Each(ctx context.Context, pending bool, fn func(store.Transaction) error) error {
	if d.Entries == nil {
		return nil
	}
	return d.Entries(ctx, func(t store.Transaction) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if t.Status != store.Posted && !(pending && d.IncludePending) {
			return nil
		}
		return fn(t)
	})
}

// ReconcileError says a document does not balance or breaks an invariant;
// nothing was written. The API answers 500 naming the statement.
type ReconcileError struct {
	StatementID string
	AccountID   string
	Reason      string
	EntryID     string // the offending entry, if any
	Opening     store.Money
	Closing     store.Money // what the document states
	Computed    store.Money // opening + Σ signed posted entries
}

func (e *ReconcileError) Error() string {
	msg := fmt.Sprintf("statement %s (account %s) does not reconcile: %s", e.StatementID, e.AccountID, e.Reason)
	if e.EntryID != "" {
		msg += " (entry " + e.EntryID + ")"
	}
	return msg
}

// TooLargeError refuses a document too big for a format (the PDF renderer
// builds pages in memory); the API answers 400 suggesting a streaming format.
type TooLargeError struct {
	Format  string
	Entries int
	Limit   int
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s export of %d entries exceeds the limit of %d entries; use csv, camt053 or bai2 for large ranges", e.Format, e.Entries, e.Limit)
}

// ErrInvalidDocument marks a document that is malformed (not a data
// mismatch): missing account, period or entry source.
var ErrInvalidDocument = errors.New("invalid export document")

package store

import "time"

// TransactionStatus is pending or posted.
type TransactionStatus string

const (
	Pending TransactionStatus = "PENDING"
	Posted  TransactionStatus = "POSTED"
)

// BankTransactionCode classifies an entry for BAI2 and ISO 20022 importers.
type BankTransactionCode struct {
	BAI       string // BAI2 detail type code, e.g. "165" (preauthorized ACH credit)
	Domain    string // ISO 20022 domain, e.g. "PMNT"
	Family    string // e.g. "RCDT"
	SubFamily string // e.g. "ESCT"
}

// Transaction is one entry on an account.
//
// A posted transaction is immutable. A pending one may later be replaced by a
// posted one (ReplacedByID on the pending, PendingID on the posted) or removed
// (RemovedAt) when it drops without posting.
type Transaction struct {
	ID         string // opaque transactionId, stable across pulls
	AccountID  string
	ExternalID string // the core system's ID, unique per account (idempotent feeds)
	Status     TransactionStatus

	TransactionAt time.Time // when it happened (FDX transactionTimestamp)
	PostedAt      time.Time // when it posted (zero while pending)
	BusinessDate  Date      // business date in America/Toronto (of PostedAt, or of TransactionAt while pending)
	ValueDate     Date

	Amount    Money // non-negative
	Direction Direction

	Description       string
	Memo              string
	Payee             string
	Counterparty      string
	CheckNumber       string
	BankReference     string
	CustomerReference string
	Code              BankTransactionCode

	RunningBalance Money // ledger balance after the entry (posted only)
	HasRunning     bool  // RunningBalance is set

	PendingID    string // on a posted record: the pending record it replaced
	ReplacedByID string // on a pending record: the posted record that replaced it
	RemovedAt    time.Time

	// Seq is a store-wide, strictly increasing change number assigned when the
	// record is created or changed; CreatedSeq is the Seq it was created with.
	// Together they give snapshot-consistent paging and the change feed.
	Seq        int64
	CreatedSeq int64
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// SignedAmount is Amount with its sign (credits positive).
func (t Transaction) SignedAmount() Money { return Signed(t.Amount, t.Direction) }

// Validate checks what every transaction must hold before it is stored.
func (t Transaction) Validate() error {
	switch {
	case t.AccountID == "":
		return Invalid("accountId", "is required")
	case t.Status != Pending && t.Status != Posted:
		return Invalid("status", "must be PENDING or POSTED")
	case t.Direction != Debit && t.Direction != Credit:
		return Invalid("debitCreditMemo", "must be DEBIT or CREDIT")
	case t.Amount.IsNegative():
		return Invalid("amount", "must not be negative (use debitCreditMemo)")
	case t.Amount.Exponent() < -2 && !t.Amount.Equal(t.Amount.Round(2)):
		return Invalid("amount", "has more than two decimals")
	case !t.BusinessDate.Valid():
		return Invalid("businessDate", "is required (YYYY-MM-DD)")
	case t.ValueDate != "" && !t.ValueDate.Valid():
		return Invalid("valueDate", "is not a date")
	case t.Status == Posted && t.PostedAt.IsZero():
		return Invalid("postedTimestamp", "is required on a posted transaction")
	case len(t.Description) > 500:
		return Invalid("description", "is longer than 500 characters")
	}
	return nil
}

// Statement is a monthly statement of an account.
//
// Invariant: Opening + Σ signed posted entries whose business date lies in
// [PeriodStart, PeriodEnd] = Closing; EntryCount, TotalDebits and
// TotalCredits are those entries' count and sums.
type Statement struct {
	ID            string
	AccountID     string
	PeriodStart   Date
	PeriodEnd     Date
	StatementDate Date // issue date (the day after the period ends)
	Opening       Money
	Closing       Money
	EntryCount    int
	TotalDebits   Money // sum of debit amounts (positive)
	TotalCredits  Money
	Status        string // "AVAILABLE"
	CreatedAt     time.Time
}

// Reconciles reports whether Opening + credits − debits = Closing.
func (s Statement) Reconciles() bool {
	return s.Opening.Add(s.TotalCredits).Sub(s.TotalDebits).Equal(s.Closing)
}

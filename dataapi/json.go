package dataapi

import (
	"strconv"
	"sync"
	"time"

	"github.com/bankfeed/bankfeed/store"
)

// money is an exact amount written as a JSON number with exactly two
// decimals (FDX numbers; never through float64).
type money store.Money

func (m money) MarshalJSON() ([]byte, error) {
	return []byte(store.Money(m).StringFixed(2)), nil
}

func moneyPtr(m store.Money) *money { v := money(m); return &v }

// timestampLayout is FDX's Timestamp: RFC 3339 with milliseconds and the
// offset of the bank's zone, so the business date can be read off it.
const timestampLayout = "2006-01-02T15:04:05.000Z07:00"

func timestamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(bankZone()).Format(timestampLayout)
}

// bankZone is America/Toronto, loaded once: store.Toronto reads the zone
// database on every call, which cost most of a page's CPU time.
var bankZone = sync.OnceValue(store.Toronto)

// businessDate is the bank's business date of t.
func businessDate(t time.Time) store.Date { return store.DateOf(t, bankZone()) }

// dateStart is midnight at the start of d in the bank's zone.
func dateStart(d store.Date) time.Time {
	t, err := time.ParseInLocation(time.DateOnly, string(d), bankZone())
	if err != nil {
		return time.Time{}
	}
	return t
}

type currencyJSON struct {
	CurrencyCode string `json:"currencyCode"`
}

type commercialCodeJSON struct {
	Type string `json:"type"` // BAI
	Code string `json:"code"`
}

type commercialBalanceJSON struct {
	CommercialCode commercialCodeJSON `json:"commercialCode"`
	Amount         money              `json:"amount"`
	Memo           string             `json:"memo,omitempty"`
}

// accountJSON is FDX's account descriptor (lightweight) and, with the
// balance members, DepositAccount / LineOfCreditAccount / LoanAccount; the
// business-date members are our additions (the BAI2 prior-day figures).
type accountJSON struct {
	AccountCategory      string       `json:"accountCategory"`
	AccountID            string       `json:"accountId"`
	AccountType          string       `json:"accountType"`
	AccountNumberDisplay string       `json:"accountNumberDisplay,omitempty"`
	ProductName          string       `json:"productName"`
	Nickname             string       `json:"nickname,omitempty"`
	Status               string       `json:"status"`
	Currency             currencyJSON `json:"currency"`
	OpenedDate           string       `json:"openedDate,omitempty"`
	ClosedDate           string       `json:"closedDate,omitempty"`

	BalanceAsOf      string `json:"balanceAsOf,omitempty"`
	CurrentBalance   *money `json:"currentBalance,omitempty"`
	AvailableBalance *money `json:"availableBalance,omitempty"` // deposit
	AvailableCredit  *money `json:"availableCredit,omitempty"`  // line of credit
	PrincipalBalance *money `json:"principalBalance,omitempty"` // loan
	InterestRate     *rate  `json:"interestRate,omitempty"`
	InterestRateType string `json:"interestRateType,omitempty"`

	BusinessDate            string                  `json:"businessDate,omitempty"`
	BusinessDateClosed      *bool                   `json:"businessDateClosed,omitempty"`
	OpeningLedgerBalance    *money                  `json:"openingLedgerBalance,omitempty"`
	ClosingLedgerBalance    *money                  `json:"closingLedgerBalance,omitempty"`
	CurrentLedgerBalance    *money                  `json:"currentLedgerBalance,omitempty"`
	OpeningAvailableBalance *money                  `json:"openingAvailableBalance,omitempty"`
	ClosingAvailableBalance *money                  `json:"closingAvailableBalance,omitempty"`
	CurrentAvailableBalance *money                  `json:"currentAvailableBalance,omitempty"`
	CommercialBalances      []commercialBalanceJSON `json:"commercialBalances,omitempty"`
}

func accountDescriptor(a store.Account) accountJSON {
	display := a.DisplayNumber
	if display == "" {
		display = store.MaskAccountNumber(a.Number)
	}
	return accountJSON{
		AccountCategory:      a.Type.Category(),
		AccountID:            a.ID,
		AccountType:          string(a.Type),
		AccountNumberDisplay: display,
		ProductName:          a.ProductName,
		Nickname:             a.Nickname,
		Status:               string(a.Status),
		Currency:             currencyJSON{CurrencyCode: a.Currency},
		OpenedDate:           string(a.OpenedOn),
		ClosedDate:           string(a.ClosedOn),
	}
}

// rate is an interest rate in percent, written as a JSON number exactly as
// the bank holds it (7.45 is 7.45 %).
type rate store.Money

func (r rate) MarshalJSON() ([]byte, error) { return []byte(store.Money(r).String()), nil }

// withBalance adds the current position in the members FDX defines for the
// account's category, with FDX's signs: a deposit's balances are what the
// holder has; a line of credit's or card's currentBalance and a loan's
// principalBalance are what the holder owes, positive (negative: the bank
// owes a credit back). The store's ledger is signed from the holder's side
// (negative: owed), and currentLedgerBalance (additive) keeps that view for
// every category. availableBalance and availableCredit are what may still be
// drawn; both are as stored. The account's interest rate, when the bank
// has one on record, comes with it (FDX requires it on loans).
func (j *accountJSON) withBalance(a store.Account, b store.Balance) {
	j.BalanceAsOf = timestamp(b.AsOf)
	j.CurrentLedgerBalance = moneyPtr(b.Ledger)
	switch j.AccountCategory {
	case "LOC_ACCOUNT":
		j.CurrentBalance = moneyPtr(b.Ledger.Neg())
		j.AvailableCredit = moneyPtr(b.Available)
	case "LOAN_ACCOUNT":
		j.PrincipalBalance = moneyPtr(b.Ledger.Neg())
	default:
		j.CurrentBalance = moneyPtr(b.Ledger)
		j.AvailableBalance = moneyPtr(b.Available)
	}
	if a.HasInterestRate() {
		r := rate(a.InterestRate)
		j.InterestRate, j.InterestRateType = &r, string(a.InterestRateType)
	}
}

// withSummary adds a business date's opening/closing figures, the current
// ones, and the same as BAI2-coded commercial balances: all additive, all
// the signed ledger view (negative: owed), as BAI2 and camt report them.
func (j *accountJSON) withSummary(b store.Balance, d store.DailyBalance) {
	j.CurrentAvailableBalance = moneyPtr(b.Available)
	if d.BusinessDate == "" {
		return
	}
	closed := d.Closed
	j.BusinessDate = string(d.BusinessDate)
	j.BusinessDateClosed = &closed
	j.OpeningLedgerBalance = moneyPtr(d.OpeningLedger)
	j.ClosingLedgerBalance = moneyPtr(d.ClosingLedger)
	j.OpeningAvailableBalance = moneyPtr(d.OpeningAvailable)
	j.ClosingAvailableBalance = moneyPtr(d.ClosingAvailable)
	j.CommercialBalances = []commercialBalanceJSON{
		{commercialCodeJSON{"BAI", "010"}, money(d.OpeningLedger), "Opening ledger"},
		{commercialCodeJSON{"BAI", "015"}, money(d.ClosingLedger), "Closing ledger"},
		{commercialCodeJSON{"BAI", "040"}, money(d.OpeningAvailable), "Opening available"},
		{commercialCodeJSON{"BAI", "045"}, money(d.ClosingAvailable), "Closing available"},
	}
}

type isoCodeJSON struct {
	Domain    string `json:"domain"`
	Family    string `json:"family"`
	SubFamily string `json:"subFamily"`
}

type bankTxCodeJSON struct {
	BAI2     string       `json:"bai2,omitempty"`
	ISO20022 *isoCodeJSON `json:"iso20022,omitempty"`
}

// transactionJSON is FDX's DepositTransaction (or the LOC/loan variant)
// plus our additive members.
type transactionJSON struct {
	AccountCategory      string `json:"accountCategory"`
	AccountID            string `json:"accountId"`
	TransactionID        string `json:"transactionId"`
	PostedTimestamp      string `json:"postedTimestamp,omitempty"`
	TransactionTimestamp string `json:"transactionTimestamp"`
	Description          string `json:"description"`
	Memo                 string `json:"memo,omitempty"`
	DebitCreditMemo      string `json:"debitCreditMemo"`
	Amount               money  `json:"amount"`
	Status               string `json:"status"`
	Payee                string `json:"payee,omitempty"`
	CheckNumber          *int64 `json:"checkNumber,omitempty"`
	Reference            string `json:"reference,omitempty"`

	PostedDate           string          `json:"postedDate,omitempty"`
	BusinessDate         string          `json:"businessDate"`
	ValueDate            string          `json:"valueDate,omitempty"`
	RunningBalance       *money          `json:"runningBalance,omitempty"`
	PendingTransactionID string          `json:"pendingTransactionId,omitempty"`
	Mutability           string          `json:"mutability"`
	BankTransactionCode  *bankTxCodeJSON `json:"bankTransactionCode,omitempty"`
	Counterparty         string          `json:"counterparty,omitempty"`
	CustomerReference    string          `json:"customerReference,omitempty"`
}

func transactionOf(category string, t store.Transaction) transactionJSON {
	j := transactionJSON{
		AccountCategory:      category,
		AccountID:            t.AccountID,
		TransactionID:        t.ID,
		TransactionTimestamp: timestamp(t.TransactionAt),
		Description:          t.Description,
		Memo:                 t.Memo,
		DebitCreditMemo:      string(t.Direction),
		Amount:               money(t.Amount),
		Status:               string(t.Status),
		Payee:                t.Payee,
		Reference:            t.BankReference,
		BusinessDate:         string(t.BusinessDate),
		ValueDate:            string(t.ValueDate),
		Counterparty:         t.Counterparty,
		CustomerReference:    t.CustomerReference,
		Mutability:           "MUTABLE",
	}
	if j.TransactionTimestamp == "" {
		j.TransactionTimestamp = timestamp(dateStart(t.BusinessDate))
	}
	if t.CheckNumber == "" {
		// most entries: skip ParseInt, whose error allocates
	} else if n, err := strconv.ParseInt(t.CheckNumber, 10, 64); err == nil && n > 0 {
		j.CheckNumber = &n
	}
	if t.Status == store.Posted {
		j.PostedTimestamp = timestamp(t.PostedAt)
		j.PostedDate = string(t.BusinessDate)
		j.Mutability = "IMMUTABLE"
		j.PendingTransactionID = t.PendingID
		if t.HasRunning {
			j.RunningBalance = moneyPtr(t.RunningBalance)
		}
	}
	c := t.Code
	if c.BAI != "" || c.Domain != "" {
		j.BankTransactionCode = &bankTxCodeJSON{BAI2: c.BAI}
		if c.Domain != "" {
			j.BankTransactionCode.ISO20022 = &isoCodeJSON{Domain: c.Domain, Family: c.Family, SubFamily: c.SubFamily}
		}
	}
	return j
}

type pageJSON struct {
	NextPageKey string `json:"nextPageKey,omitempty"`
	// NextOffset repeats NextPageKey for clients of FDX < 6.3, which loop
	// until it is absent.
	NextOffset string `json:"nextOffset,omitempty"`
}

func pageOf(next string) *pageJSON {
	if next == "" {
		return &pageJSON{}
	}
	return &pageJSON{NextPageKey: next, NextOffset: next}
}

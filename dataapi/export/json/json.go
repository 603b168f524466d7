package json

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/bankfeed/bankfeed/dataapi/export/statement"
	"github.com/bankfeed/bankfeed/store"
)

// number is an amount in cents written as a JSON number with two decimals.
type number int64

func (n number) MarshalJSON() ([]byte, error) { return statement.AppendCents(nil, int64(n), '.'), nil }

type currency struct {
	CurrencyCode string `json:"currencyCode"`
}

type institution struct {
	Name          string `json:"name"`
	BIC           string `json:"bic,omitempty"`
	RoutingNumber string `json:"routingNumber,omitempty"`
}

type header struct {
	StatementID             string      `json:"statementId"`
	Kind                    string      `json:"kind"`
	AccountID               string      `json:"accountId"`
	AccountNumberDisplay    string      `json:"accountNumberDisplay,omitempty"`
	HolderName              string      `json:"holderName,omitempty"`
	Institution             institution `json:"institution"`
	Currency                currency    `json:"currency"`
	StartDate               string      `json:"startDate"`
	EndDate                 string      `json:"endDate"`
	OpeningBalance          number      `json:"openingBalance"`
	ClosingBalance          number      `json:"closingBalance"`
	OpeningAvailableBalance *number     `json:"openingAvailableBalance,omitempty"`
	ClosingAvailableBalance *number     `json:"closingAvailableBalance,omitempty"`
	EntryCount              int         `json:"entryCount"`
	CreditCount             int         `json:"creditCount"`
	DebitCount              int         `json:"debitCount"`
	TotalCredits            number      `json:"totalCredits"`
	TotalDebits             number      `json:"totalDebits"`
	PendingCount            int         `json:"pendingCount,omitempty"`
	CreatedTimestamp        string      `json:"createdTimestamp"`
}

type isoCode struct {
	Domain    string `json:"domain"`
	Family    string `json:"family"`
	SubFamily string `json:"subFamily"`
}

type bankCode struct {
	BAI2     string   `json:"bai2,omitempty"`
	ISO20022 *isoCode `json:"iso20022,omitempty"`
}

type transaction struct {
	TransactionID        string    `json:"transactionId"`
	Status               string    `json:"status"`
	PostedTimestamp      string    `json:"postedTimestamp,omitempty"`
	TransactionTimestamp string    `json:"transactionTimestamp,omitempty"`
	PostedDate           string    `json:"postedDate,omitempty"`
	BusinessDate         string    `json:"businessDate"`
	ValueDate            string    `json:"valueDate,omitempty"`
	DebitCreditMemo      string    `json:"debitCreditMemo"`
	Amount               number    `json:"amount"`
	Description          string    `json:"description"`
	Memo                 string    `json:"memo,omitempty"`
	Payee                string    `json:"payee,omitempty"`
	Counterparty         string    `json:"counterparty,omitempty"`
	CheckNumber          *int64    `json:"checkNumber,omitempty"`
	Reference            string    `json:"reference,omitempty"`
	CustomerReference    string    `json:"customerReference,omitempty"`
	RunningBalance       *number   `json:"runningBalance,omitempty"`
	BankTransactionCode  *bankCode `json:"bankTransactionCode,omitempty"`
	PendingTransactionID string    `json:"pendingTransactionId,omitempty"`
}

const timestampLayout = "2006-01-02T15:04:05.000Z07:00"

// Write writes d as JSON. t must come from statement.Prove(ctx, d, true)
// (pending entries appear when d.IncludePending).
func Write(ctx context.Context, w io.Writer, d *statement.Document, t statement.Totals) error {
	loc := store.Toronto()
	ts := func(tm time.Time) string {
		if tm.IsZero() {
			return ""
		}
		return tm.In(loc).Format(timestampLayout)
	}
	h := header{
		StatementID: d.StatementID, Kind: string(d.Kind), AccountID: d.Account.ID,
		AccountNumberDisplay: d.Account.DisplayNumber, HolderName: d.Business,
		Institution: institution{Name: d.Bank.Name, BIC: d.Bank.BIC, RoutingNumber: d.Bank.RoutingID},
		Currency:    currency{d.Currency()}, StartDate: string(d.PeriodStart), EndDate: string(d.PeriodEnd),
		OpeningBalance: number(t.Opening), ClosingBalance: number(t.Closing),
		EntryCount: t.Count, CreditCount: t.CreditCount, DebitCount: t.DebitCount,
		TotalCredits: number(t.Credits), TotalDebits: number(t.Debits), PendingCount: t.PendingCount,
		CreatedTimestamp: ts(d.Created),
	}
	if d.HasAvailable {
		oa, ca := number(t.OpeningAvailable), number(t.ClosingAvailable)
		h.OpeningAvailableBalance, h.ClosingAvailableBalance = &oa, &ca
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	head, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("json: encode statement: %w", err)
	}
	bw.WriteString(`{"statement":`)
	bw.Write(head)
	bw.WriteString(",\n\"transactions\":[")
	running := t.Opening
	n := 0
	err = d.Each(ctx, true, func(tx store.Transaction) error {
		c, _ := statement.Cents(tx.Amount)
		j := transaction{
			TransactionID: tx.ID, Status: string(tx.Status), PostedTimestamp: ts(tx.PostedAt),
			TransactionTimestamp: ts(tx.TransactionAt), BusinessDate: string(tx.BusinessDate),
			ValueDate: string(tx.ValueDate), DebitCreditMemo: string(tx.Direction), Amount: number(c),
			Description: tx.Description, Memo: tx.Memo, Payee: tx.Payee, Counterparty: tx.Counterparty,
			Reference: tx.BankReference, CustomerReference: tx.CustomerReference, PendingTransactionID: tx.PendingID,
		}
		if tx.Status == store.Posted {
			j.PostedDate = string(tx.BusinessDate)
			if tx.Direction == store.Credit {
				running += c
			} else {
				running -= c
			}
			rb := number(running)
			j.RunningBalance = &rb
		}
		if v, err := strconv.ParseInt(tx.CheckNumber, 10, 64); err == nil && v > 0 {
			j.CheckNumber = &v
		}
		if code := tx.Code; code.BAI != "" || code.Domain != "" {
			j.BankTransactionCode = &bankCode{BAI2: code.BAI}
			if code.Domain != "" {
				j.BankTransactionCode.ISO20022 = &isoCode{code.Domain, code.Family, code.SubFamily}
			}
		}
		b, err := json.Marshal(j)
		if err != nil {
			return fmt.Errorf("encode transaction %s: %w", tx.ID, err)
		}
		if n > 0 {
			bw.WriteByte(',')
		}
		bw.WriteByte('\n')
		bw.Write(b)
		n++
		return nil
	})
	if err != nil {
		return fmt.Errorf("json: stream entries: %w", err)
	}
	bw.WriteString("\n]}\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("json: write: %w", err)
	}
	return nil
}

package json_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	exportjson "github.com/bankfeed/bankfeed/dataapi/export/json"
	"github.com/bankfeed/bankfeed/dataapi/export/statement"
	"github.com/bankfeed/bankfeed/dataapi/export/statementtest"
	"github.com/bankfeed/bankfeed/store"
)

type doc struct {
	Statement struct {
		StatementID    string          `json:"statementId"`
		OpeningBalance decimal.Decimal `json:"openingBalance"`
		ClosingBalance decimal.Decimal `json:"closingBalance"`
		EntryCount     int             `json:"entryCount"`
		TotalCredits   decimal.Decimal `json:"totalCredits"`
		TotalDebits    decimal.Decimal `json:"totalDebits"`
		PendingCount   int             `json:"pendingCount"`
	} `json:"statement"`
	Transactions []struct {
		TransactionID   string           `json:"transactionId"`
		Status          string           `json:"status"`
		BusinessDate    string           `json:"businessDate"`
		DebitCreditMemo string           `json:"debitCreditMemo"`
		Amount          decimal.Decimal  `json:"amount"`
		RunningBalance  *decimal.Decimal `json:"runningBalance"`
	} `json:"transactions"`
}

func c(d decimal.Decimal) int64 { v, _ := statement.Cents(d); return v }

func TestWrite(t *testing.T) {
	for _, pending := range []bool{false, true} {
		d := statementtest.Fixture()
		d.IncludePending = pending
		tot, err := statement.Prove(t.Context(), &d, true)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := exportjson.Write(t.Context(), &buf, &d, tot); err != nil {
			t.Fatal(err)
		}
		name := "statement.json"
		if pending {
			name = "statement-pending.json"
		}
		statementtest.Golden(t, name, buf.Bytes())
		var got doc
		if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
			t.Fatalf("invalid JSON: %v", err)
		}
		s := got.Statement
		p := statementtest.Parsed{Opening: c(s.OpeningBalance), Closing: c(s.ClosingBalance), Count: s.EntryCount,
			Credits: c(s.TotalCredits), Debits: c(s.TotalDebits)}
		pend := 0
		running := p.Opening
		for _, tx := range got.Transactions {
			if tx.Status == string(store.Pending) {
				pend++
				if tx.RunningBalance != nil {
					t.Errorf("pending %s carries a running balance", tx.TransactionID)
				}
				continue
			}
			v := c(tx.Amount)
			if tx.DebitCreditMemo == "DEBIT" {
				v = -v
			}
			running += v
			if tx.RunningBalance == nil || c(*tx.RunningBalance) != running {
				t.Errorf("%s running balance %v, want %d", tx.TransactionID, tx.RunningBalance, running)
			}
			p.Entries = append(p.Entries, statementtest.Entry{ID: tx.TransactionID, Date: store.Date(tx.BusinessDate), Cents: v})
		}
		statementtest.Reconcile(t, p, d.PeriodStart, d.PeriodEnd)
		if (pend == 1) != pending || s.PendingCount != pend {
			t.Errorf("pending = %d (stated %d), include = %v", pend, s.PendingCount, pending)
		}
		if !strings.Contains(buf.String(), `"amount":10000.00`) {
			t.Error("amounts are not two-decimal JSON numbers")
		}
	}
}

package store

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

func TestBusinessDateToronto(t *testing.T) {
	tests := []struct {
		utc  string
		want Date
	}{
		{"2026-01-15T04:59:59Z", "2026-01-14"}, // 23:59:59 EST
		{"2026-01-15T05:00:00Z", "2026-01-15"},
		{"2026-07-15T03:59:59Z", "2026-07-14"}, // 23:59:59 EDT
		{"2026-07-15T04:00:00Z", "2026-07-15"},
		{"2026-03-08T07:30:00Z", "2026-03-08"}, // DST starts
	}
	for _, tc := range tests {
		ts, _ := time.Parse(time.RFC3339, tc.utc)
		if got := BusinessDate(ts); got != tc.want {
			t.Errorf("%s: got %s want %s", tc.utc, got, tc.want)
		}
	}
}

func TestDateHelpers(t *testing.T) {
	if _, err := ParseDate("2026-02-30"); err == nil {
		t.Fatal("Feb 30 accepted")
	}
	if _, err := ParseDate("26-1-1"); err == nil {
		t.Fatal("bad format accepted")
	}
	d := MustDate("2024-02-10")
	if d.MonthStart() != "2024-02-01" || d.MonthEnd() != "2024-02-29" || d.AddDays(20) != "2024-03-01" {
		t.Fatal(d.MonthStart(), d.MonthEnd(), d.AddDays(20))
	}
	if d.Time().Location().String() != BankZone {
		t.Fatal(d.Time().Location())
	}
}

func TestMoneyAndStatement(t *testing.T) {
	a := decimal.RequireFromString("0.10")
	b := decimal.RequireFromString("0.20")
	if !a.Add(b).Equal(decimal.RequireFromString("0.30")) {
		t.Fatal("decimal not exact")
	}
	if Cents(decimal.RequireFromString("-12.34")) != -1234 {
		t.Fatal("cents")
	}
	st := Statement{Opening: decimal.RequireFromString("100.00"), TotalCredits: decimal.RequireFromString("50.25"),
		TotalDebits: decimal.RequireFromString("20.10"), Closing: decimal.RequireFromString("130.15")}
	if !st.Reconciles() {
		t.Fatal("should reconcile")
	}
	st.Closing = decimal.RequireFromString("130.16")
	if st.Reconciles() {
		t.Fatal("off by a cent reconciled")
	}
}

func TestTransactionValidate(t *testing.T) {
	ok := Transaction{AccountID: "a", Status: Posted, Direction: Debit, Amount: decimal.RequireFromString("1.50"),
		BusinessDate: "2026-01-02", PostedAt: time.Now()}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := []func(*Transaction){
		func(t *Transaction) { t.AccountID = "" },
		func(t *Transaction) { t.Status = "X" },
		func(t *Transaction) { t.Direction = "" },
		func(t *Transaction) { t.Amount = decimal.RequireFromString("-1") },
		func(t *Transaction) { t.Amount = decimal.RequireFromString("1.005") },
		func(t *Transaction) { t.BusinessDate = "2026-13-01" },
		func(t *Transaction) { t.PostedAt = time.Time{} },
	}
	for i, mut := range bad {
		tx := ok
		mut(&tx)
		if err := tx.Validate(); err == nil {
			t.Errorf("case %d accepted", i)
		}
	}
}

func TestMaskAccountNumber(t *testing.T) {
	if got := MaskAccountNumber("00123-004-1234567"); got != "****4567" {
		t.Fatal(got)
	}
	if got := MaskAccountNumber("12"); got != "****" {
		t.Fatal(got)
	}
}

package statement_test

import (
	"errors"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/bankfeed/bankfeed/dataapi/export/statement"
	"github.com/bankfeed/bankfeed/dataapi/export/statementtest"
)

func TestCents(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"12.34", 1234, true}, {"12.3", 1230, true}, {"12", 1200, true}, {"-0.01", -1, true},
		{"1e3", 100000, true}, {"12.340", 1234, true}, {"12.345", 0, false}, {"0.001", 0, false},
		{"92233720368547758.07", 9223372036854775807, true}, {"92233720368547758.08", 0, false},
	} {
		got, ok := statement.Cents(decimal.RequireFromString(c.in))
		if got != c.want || ok != c.ok {
			t.Errorf("Cents(%s) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
	for c, want := range map[int64]string{0: "0.00", 5: "0.05", -5: "-0.05", 123456: "1234.56", -100: "-1.00"} {
		if got := statement.FormatCents(c); got != want {
			t.Errorf("FormatCents(%d) = %s, want %s", c, got, want)
		}
	}
}

func TestText(t *testing.T) {
	for in, want := range map[string]string{"  a \t b\n c  ": "a b c", "ok": "ok", "x\x00y": "x y"} {
		if got := statement.Clean(in); got != want {
			t.Errorf("Clean(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"Dépôt à Montréal": "Depot a Montreal", "Œuvre — «x»": "OEuvre - \"x\"", "東京": "??", "plain": "plain"} {
		if got := statement.ASCII(in); got != want {
			t.Errorf("ASCII(%q) = %q, want %q", in, got, want)
		}
	}
	if got := statement.Truncate("Érable", 3); got != "Éra" {
		t.Errorf("Truncate = %q", got)
	}
	if got := statement.YYMMDD("2025-03-09"); got != "250309" {
		t.Errorf("YYMMDD = %q", got)
	}
}

func TestProveFixture(t *testing.T) {
	d := statementtest.Fixture()
	tot, err := statement.Prove(t.Context(), &d, false)
	if err != nil {
		t.Fatal(err)
	}
	if tot.Count != 7 || tot.CreditCount != 3 || tot.DebitCount != 4 || tot.Credits != 1251234 || tot.Debits != 447967 || tot.PendingCount != 0 {
		t.Errorf("totals %+v", tot)
	}
	if day := tot.DayOf("2025-03-05"); day.Opening != 1484567 || day.Closing != 1356611 || day.DebitCount != 2 {
		t.Errorf("2025-03-05: %+v", day)
	}
	if day := tot.DayOf("2025-03-10"); day.Opening != 1356611 || day.Closing != 1356611 || day.Count != 0 {
		t.Errorf("a day without entries carries the balance: %+v", day)
	}
	if day := tot.DayOf("2025-03-01"); day.Opening != 1234567 {
		t.Errorf("first day: %+v", day)
	}
	d.IncludePending = true
	tot, err = statement.Prove(t.Context(), &d, true)
	if err != nil || tot.PendingCount != 1 || tot.PendingDebits != 9999 || tot.Count != 7 {
		t.Errorf("with pending: %+v, %v", tot, err)
	}
}

func TestProveOrder(t *testing.T) {
	d := statementtest.Fixture()
	txs := statementtest.FixtureEntries()
	for i := range txs {
		txs[i].HasRunning = false
	}
	txs[1], txs[2] = txs[2], txs[1] // same date, IDs out of order
	d.Entries = statementtest.FromSlice(txs)
	var re *statement.ReconcileError
	if _, err := statement.Prove(t.Context(), &d, false); !errors.As(err, &re) || re.EntryID != "tx_0002" {
		t.Errorf("err = %v", err)
	}
	d = statementtest.Fixture()
	d.PeriodEnd = "2025-02-28"
	if _, err := statement.Prove(t.Context(), &d, false); !errors.Is(err, statement.ErrInvalidDocument) {
		t.Errorf("reversed period: %v", err)
	}
	d = statementtest.Fixture()
	d.Entries = nil
	if _, err := statement.Prove(t.Context(), &d, false); !errors.Is(err, statement.ErrInvalidDocument) {
		t.Errorf("no entries source: %v", err)
	}
	d = statementtest.Fixture()
	d.ClosingLedger = d.ClosingLedger.Neg()
	_, err := statement.Prove(t.Context(), &d, false)
	if !errors.As(err, &re) || !re.Computed.Equal(decimal.RequireFromString("20378.34")) {
		t.Errorf("err = %v (computed %v)", err, re)
	}
}

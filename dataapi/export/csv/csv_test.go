package csv_test

import (
	"bytes"
	stdcsv "encoding/csv"
	"strconv"
	"strings"
	"testing"

	"github.com/bankfeed/bankfeed/dataapi/export/csv"
	"github.com/bankfeed/bankfeed/dataapi/export/statement"
	"github.com/bankfeed/bankfeed/dataapi/export/statementtest"
	"github.com/bankfeed/bankfeed/store"
)

func cents(t *testing.T, s string) int64 {
	t.Helper()
	if s == "" {
		return 0
	}
	i := strings.IndexByte(s, '.')
	if i < 0 || len(s)-i != 3 {
		t.Fatalf("amount %q lacks two decimals", s)
	}
	c, err := strconv.ParseInt(s[:i]+s[i+1:], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestProfiles(t *testing.T) {
	for _, p := range csv.Profiles() {
		t.Run(string(p), func(t *testing.T) {
			d := statementtest.Fixture()
			tot, err := statement.Prove(t.Context(), &d, false)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := csv.Write(t.Context(), &buf, &d, tot, p); err != nil {
				t.Fatal(err)
			}
			statementtest.Golden(t, string(p)+".csv", buf.Bytes())
			if !bytes.Contains(buf.Bytes(), []byte("\r\n")) {
				t.Error("records not CRLF-terminated (RFC 4180)")
			}
			r := stdcsv.NewReader(&buf)
			rows, err := r.ReadAll()
			if err != nil {
				t.Fatalf("RFC 4180 reader: %v", err)
			}
			header := rows[0]
			if strings.Join(header, ",") != strings.Join(p.Header(), ",") {
				t.Errorf("header %v", header)
			}
			col := map[string]int{}
			for i, h := range header {
				col[h] = i
			}
			pr := statementtest.Parsed{Opening: 1234567, Closing: 2037834, Count: 7, Credits: -1, Debits: -1}
			running := pr.Opening
			for _, row := range rows[1:] {
				var c int64
				switch p {
				case csv.QuickBooks4:
					c = cents(t, row[col["Credit"]]) - cents(t, row[col["Debit"]])
					if (row[col["Credit"]] == "") == (row[col["Debit"]] == "") {
						t.Errorf("exactly one of Credit/Debit must be filled: %v", row)
					}
				default:
					c = cents(t, row[col["Amount"]])
				}
				running += c
				if i, ok := col["Balance"]; ok && cents(t, row[i]) != running {
					t.Errorf("running balance %s, want %d", row[i], running)
				}
				e := statementtest.Entry{Date: store.Date(row[0]), Cents: c}
				if i, ok := col["Transaction ID"]; ok {
					e.ID = row[i]
				}
				if _, err := store.ParseDate(row[0]); err != nil {
					t.Errorf("date %q is not ISO", row[0])
				}
				pr.Entries = append(pr.Entries, e)
			}
			statementtest.Reconcile(t, pr, d.PeriodStart, d.PeriodEnd)
		})
	}
}

func TestFormulaInjectionDefused(t *testing.T) {
	d := statementtest.Fixture()
	entries := statementtest.FixtureEntries()
	entries[0].Description = `=HYPERLINK("http://x","y")`
	entries[0].Payee = "@SUM(A1)"
	d.Entries = statementtest.FromSlice(entries)
	tot, err := statement.Prove(t.Context(), &d, false)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := csv.Write(t.Context(), &buf, &d, tot, csv.Xero); err != nil {
		t.Fatal(err)
	}
	rows, err := stdcsv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if rows[1][2] != "'@SUM(A1)" || !strings.HasPrefix(rows[1][3], "'=") {
		t.Errorf("formula cells not defused: %q", rows[1])
	}
	if rows[2][1] != "-1234.56" {
		t.Errorf("negative amount altered: %q", rows[2][1])
	}
}

package csv_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/bankfeed/bankfeed/dataapi/export/csv"
	"github.com/bankfeed/bankfeed/dataapi/export/statement"
	"github.com/bankfeed/bankfeed/dataapi/export/statementtest"
	"github.com/bankfeed/bankfeed/store"
)

// TestHLedger reads the CSV layouts back with hledger's CSV rules (issue
// 13 §4): every credit names who paid (the counterparty, when the entry
// has no payee, as the bank's credits do), the QuickBooks layouts carry
// each entry's reference, and the amounts hledger reads sum to the
// statement's movement.
func TestHLedger(t *testing.T) {
	// The bank's credits name the payer as Counterparty, not Payee.
	entries := statementtest.FixtureEntries()
	for i := range entries {
		if entries[i].Direction == store.Credit && entries[i].Payee != "" {
			entries[i].Counterparty, entries[i].Payee = entries[i].Payee, ""
		}
	}
	rules := map[csv.Profile]string{
		csv.Default: "skip 1\nfields date, _, code, _, description, payee, memo, bankref, ref, cheque, bai, amount, balance, currency\n" +
			"description %payee | %description\ncomment ref:%ref\naccount1 assets:bank\naccount2 income\n",
		csv.QuickBooks3: "skip 1\nfields date, description, amount\naccount1 assets:bank\n",
		csv.QuickBooks4: "skip 1\nfields date, description, amount-in, amount-out\naccount1 assets:bank\n",
	}
	for _, p := range []csv.Profile{csv.Default, csv.QuickBooks3, csv.QuickBooks4} {
		t.Run(string(p), func(t *testing.T) {
			d := statementtest.Fixture()
			d.Entries = statementtest.FromSlice(entries)
			tot, err := statement.Prove(t.Context(), &d, false)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := csv.Write(t.Context(), &buf, &d, tot, p); err != nil {
				t.Fatal(err)
			}
			rows := statementtest.HLedger(t, buf.Bytes(), rules[p])
			// txnidx, date, date2, status, code, description, comment, account, amount, …
			var sum int64
			var read []string
			for _, r := range rows[1:] {
				if r[7] != "assets:bank" {
					continue
				}
				sum += cents(t, strings.TrimPrefix(r[8], "$"))
				read = append(read, r[5]+" "+r[6])
			}
			if want := tot.Closing - tot.Opening; sum != want {
				t.Errorf("hledger read movements summing to %d cents, want %d", sum, want)
			}
			posted := 0
			for _, tx := range entries {
				if tx.Status != store.Posted {
					continue
				}
				line := read[posted]
				posted++
				if tx.Direction == store.Credit && tx.Counterparty != "" && !strings.Contains(line, tx.Counterparty) {
					t.Errorf("%s: credit from %q read as %q: the payer is missing", tx.ID, tx.Counterparty, line)
				}
				if ref := tx.CustomerReference; ref != "" && !strings.Contains(line, ref) {
					t.Errorf("%s: reference %q missing from %q", tx.ID, ref, line)
				}
			}
			if posted != len(read) {
				t.Errorf("hledger read %d entries, want %d", len(read), posted)
			}
		})
	}
}

package mt940_test

import (
	"bytes"
	"cmp"
	"reflect"
	"strings"
	"testing"

	"github.com/bankfeed/bankfeed/dataapi/export/mt940"
	"github.com/bankfeed/bankfeed/dataapi/export/statement"
	"github.com/bankfeed/bankfeed/dataapi/export/statementtest"
	"github.com/bankfeed/bankfeed/store"
)

// swiftType is the SWIFT transaction type each ISO 20022 family/sub-family
// of the fixture stands for (SWIFT MT940 field 61, subfield 6).
var swiftType = map[[2]string]string{
	{"RCDT", "DMCT"}: "NTRF", // received domestic credit transfer
	{"RCDT", "XBCT"}: "NTRF", // received cross-border credit transfer
	{"CCHQ", "CCHQ"}: "NCHK", // cheque
	{"MDOP", "CHRG"}: "NCHG", // charges
	{"MCOP", "INTR"}: "NINT", // interest
	{"RDDT", "PMDD"}: "NDDT", // direct debit
	{"MCOP", "ADJT"}: "NMSC", // miscellaneous
}

func cents(t *testing.T, m store.Money) int64 {
	t.Helper()
	c, ok := statement.Cents(m)
	if !ok {
		t.Fatalf("%s is not whole cents", m)
	}
	return c
}

func write(t *testing.T, d statement.Document) []byte {
	t.Helper()
	tot, err := statement.Prove(t.Context(), &d, false)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := mt940.Write(t.Context(), &buf, &d, tot); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestWrite reads the message back with statementtest.ReadMT940 and
// compares every field with the document the writer was given.
func TestWrite(t *testing.T) {
	d := statementtest.Fixture()
	statementtest.Golden(t, "statement.mt940", write(t, d))
	d.Sequence = 7 // carried to :28C:
	entries := statementtest.FixtureEntries()
	entries[3].ValueDate = "2025-03-13" // a value date apart from the business date
	d.Entries = statementtest.FromSlice(entries)
	out := write(t, d)

	msg, err := statementtest.ReadMT940(out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var posted []store.Transaction
	for _, tx := range entries {
		if tx.Status == store.Posted {
			posted = append(posted, tx)
		}
	}
	want := "20 25 28C 60F" + strings.Repeat(" 61 86", len(posted)) + " 62F 64"
	if got := strings.Join(msg.Tags, " "); got != want {
		t.Errorf("tags = %s\nwant %s", got, want)
	}
	// '_' is outside the SWIFT X set: the writer sends '-'.
	x := func(s string) string { return strings.ReplaceAll(s, "_", "-") }
	if msg.Reference != x(d.StatementID) || msg.Account != x(d.Account.ID) {
		t.Errorf(":20:%s :25:%s, want the statement ID %s and the account ID %s", msg.Reference, msg.Account, d.StatementID, d.Account.ID)
	}
	if msg.StatementNo != "7" || msg.SequenceNo != "1" {
		t.Errorf(":28C:%s/%s, want 7/1", msg.StatementNo, msg.SequenceNo)
	}
	for _, b := range []struct {
		tag  string
		got  *statementtest.MT940Balance
		date store.Date
		want store.Money
	}{
		{"60F", &msg.Opening, d.PeriodStart, d.OpeningLedger},
		{"62F", &msg.Closing, d.PeriodEnd, d.ClosingLedger},
		{"64", msg.Available, d.PeriodEnd, d.ClosingAvailable},
	} {
		if b.got == nil {
			t.Errorf(":%s: missing", b.tag)
			continue
		}
		if want := (statementtest.MT940Balance{Date: b.date, Currency: d.Account.Currency, Cents: cents(t, b.want)}); *b.got != want {
			t.Errorf(":%s: %+v, want %+v", b.tag, *b.got, want)
		}
	}
	if len(msg.Lines) != len(posted) {
		t.Fatalf("%d :61: lines, want one per posted entry (%d)", len(msg.Lines), len(posted))
	}
	p := statementtest.Parsed{Opening: msg.Opening.Cents, Closing: msg.Closing.Cents, Count: -1, Credits: -1, Debits: -1}
	for i, l := range msg.Lines {
		tx := posted[i]
		p.Entries = append(p.Entries, statementtest.Entry{ID: tx.ID, Date: l.EntryDate, Cents: l.Signed()})
		mark := map[store.Direction]string{store.Credit: "C", store.Debit: "D"}[tx.Direction]
		wantType, ok := swiftType[[2]string{tx.Code.Family, tx.Code.SubFamily}]
		if !ok {
			t.Fatalf("%s: no SWIFT type for %+v in the test's table", tx.ID, tx.Code)
		}
		w := statementtest.MT940Line{
			ValueDate: cmp.Or(tx.ValueDate, tx.BusinessDate), EntryDate: tx.BusinessDate,
			Mark: mark, Cents: cents(t, tx.Amount), Type: wantType,
			CustomerRef: cmp.Or(tx.CustomerReference, tx.CheckNumber, "NONREF"), BankRef: tx.BankReference,
			Details: x(tx.ID), Narrative: l.Narrative,
		}
		if !reflect.DeepEqual(l, w) {
			t.Errorf(":61: of %s:\n got %+v\nwant %+v", tx.ID, l, w)
		}
		statementtest.CheckNarrative(t, tx.ID, l.Narrative, tx.Description, cmp.Or(tx.Payee, tx.Counterparty), tx.Memo, tx.CustomerReference)
	}
	statementtest.Reconcile(t, p, d.PeriodStart, d.PeriodEnd)
}

// TestReadMT940Refuses: the reader the tests rely on is strict.
func TestReadMT940Refuses(t *testing.T) {
	good := string(write(t, statementtest.Fixture()))
	if _, err := statementtest.ReadMT940([]byte(good)); err != nil {
		t.Fatalf("the good message is refused: %v", err)
	}
	for name, bad := range map[string]string{
		"no end":            strings.TrimSuffix(good, "-\r\n"),
		"LF lines":          strings.ReplaceAll(good, "\r\n", "\n"),
		"underscore":        strings.Replace(good, "tx-0001", "tx_0001", 1),
		"bad value date":    strings.Replace(good, ":61:250303", ":61:251303", 1),
		"bad amount":        strings.Replace(good, "C2500,00", "C2500.00", 1),
		"long reference":    strings.Replace(good, "INV-2025-031//", "INV-2025-031-ABCDEF//", 1),
		"unknown tag":       strings.Replace(good, ":28C:", ":28D:", 1),
		"bad balance":       strings.Replace(good, ":62F:C", ":62F:X", 1),
		"long continuation": strings.Replace(good, "tx-0002", strings.Repeat("x", 66), 1),
		"seven :86: lines":  strings.Replace(good, ":86:Interest", ":86:Interest"+strings.Repeat("\r\nmore", 6), 1),
	} {
		if bad == good {
			t.Fatalf("%s: the mutation did not apply", name)
		}
		if _, err := statementtest.ReadMT940([]byte(bad)); err == nil {
			t.Errorf("%s: ReadMT940 accepted it", name)
		}
	}
}

func TestX(t *testing.T) {
	for in, want := range map[string]string{
		"Dépôt — Québec":         "Depot - Quebec",
		"a_b & <c> \"d\" #1 ; @": "a-b + (c) 'd' 1",
		"Œuvre  Straße":          "OEuvre Strasse",
	} {
		if got := mt940.X(in); got != want {
			t.Errorf("X(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNarrativeLimits(t *testing.T) {
	tx := store.Transaction{Description: strings.Repeat("word ", 200), Memo: ":colon first"}
	lines := mt940.Narrative(tx)
	if len(lines) != 6 {
		t.Errorf("lines = %d, want 6", len(lines))
	}
	for _, l := range lines {
		if len(l) > 65 || strings.HasPrefix(l, ":") || strings.HasPrefix(l, "-") {
			t.Errorf("bad narrative line %q", l)
		}
	}
}

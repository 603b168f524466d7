package ofx_test

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aclindsa/ofxgo"
	"golang.org/x/text/encoding/charmap"

	"github.com/bankfeed/bankfeed/dataapi/export/ofx"
	"github.com/bankfeed/bankfeed/dataapi/export/statement"
	"github.com/bankfeed/bankfeed/dataapi/export/statementtest"
	"github.com/bankfeed/bankfeed/store"
)

func write(t *testing.T, d statement.Document, dl ofx.Dialect) []byte {
	t.Helper()
	tot, err := statement.Prove(t.Context(), &d, false)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := ofx.Write(t.Context(), &buf, &d, tot, dl); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDialects(t *testing.T) {
	for _, c := range []struct {
		name string
		dl   ofx.Dialect
	}{{"statement.ofx", ofx.OFX1}, {"statement.ofx2", ofx.OFX2}, {"statement.qbo", ofx.QBO}, {"statement.qfx", ofx.QFX}} {
		t.Run(c.name, func(t *testing.T) {
			d := statementtest.Fixture()
			out := write(t, d, c.dl)
			var err error
			statementtest.Golden(t, c.name, out)

			if c.dl == ofx.OFX2 {
				// The schema's target namespace is ofx.net's; real files keep a
				// bare <OFX>, so validate a namespaced copy.
				ns := bytes.Replace(out, []byte("<OFX>"), []byte(`<ofx:OFX xmlns:ofx="http://ofx.net/types/2003/04">`), 1)
				ns = bytes.Replace(ns, []byte("</OFX>"), []byte("</ofx:OFX>"), 1)
				defer statementtest.XMLLint(t, "ofx2/OFX2_Protocol.xsd", ns) // last: it skips without xmllint
			} else if c.dl == ofx.OFX1 {
				if !bytes.Contains(out, []byte("ENCODING:UTF-8\r\nCHARSET:NONE\r\n")) || !utf8.Valid(out) {
					t.Error("OFX 1 is not UTF-8 as its header declares")
				}
				if bytes.Contains(out, []byte("INTU.BID")) {
					t.Error("INTU.BID is Intuit's, for QBO and QFX only")
				}
			} else {
				if !bytes.Contains(out, []byte("<INTU.BID>3000\n")) {
					t.Error("INTU.BID missing")
				}
				// Windows-1252, as the header's CHARSET says: accents kept.
				if !bytes.Contains(out, []byte("ENCODING:USASCII\r\nCHARSET:1252\r\n")) || utf8.Valid(out) {
					t.Error("QBO/QFX are not in Windows-1252")
				}
				text, err := charmap.Windows1252.NewDecoder().Bytes(out)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Contains(text, []byte("<MEMO>Dépôt direct — Client Érable &amp; Fils\n")) {
					t.Error("QBO/QFX lost the accents or the dash")
				}
			}

			parse := out
			if c.dl == ofx.QBO || c.dl == ofx.QFX {
				// ofxgo ignores CHARSET and reads UTF-8 only.
				if parse, err = charmap.Windows1252.NewDecoder().Bytes(out); err != nil {
					t.Fatal(err)
				}
			}
			resp, err := ofxgo.ParseResponse(bytes.NewReader(parse))
			if err != nil {
				t.Fatalf("ofxgo cannot parse it: %v", err)
			}
			if ok, err := resp.Valid(); !ok {
				t.Fatalf("ofxgo: not valid OFX: %v", err)
			}
			if len(resp.Bank) != 1 {
				t.Fatalf("bank messages = %d", len(resp.Bank))
			}
			st := resp.Bank[0].(*ofxgo.StatementResponse)
			if got := st.BankAcctFrom.AcctID.String(); got != d.Account.ID {
				t.Errorf("ACCTID %q", st.BankAcctFrom.AcctID)
			}
			if strings.Contains(string(out), d.Account.Number) {
				t.Error("the full account number must never be written")
			}
			closing, _ := statement.Cents(d.ClosingLedger)
			opening, _ := statement.Cents(d.OpeningLedger)
			p := statementtest.Parsed{Opening: opening, Closing: cents(t, st.BalAmt), Count: -1, Credits: -1, Debits: -1}
			if p.Closing != closing {
				t.Errorf("LEDGERBAL %d, want %d", p.Closing, closing)
			}
			if st.AvailBalAmt == nil || cents(t, *st.AvailBalAmt) != 2027834 {
				t.Errorf("AVAILBAL %v", st.AvailBalAmt)
			}
			loc := store.Toronto()
			for _, tx := range st.BankTranList.Transactions {
				p.Entries = append(p.Entries, statementtest.Entry{ID: tx.FiTID.String(), Date: store.DateOf(tx.DtPosted.Time, loc), Cents: cents(t, tx.TrnAmt)})
				if h, m, _ := tx.DtPosted.UTC().Clock(); h != 12 || m != 0 {
					t.Errorf("DTPOSTED is not the business date at noon UTC: %v", tx.DtPosted)
				}
				if tx.DtUser == nil || tx.DtUser.Location().String() == "UTC" {
					t.Errorf("DTUSER is not the moment in the bank's zone: %v", tx.DtUser)
				}
			}
			statementtest.Reconcile(t, p, d.PeriodStart, d.PeriodEnd)
			if len(p.Entries) != 7 || p.Entries[0].ID != "tx_0001" {
				t.Errorf("FITIDs %v", p.Entries)
			}
		})
	}
}

func cents(t *testing.T, a ofxgo.Amount) int64 {
	t.Helper()
	c, ok := statement.Cents(store.Money(mustDecimal(t, a.String())))
	if !ok {
		t.Fatalf("amount %s", a.String())
	}
	return c
}

package ofx_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/aclindsa/ofxgo"

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
	}{{"statement.ofx", ofx.OFX2}, {"statement.qbo", ofx.QBO}, {"statement.qfx", ofx.QFX}} {
		t.Run(c.name, func(t *testing.T) {
			d := statementtest.Fixture()
			out := write(t, d, c.dl)
			statementtest.Golden(t, c.name, out)

			if c.dl == ofx.OFX2 {
				// The schema's target namespace is ofx.net's; real files keep a
				// bare <OFX>, so validate a namespaced copy.
				ns := bytes.Replace(out, []byte("<OFX>"), []byte(`<ofx:OFX xmlns:ofx="http://ofx.net/types/2003/04">`), 1)
				ns = bytes.Replace(ns, []byte("</OFX>"), []byte("</ofx:OFX>"), 1)
				defer statementtest.XMLLint(t, "ofx2/OFX2_Protocol.xsd", ns) // last: it skips without xmllint
			} else {
				if !bytes.Contains(out, []byte("<INTU.BID>3000\n")) {
					t.Error("INTU.BID missing")
				}
				for _, b := range out {
					if b >= 0x80 {
						t.Fatal("SGML dialect is not ASCII")
					}
				}
			}

			resp, err := ofxgo.ParseResponse(bytes.NewReader(out))
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
			if got := st.BankAcctFrom.AcctID.String(); got != statement.Last(d.Account.ID, 22) || len(got) > 22 {
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
				if _, off := tx.DtPosted.Zone(); off != -5*3600 && off != -4*3600 {
					t.Errorf("DTPOSTED not in the bank's zone: %v", tx.DtPosted)
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

package ofx_test

import (
	"strings"
	"testing"

	"github.com/bankfeed/bankfeed/dataapi/export/ofx"
	"github.com/bankfeed/bankfeed/dataapi/export/statementtest"
	"github.com/bankfeed/bankfeed/store"
)

// TestImporters feeds every dialect to the importers that found issue 13
// §4's findings and checks what they read: the text with its accents and
// dashes, every entry on its business date whatever the reader does with
// the offset, and the account ID whole.
func TestImporters(t *testing.T) {
	d := statementtest.Fixture()
	// A generated ID (store.NewID: "acc_" + 20 characters) is longer than
	// OFX's 22-character ACCTID.
	d.Account.ID = "acc_7k3mzq2xw4bd5nfh6tja"
	entries := statementtest.FixtureEntries()
	for i := range entries {
		entries[i].AccountID = d.Account.ID
	}
	d.Entries = statementtest.FromSlice(entries)
	want := map[string]store.Transaction{}
	for _, tx := range entries {
		if tx.Status == store.Posted {
			want[tx.ID] = tx
		}
	}
	readers := []struct {
		name string
		read func(testing.TB, []byte) statementtest.OFXRead
	}{{"ofxparse", statementtest.OFXParse}, {"libofx", statementtest.OFXDump}}
	for _, dl := range []struct {
		name string
		dl   ofx.Dialect
	}{{"ofx1", ofx.OFX1}, {"ofx2", ofx.OFX2}, {"qbo", ofx.QBO}, {"qfx", ofx.QFX}} {
		out := write(t, d, dl.dl)
		for _, rd := range readers {
			if dl.dl == ofx.OFX2 && rd.name == "ofxparse" {
				// ofxparse decodes any OFX 2 file as ASCII (it reads an
				// encoding only from OFX 1 headers): format=ofx, OFX 1.0.2
				// in UTF-8, is the file for Odoo.
				continue
			}
			t.Run(dl.name+"/"+rd.name, func(t *testing.T) {
				r := rd.read(t, out)
				if r.AccountID != "7k3mzq2xw4bd5nfh6tja" {
					t.Errorf("ACCTID read as %q, want the ID without its acc_ prefix (20 characters)", r.AccountID)
				}
				if len(r.Transactions) != len(want) {
					t.Fatalf("read %d entries, want %d", len(r.Transactions), len(want))
				}
				for _, got := range r.Transactions {
					tx := want[got.ID]
					if day := store.Date(got.Date.UTC().Format("2006-01-02")); day != tx.BusinessDate {
						t.Errorf("%s: DTPOSTED read as %s (UTC %s), business date %s", got.ID, day, got.Date.UTC(), tx.BusinessDate)
					}
				}
				byID := map[string]statementtest.OFXTransaction{}
				for _, got := range r.Transactions {
					byID[got.ID] = got
				}
				if p := byID["tx_0001"].Payee; p != "Érable & Fils Ltée" {
					t.Errorf("payee %q, want the accents kept", p)
				}
				if m := byID["tx_0001"].Memo; m != "Dépôt direct — Client Érable & Fils" {
					t.Errorf("memo %q, want the accents and the dash kept", m)
				}
				if p := byID["tx_0004"].Payee; p != "Müller GmbH" {
					t.Errorf("payee %q", p)
				}
				if m := byID["tx_0004"].Memo; !strings.HasSuffix(m, "including travel expenses and taxes") {
					t.Errorf("memo %q cut", m)
				}
			})
		}
	}
}

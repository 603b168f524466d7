package export_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/bankfeed/bankfeed/dataapi/export"
	"github.com/bankfeed/bankfeed/dataapi/export/statementtest"
	"github.com/bankfeed/bankfeed/store"
)

func TestNegotiate(t *testing.T) {
	for _, c := range []struct{ accept, format, want string }{
		{"", "", "pdf"},
		{"*/*", "", "pdf"},
		{"application/pdf", "", "pdf"},
		{"application/json", "", "json"},
		{`application/xml; profile="camt.053.001.02"`, "", "camt053"},
		{`application/xml; profile="camt.053.001.08"`, "", "camt053v8"},
		{`application/xml;profile=camt.052.001.02`, "", "camt052"},
		{"application/xml", "", "camt053"},
		{`text/plain; profile="bai2"`, "", "bai2"},
		{`text/plain; profile="mt940"`, "", "mt940"},
		{"text/plain", "", "bai2"},
		{"application/x-ofx", "", "ofx"},
		{`application/x-ofx; profile="ofx2"`, "", "ofx2"},
		{"", "ofx2", "ofx2"},
		{"", "ofx1", "ofx"},
		{"application/vnd.intu.qbo", "", "qbo"},
		{"application/vnd.intu.qfx", "", "qfx"},
		{"text/csv", "", "csv"},
		{`text/csv; profile="quickbooks4"`, "", "csv-quickbooks4"},
		{`text/csv; profile=xero`, "", "csv-xero"},
		{"text/*", "", "bai2"},
		{"text/html;q=1, text/csv;q=0.5, application/pdf;q=0.1", "", "csv"},
		{"application/pdf;q=0, application/json", "", "json"},
		{"application/json", "bai2", "bai2"}, // format= wins
		{"", "camt.053.001.08", "camt053v8"},
		{"", "CAMT053", "camt053"},
		{"", "qbo", "qbo"},
		{"", "csv;profile=quickbooks3", "csv-quickbooks3"},
		{"", "xero", "csv-xero"},
		{"", "text/csv; profile=quickbooks3", "csv-quickbooks3"},
	} {
		f, err := export.Negotiate(c.accept, c.format)
		if err != nil || f.Name != c.want {
			t.Errorf("Negotiate(%q, %q) = %q, %v; want %q", c.accept, c.format, f.Name, err, c.want)
		}
	}
	// An unknown format= name is answered with the format names (issue 13
	// §5), not the media types, which format= does not take as names.
	_, err := export.Negotiate("", "docx")
	var na *export.NotAcceptableError
	if !errors.As(err, &na) || !na.Format || !slices.Equal(na.Supported, export.Names()) ||
		!strings.Contains(err.Error(), `unknown format "docx"; formats: pdf, json, camt053,`) || strings.Contains(err.Error(), "/") {
		t.Errorf("unknown format= answered %v", err)
	}
	for _, c := range []struct{ accept, format string }{
		{"text/html", ""}, {"application/xml; profile=camt.054.001.02", ""},
		{"application/pdf;q=0", ""}, {"image/png, text/html", ""}, {"", "text/html"},
	} {
		_, err := export.Negotiate(c.accept, c.format)
		var na *export.NotAcceptableError
		if !errors.As(err, &na) {
			t.Errorf("Negotiate(%q, %q) = %v, want *NotAcceptableError", c.accept, c.format, err)
			continue
		}
		if len(na.Supported) != len(export.Formats()) || !strings.Contains(err.Error(), `application/xml; profile="camt.053.001.02"`) {
			t.Errorf("406 list incomplete: %v", err)
		}
	}
}

func TestContentTypes(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range export.Formats() {
		ct := f.ContentType()
		if seen[ct] {
			t.Errorf("content type %q is ambiguous", ct)
		}
		seen[ct] = true
		// Every advertised content type negotiates back to its own format.
		if g, err := export.Negotiate(ct, ""); err != nil || g.Name != f.Name {
			t.Errorf("Negotiate(%q) = %q, %v", ct, g.Name, err)
		}
	}
	if export.Formats()[0].Name != "pdf" {
		t.Error("PDF must be the default")
	}
}

// TestWriteEveryFormat renders the fixture in every format through the
// public entry point.
func TestWriteEveryFormat(t *testing.T) {
	for _, f := range export.Formats() {
		t.Run(f.Name, func(t *testing.T) {
			d := statementtest.Fixture()
			d.IncludePending = true
			var buf bytes.Buffer
			if err := export.Write(t.Context(), &buf, f, d); err != nil {
				t.Fatal(err)
			}
			if buf.Len() < 200 {
				t.Errorf("suspiciously short output: %q", buf.String())
			}
			if got := f.Filename(&d); got != "stm_demo0202503."+f.Name+f.Extension {
				t.Errorf("Filename = %q", got)
			}
			if f.MediaType != "application/pdf" {
				if strings.Contains(buf.String(), d.Account.Number) {
					t.Error("full account number written")
				}
				return
			}
			// A PDF's page streams are compressed: only its text can show
			// the number. Its own subtest, as it skips without pdftotext.
			t.Run("text", func(t *testing.T) {
				s := statementtest.PDFText(t, buf.Bytes())
				if !strings.Contains(s, d.Account.DisplayNumber) {
					t.Fatalf("the masked number %s is not in the text, so its absence proves nothing:\n%s", d.Account.DisplayNumber, s)
				}
				if strings.Contains(s, d.Account.Number) {
					t.Error("full account number written")
				}
			})
		})
	}
}

type countingWriter struct{ n int }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

// TestRefusesWithoutWriting: a document that does not reconcile is refused
// with a *ReconcileError naming the statement, and nothing is written.
func TestRefusesWithoutWriting(t *testing.T) {
	breakers := map[string]func(d *export.Document, txs []store.Transaction) []store.Transaction{
		"closing off by a cent": func(d *export.Document, txs []store.Transaction) []store.Transaction {
			d.ClosingLedger = d.ClosingLedger.Add(decimal.New(1, -2))
			return txs
		},
		"missing entry": func(d *export.Document, txs []store.Transaction) []store.Transaction {
			return append(txs[:2:2], txs[3:]...)
		},
		"duplicated entry": func(d *export.Document, txs []store.Transaction) []store.Transaction {
			return append(txs[:3:3], txs[2:]...)
		},
		"entry outside the period": func(d *export.Document, txs []store.Transaction) []store.Transaction {
			d.PeriodEnd = "2025-03-30"
			return txs
		},
		"stated count differs": func(d *export.Document, txs []store.Transaction) []store.Transaction {
			d.Expected.EntryCount = 8
			return txs
		},
		"stored running balance differs": func(d *export.Document, txs []store.Transaction) []store.Transaction {
			txs[4].RunningBalance = txs[4].RunningBalance.Add(decimal.New(1, 0))
			return txs
		},
		"sub-cent amount": func(d *export.Document, txs []store.Transaction) []store.Transaction {
			txs[0].Amount = decimal.RequireFromString("2500.001")
			return txs
		},
		"entry of another account": func(d *export.Document, txs []store.Transaction) []store.Transaction {
			txs[1].AccountID = "acc_other"
			return txs
		},
		"daily balance differs": func(d *export.Document, txs []store.Transaction) []store.Transaction {
			d.Days = []store.DailyBalance{{BusinessDate: "2025-03-05", OpeningLedger: decimal.RequireFromString("14845.67"), ClosingLedger: decimal.RequireFromString("13566.10")}}
			return txs
		},
	}
	for name, brk := range breakers {
		for _, f := range export.Formats() {
			d := statementtest.Fixture()
			d.Entries = statementtest.FromSlice(brk(&d, statementtest.FixtureEntries()))
			var w countingWriter
			err := export.Write(t.Context(), &w, f, d)
			var re *export.ReconcileError
			if !errors.As(err, &re) || re.StatementID != "stm_demo0202503" {
				t.Errorf("%s, %s: err = %v, want *ReconcileError naming the statement", name, f.Name, err)
			}
			if w.n != 0 {
				t.Errorf("%s, %s: %d bytes written before the refusal", name, f.Name, w.n)
			}
		}
	}
	// The daily-balance breaker is a real check: correct figures pass.
	d := statementtest.Fixture()
	d.Days = []store.DailyBalance{{BusinessDate: "2025-03-05", OpeningLedger: decimal.RequireFromString("14845.67"), ClosingLedger: decimal.RequireFromString("13566.11"),
		OpeningAvailable: decimal.RequireFromString("14000"), ClosingAvailable: decimal.RequireFromString("13000")}}
	f, _ := export.Negotiate("", "bai2")
	var buf bytes.Buffer
	if err := export.Write(t.Context(), &buf, f, d); err != nil {
		t.Fatal(err)
	}
	joined := strings.ReplaceAll(buf.String(), "/\n88,", ",") // undo 88 continuations
	if !strings.Contains(joined, ",040,1400000,,,045,1300000,") {
		t.Errorf("stored daily available balances not reported in BAI2 03:\n%s", buf.String())
	}
}

func TestInvalidDocument(t *testing.T) {
	d := statementtest.Fixture()
	d.Account.Currency = "cad"
	f, _ := export.Negotiate("", "csv")
	if err := export.Write(t.Context(), &countingWriter{}, f, d); !errors.Is(err, export.ErrInvalidDocument) {
		t.Errorf("err = %v", err)
	}
}

// TestChangedUnderneath: a second pass that sees other entries than the
// proof (no snapshot) is reported, so the caller aborts the response.
func TestChangedUnderneath(t *testing.T) {
	d := statementtest.Fixture()
	txs := statementtest.FixtureEntries()
	calls := 0
	d.Entries = func(ctx context.Context, yield func(store.Transaction) error) error {
		calls++
		list := txs
		if calls > 1 {
			list = txs[:3]
		}
		return statementtest.FromSlice(list)(ctx, yield)
	}
	f, _ := export.Negotiate("", "csv")
	var re *export.ReconcileError
	if err := export.Write(t.Context(), &bytes.Buffer{}, f, d); !errors.As(err, &re) {
		t.Errorf("err = %v, want *ReconcileError", err)
	}
}

func TestPDFTooLarge(t *testing.T) {
	d := statementtest.Generated(10001)
	f, _ := export.Negotiate("application/pdf", "")
	var w countingWriter
	err := export.Write(t.Context(), &w, f, d)
	var tl *export.TooLargeError
	if !errors.As(err, &tl) || tl.Limit != 10000 || w.n != 0 {
		t.Errorf("err = %v, %d bytes written", err, w.n)
	}
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	f, _ := export.Negotiate("", "bai2")
	var w countingWriter
	if err := export.Write(ctx, &w, f, statementtest.Fixture()); !errors.Is(err, context.Canceled) || w.n != 0 {
		t.Errorf("err = %v, %d bytes", err, w.n)
	}
}

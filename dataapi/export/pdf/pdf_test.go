package pdf_test

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/bankfeed/bankfeed/dataapi/export/pdf"
	"github.com/bankfeed/bankfeed/dataapi/export/statement"
	"github.com/bankfeed/bankfeed/dataapi/export/statementtest"
)

func render(t *testing.T, d statement.Document, opt pdf.Options) []byte {
	t.Helper()
	tot, err := statement.Prove(t.Context(), &d, false)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := pdf.Write(t.Context(), &buf, &d, tot, opt); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(buf.Bytes(), []byte("%PDF-")) || !bytes.Contains(buf.Bytes(), []byte("%%EOF")) {
		t.Fatal("not a PDF")
	}
	return buf.Bytes()
}

func TestStatementEnglish(t *testing.T) {
	d := statementtest.Fixture()
	out := render(t, d, pdf.Options{Uncompressed: true})
	statementtest.Golden(t, "statement-en.pdf", out)
	s := statementtest.PDFText(t, out)
	for _, want := range []string{
		"Bankfeed Demo Bank", "Account statement", "Érable & Fils Ltée", "Operating - Business Chequing - ****9012",
		"2025-03-01 - 2025-03-31", "Opening balance (2025-03-01)", "12,345.67", "Closing balance (2025-03-31)", "20,378.34",
		"Total credits (3)", "12,512.34", "Total debits (4)", "-4,479.67", "Available balance", "20,278.34",
		"Totals (7 entries)", "Page 1 of 1", "Dépôt direct — Client Érable & Fils",
		// running balances after each entry
		"14,845.67", "13,611.11", "13,566.11", "23,566.11", "23,566.10", "20,366.00",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("statement text lacks %q\n%s", want, s)
		}
	}
	if strings.Contains(s, d.Account.Number) || strings.Contains(s, "99.99") {
		t.Error("full account number or a pending entry printed")
	}
}

func TestStatementFrench(t *testing.T) {
	d := statementtest.Fixture()
	d.Lang = "fr"
	s := statementtest.PDFText(t, render(t, d, pdf.Options{}))
	for _, want := range []string{"Relevé de compte", "Solde d'ouverture", "12 345,67", "Solde de clôture", "20 378,34", "Page 1 de 1", "Débit", "Crédit"} {
		if !strings.Contains(s, want) {
			t.Errorf("French statement lacks %q\n%s", want, s)
		}
	}
}

func TestPageNumbers(t *testing.T) {
	d := statementtest.Generated(400)
	s := statementtest.PDFText(t, render(t, d, pdf.Options{}))
	m := regexp.MustCompile(`Page (\d+) of (\d+)`).FindAllStringSubmatch(s, -1)
	if len(m) < 3 {
		t.Fatalf("want several pages, got %d", len(m))
	}
	n := strconv.Itoa(len(m))
	for i, p := range m {
		if p[1] != strconv.Itoa(i+1) || p[2] != n {
			t.Errorf("page label %q, want Page %d of %s", p[0], i+1, n)
		}
	}
}

func TestTooLarge(t *testing.T) {
	d := statementtest.Generated(3)
	err := pdf.Write(t.Context(), &bytes.Buffer{}, &d, statement.Totals{Count: pdf.MaxEntries + 1}, pdf.Options{})
	if _, ok := err.(*statement.TooLargeError); !ok {
		t.Errorf("err = %v", err)
	}
}

package pdf_test

import (
	"strings"
	"testing"

	"github.com/bankfeed/bankfeed/dataapi/export/pdf"
	"github.com/bankfeed/bankfeed/dataapi/export/statementtest"
)

// TestLongDescriptionsWrap: a long description is wrapped onto as many
// lines as it needs, never cut with "..." (issue 13 §4): the statement is
// the record a business files, every word of it counts.
func TestLongDescriptionsWrap(t *testing.T) {
	for _, lang := range []string{"en", "fr"} {
		t.Run(lang, func(t *testing.T) {
			d := statementtest.Fixture()
			d.Lang = lang
			s := statementtest.PDFText(t, render(t, d, pdf.Options{}))
			if strings.Contains(s, "...") || strings.Contains(s, "…") {
				t.Errorf("a description was cut:\n%s", s)
			}
			// The wire's description (tx_0004), word by word in order.
			desc := "Incoming wire from Müller GmbH, ref. 2025/03/WIRE-77; payment of invoices 1001, 1002 and 1003 for consulting services rendered in February, including travel expenses and taxes"
			rest := s[strings.Index(s, "Incoming wire"):]
			for _, w := range strings.Fields(desc) {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("word %q of the description missing (or out of order):\n%s", w, s)
				}
				rest = rest[i+len(w):]
			}
			if !strings.Contains(s, "20,378.34") && !strings.Contains(s, "20 378,34") {
				t.Error("closing balance missing")
			}
		})
	}
}

package dataapi_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/bankfeed/bankfeed/dataapi/export/statementtest"
	"github.com/bankfeed/bankfeed/store"
)

// TestPDFInTheHoldersLanguage is issue 13 §4: a PDF statement is the
// business's document, so it reads in the language the bank keeps for its
// holder; the fetching software's Accept-Language (usually its server's
// default) decides only when the bank keeps none.
func TestPDFInTheHoldersLanguage(t *testing.T) {
	e := newEnv(t, envOptions{})
	seedExports(t, e, "")
	tok := e.token(t)
	path := exportPath(e.f.sav, "format", "pdf", "startDate", "2025-02-01", "endDate", "2025-02-28")
	langTag := regexp.MustCompile(`/Lang \(([A-Za-z-]+)\)`)
	pdf := func(t *testing.T, accept string) (tag string, body []byte) {
		t.Helper()
		r := e.get(t, tok, path, "Accept-Language", accept)
		wantStatus(t, r, 200)
		m := langTag.FindSubmatch(r.body)
		if m == nil {
			t.Fatalf("the PDF names no language")
		}
		return string(m[1]), r.body
	}
	if tag, _ := pdf(t, "fr-CA,fr;q=0.9"); tag != "fr-CA" {
		t.Errorf("no language on record, Accept-Language fr-CA: the PDF is %s", tag)
	}
	if tag, _ := pdf(t, "en-US"); tag != "en-CA" {
		t.Errorf("no language on record, Accept-Language en-US: the PDF is %s", tag)
	}

	if _, err := e.st.UpdateLegalEntity(t.Context(), e.f.leOps, func(le store.LegalEntity) (store.LegalEntity, error) {
		le.Contact.Language = "fr"
		return le, nil
	}); err != nil {
		t.Fatal(err)
	}
	tag, body := pdf(t, "en-US")
	if tag != "fr-CA" {
		t.Errorf("a French holder's PDF fetched with Accept-Language en-US is %s", tag)
	}
	t.Run("text", func(t *testing.T) {
		if s := statementtest.PDFText(t, body); !strings.Contains(s, "Solde d'ouverture") || strings.Contains(s, "Opening balance") {
			t.Errorf("a French holder's PDF reads:\n%s", s)
		}
	})
}

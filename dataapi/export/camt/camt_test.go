package camt_test

import (
	"bytes"
	"encoding/xml"
	"strconv"
	"strings"
	"testing"

	"github.com/bankfeed/bankfeed/dataapi/export/camt"
	"github.com/bankfeed/bankfeed/dataapi/export/statement"
	"github.com/bankfeed/bankfeed/dataapi/export/statementtest"
	"github.com/bankfeed/bankfeed/store"
)

// parsed mirrors the parts of camt.053/052 (both versions) an importer reads.
type parsed struct {
	Stmt []block `xml:"BkToCstmrStmt>Stmt"`
	Rpt  []block `xml:"BkToCstmrAcctRpt>Rpt"`
}

type block struct {
	ID  string `xml:"Id"`
	Bal []struct {
		Cd  string `xml:"Tp>CdOrPrtry>Cd"`
		Amt string `xml:"Amt"`
		Ind string `xml:"CdtDbtInd"`
	} `xml:"Bal"`
	Summary struct {
		Count   int    `xml:"TtlNtries>NbOfNtries"`
		CrCount int    `xml:"TtlCdtNtries>NbOfNtries"`
		CrSum   string `xml:"TtlCdtNtries>Sum"`
		DrCount int    `xml:"TtlDbtNtries>NbOfNtries"`
		DrSum   string `xml:"TtlDbtNtries>Sum"`
	} `xml:"TxsSummry"`
	Ntry []struct {
		Amt string `xml:"Amt"`
		Ind string `xml:"CdtDbtInd"`
		Sts struct {
			Text string `xml:",chardata"`
			Cd   string `xml:"Cd"`
		} `xml:"Sts"`
		Date   string   `xml:"BookgDt>Dt"`
		Ref    string   `xml:"AcctSvcrRef"`
		Domain string   `xml:"BkTxCd>Domn>Cd"`
		BAI    string   `xml:"BkTxCd>Prtry>Cd"`
		E2E    string   `xml:"NtryDtls>TxDtls>Refs>EndToEndId"`
		Ustrd  []string `xml:"NtryDtls>TxDtls>RmtInf>Ustrd"`
	} `xml:"Ntry"`
}

func cents(t *testing.T, s string) int64 {
	t.Helper()
	f := strings.Replace(s, ".", "", 1)
	c, err := strconv.ParseInt(f, 10, 64)
	if err != nil || !strings.Contains(s, ".") || len(s)-strings.Index(s, ".") != 3 {
		t.Fatalf("amount %q is not a two-decimal amount", s)
	}
	return c
}

func TestWrite(t *testing.T) {
	for _, m := range []camt.Message{camt.Statement02, camt.Statement08, camt.Report02, camt.Report08} {
		t.Run(m.Name, func(t *testing.T) {
			d := statementtest.Fixture()
			d.IncludePending = m.Pending()
			tot, err := statement.Prove(t.Context(), &d, m.Pending())
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := camt.Write(t.Context(), &buf, &d, tot, m); err != nil {
				t.Fatal(err)
			}
			statementtest.Golden(t, m.Name, buf.Bytes())
			checkParsed(t, buf.Bytes(), m, &d)
			statementtest.XMLLint(t, "iso20022/"+m.Name+".xsd", buf.Bytes()) // last: it skips without xmllint
		})
	}
}

func checkParsed(t *testing.T, data []byte, m camt.Message, d *statement.Document) {
	t.Helper()
	var p parsed
	if err := xml.Unmarshal(data, &p); err != nil {
		t.Fatal(err)
	}
	blocks := append(p.Stmt, p.Rpt...)
	if len(blocks) != 1 {
		t.Fatalf("want one statement block, got %d", len(blocks))
	}
	b := blocks[0]
	if b.ID != d.StatementID {
		t.Errorf("statement Id = %q", b.ID)
	}
	bal := map[string]int64{}
	for _, x := range b.Bal {
		c := cents(t, x.Amt)
		if x.Ind == "DBIT" {
			c = -c
		}
		bal[x.Cd] = c
	}
	closing := "CLBD"
	if m.Pending() {
		closing = "ITBD"
	}
	pr := statementtest.Parsed{Opening: bal["OPBD"], Closing: bal[closing], Count: b.Summary.Count,
		Credits: cents(t, b.Summary.CrSum), Debits: cents(t, b.Summary.DrSum)}
	pending := 0
	for _, n := range b.Ntry {
		sts := strings.TrimSpace(n.Sts.Text)
		if n.Sts.Cd != "" {
			sts = n.Sts.Cd
		}
		if n.Ref == "" || n.Domain == "" {
			t.Errorf("entry without AcctSvcrRef or BkTxCd: %+v", n)
		}
		if sts == "PDNG" {
			pending++
			continue
		}
		if sts != "BOOK" {
			t.Errorf("entry %s status %q", n.Ref, sts)
		}
		c := cents(t, n.Amt)
		if n.Ind == "DBIT" {
			c = -c
		}
		pr.Entries = append(pr.Entries, statementtest.Entry{ID: n.Ref, Date: store.Date(n.Date), Cents: c})
		for _, u := range n.Ustrd {
			if len([]rune(u)) > 140 {
				t.Errorf("Ustrd longer than 140: %q", u)
			}
		}
	}
	statementtest.Reconcile(t, pr, d.PeriodStart, d.PeriodEnd)
	if m.Pending() != (pending == 1) {
		t.Errorf("pending entries = %d for %s", pending, m.Name)
	}
	if want := 7; len(pr.Entries) != want {
		t.Errorf("booked entries = %d, want %d", len(pr.Entries), want)
	}
	if got := bal["OPBD"]; got != 1234567 {
		t.Errorf("OPBD = %d", got)
	}
	if got := bal[closing]; got != 2037834 {
		t.Errorf("%s = %d", closing, got)
	}
}

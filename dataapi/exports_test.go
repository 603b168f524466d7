package dataapi_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/internal/syncbuf"

	"github.com/aclindsa/ofxgo"
	moov "github.com/moov-io/bai2/pkg/lib"
	"golang.org/x/text/encoding/charmap"

	"github.com/bankfeed/bankfeed/dataapi/export"
	"github.com/bankfeed/bankfeed/dataapi/export/statementtest"
	"github.com/bankfeed/bankfeed/store"
)

// exportData is the history seedExports gives acc_sav: two or three posted
// entries every weekday from 2024-12-02 to today (2025-03-12), a closed
// daily balance for every weekday before today, and two pending entries
// today.
type exportData struct {
	posted  []store.Transaction // (business date, ID) order
	pending []store.Transaction
	daily   map[store.Date]store.DailyBalance
	first   store.Date
	opening store.Money // before the first entry
}

const exportToday = store.Date("2025-03-12") // businessDate(t0)

// seedExports writes acc_sav's history; corrupt, if set, is a business date
// whose stored closing balance is off by one dollar (the data error an
// export must refuse).
func seedExports(t testing.TB, e *env, corrupt store.Date) exportData {
	t.Helper()
	ctx := context.Background()
	acc := e.f.sav
	x := exportData{daily: map[store.Date]store.DailyBalance{}, first: "2024-12-02", opening: m("5000.00")}
	bal := x.opening
	i := 0
	var txs []store.Transaction
	for day := x.first; day <= exportToday; day = day.AddDays(1) {
		if wd := day.Time().Weekday(); wd == time.Saturday || wd == time.Sunday {
			continue
		}
		open := bal
		for n := range 2 + i%2 {
			i++
			dir := store.Credit
			if i%3 == 0 {
				dir = store.Debit
			}
			amt := m(fmt.Sprintf("%d.%02d", 20+i*13%900, i*7%100))
			bal = bal.Add(store.Signed(amt, dir))
			at := day.Time().Add(9*time.Hour + time.Duration(n)*time.Hour)
			tx := store.Transaction{
				ID: fmt.Sprintf("txn_sav_%s_%d", strings.ReplaceAll(string(day), "-", ""), n), AccountID: acc,
				ExternalID: fmt.Sprintf("sav-%d", i), Status: store.Posted, TransactionAt: at, PostedAt: at,
				BusinessDate: day, ValueDate: day, Amount: amt, Direction: dir,
				Description: fmt.Sprintf("Savings entry %d", i), Payee: "Payee Ltd.", Counterparty: "Counterparty Inc.",
				BankReference: fmt.Sprintf("SREF%05d", i), CustomerReference: fmt.Sprintf("SINV-%d", i),
				Code: store.BankTransactionCode{BAI: map[store.Direction]string{store.Credit: "165", store.Debit: "475"}[dir],
					Domain: "PMNT", Family: "RCDT", SubFamily: "ESCT"},
				RunningBalance: bal, HasRunning: true,
			}
			if dir == store.Debit && i%2 == 0 {
				tx.CheckNumber = strconv.Itoa(2000 + i)
			}
			txs = append(txs, tx)
		}
		if day == exportToday {
			continue // today is not closed
		}
		db := store.DailyBalance{AccountID: acc, BusinessDate: day, OpeningLedger: open, ClosingLedger: bal,
			OpeningAvailable: open.Sub(m("250.00")), ClosingAvailable: bal.Sub(m("250.00")), Closed: true}
		if day == corrupt {
			db.ClosingLedger = db.ClosingLedger.Add(m("1.00"))
		}
		if err := e.st.PutDailyBalance(ctx, db); err != nil {
			t.Fatalf("seed daily balance: %v", err)
		}
		x.daily[day] = db
	}
	x.posted = must(e.st.CreateTransactions(ctx, txs))
	pendAt := exportToday.Time().Add(10 * time.Hour)
	x.pending = must(e.st.CreateTransactions(ctx, []store.Transaction{
		{ID: "txn_sav_pend_1", AccountID: acc, ExternalID: "sav-p1", Status: store.Pending, TransactionAt: pendAt,
			BusinessDate: exportToday, Amount: m("42.00"), Direction: store.Debit, Description: "Card hold 1"},
		{ID: "txn_sav_pend_2", AccountID: acc, ExternalID: "sav-p2", Status: store.Pending, TransactionAt: pendAt,
			BusinessDate: exportToday, Amount: m("17.25"), Direction: store.Credit, Description: "Incoming wire (pending)"},
	}))
	return x
}

// closingOn is the ledger after every posted entry dated on or before d.
func (x exportData) closingOn(d store.Date) store.Money {
	bal := x.opening
	for _, tx := range x.posted {
		if tx.BusinessDate <= d {
			bal = bal.Add(tx.SignedAmount())
		}
	}
	return bal
}

func (x exportData) ids(from, to store.Date) []string {
	var ids []string
	for _, tx := range x.posted {
		if tx.BusinessDate >= from && tx.BusinessDate <= to {
			ids = append(ids, tx.ID)
		}
	}
	return ids
}

func cents(t testing.TB, v store.Money) int64 {
	t.Helper()
	c := v.Shift(2)
	if !c.IsInteger() {
		t.Fatalf("%s has more than two decimals", v)
	}
	return c.IntPart()
}

func centsOf(t testing.TB, s string) int64 {
	t.Helper()
	return cents(t, m(strings.Replace(s, ",", ".", 1)))
}

func exportPath(account string, params ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(params); i += 2 {
		v.Set(params[i], params[i+1])
	}
	p := base + "/accounts/" + account + "/exports"
	if len(v) > 0 {
		p += "?" + v.Encode()
	}
	return p
}

// want is what a file of [from, to] must state.
type want struct {
	from, to         store.Date
	opening, closing int64
	ids              []string // posted entries, in order
	pending          []string // pending entries (intraday report)
}

// checkFile reads an export back the way an importer would, with an
// independent parser where one exists, and checks the balance proof, the
// entries (exactly the range's, by ID) and the format's own totals.
func checkFile(t *testing.T, format string, body []byte, w want) {
	t.Helper()
	p := statementtest.Parsed{Count: -1, Credits: -1, Debits: -1}
	var ids, pending []string
	switch format {
	case "json":
		var doc struct {
			Statement struct {
				Kind           string      `json:"kind"`
				StartDate      store.Date  `json:"startDate"`
				EndDate        store.Date  `json:"endDate"`
				OpeningBalance store.Money `json:"openingBalance"`
				ClosingBalance store.Money `json:"closingBalance"`
				EntryCount     int         `json:"entryCount"`
				TotalCredits   store.Money `json:"totalCredits"`
				TotalDebits    store.Money `json:"totalDebits"`
			} `json:"statement"`
			Transactions []struct {
				TransactionID   string      `json:"transactionId"`
				Status          string      `json:"status"`
				BusinessDate    store.Date  `json:"businessDate"`
				Amount          store.Money `json:"amount"`
				DebitCreditMemo string      `json:"debitCreditMemo"`
			} `json:"transactions"`
		}
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatalf("json: %v", err)
		}
		s := doc.Statement
		if s.StartDate != w.from || s.EndDate != w.to {
			t.Errorf("json period %s..%s", s.StartDate, s.EndDate)
		}
		p.Opening, p.Closing, p.Count = cents(t, s.OpeningBalance), cents(t, s.ClosingBalance), s.EntryCount
		p.Credits, p.Debits = cents(t, s.TotalCredits), cents(t, s.TotalDebits)
		for _, tx := range doc.Transactions {
			if tx.Status == "PENDING" {
				pending = append(pending, tx.TransactionID)
				continue
			}
			c := cents(t, tx.Amount)
			if tx.DebitCreditMemo == "DEBIT" {
				c = -c
			}
			p.Entries = append(p.Entries, statementtest.Entry{ID: tx.TransactionID, Date: tx.BusinessDate, Cents: c})
			ids = append(ids, tx.TransactionID)
		}
	case "camt053", "camt053v8", "camt052", "camt052v8":
		var doc struct {
			Stmt []camtBlock `xml:"BkToCstmrStmt>Stmt"`
			Rpt  []camtBlock `xml:"BkToCstmrAcctRpt>Rpt"`
		}
		if err := xml.Unmarshal(body, &doc); err != nil {
			t.Fatalf("camt: %v", err)
		}
		blocks := append(doc.Stmt, doc.Rpt...)
		if len(blocks) != 1 {
			t.Fatalf("camt: %d statement blocks", len(blocks))
		}
		b := blocks[0]
		if b.From[:min(10, len(b.From))] != string(w.from) || b.To[:min(10, len(b.To))] != string(w.to) {
			t.Errorf("camt FrToDt %s..%s", b.From, b.To)
		}
		bal := map[string]int64{}
		for _, x := range b.Bal {
			c := centsOf(t, x.Amt)
			if x.Ind == "DBIT" {
				c = -c
			}
			bal[x.Cd] = c
		}
		closing := "CLBD"
		if strings.HasPrefix(format, "camt052") {
			closing = "ITBD"
		}
		p.Opening, p.Closing, p.Count = bal["OPBD"], bal[closing], b.Count
		p.Credits, p.Debits = centsOf(t, b.CrSum), centsOf(t, b.DrSum)
		if b.Count == 0 {
			p.Credits, p.Debits = -1, -1 // no sums without entries
		}
		for _, n := range b.Ntry {
			if strings.TrimSpace(n.Sts.Text) == "PDNG" || n.Sts.Cd == "PDNG" {
				pending = append(pending, n.Ref)
				continue
			}
			c := centsOf(t, n.Amt)
			if n.Ind == "DBIT" {
				c = -c
			}
			if n.Domain == "" {
				t.Errorf("camt entry %s without BkTxCd", n.Ref)
			}
			p.Entries = append(p.Entries, statementtest.Entry{ID: n.Ref, Date: store.Date(n.Date), Cents: c})
			ids = append(ids, n.Ref)
		}
		defer statementtest.XMLLint(t, "iso20022/"+camtSchema[format]+".xsd", body) // last: it skips without xmllint
	case "bai2":
		f := moov.NewBai2()
		scan := moov.NewBai2Scanner(bytes.NewReader(body))
		if err := f.Read(&scan); err != nil {
			t.Fatalf("moov-io/bai2 cannot read the file: %v", err)
		}
		if err := f.Validate(); err != nil {
			t.Fatalf("moov-io/bai2 validate: %v", err)
		}
		if days := daysOf(w.from, w.to); len(f.Groups) != days || f.NumberOfGroups != int64(days) {
			t.Errorf("bai2: %d groups (99 says %d), want one per date (%d)", len(f.Groups), f.NumberOfGroups, days)
		}
		lines := strings.Count(strings.TrimRight(string(body), "\n"), "\n") + 1
		if f.SumRecords() != f.NumberOfRecords || f.NumberOfRecords != int64(lines) {
			t.Errorf("bai2 99 records %d, groups sum to %d, file has %d", f.NumberOfRecords, f.SumRecords(), lines)
		}
		if total, err := f.SumGroupControlTotals(); err != nil || total != f.FileControlTotal {
			t.Errorf("bai2 99 control total %s, groups sum to %s (%v)", f.FileControlTotal, total, err)
		}
		for i, g := range f.Groups {
			if total, err := g.SumAccountControlTotals(); err != nil || total != g.GroupControlTotal || g.SumRecords() != g.NumberOfRecords {
				t.Errorf("bai2 group %s: 98 totals do not add up (%v)", g.AsOfDate, err)
			}
			a := g.Accounts[0]
			sums := map[string]int64{}
			control := int64(0)
			for _, s := range a.Summaries {
				v, _ := strconv.ParseInt(s.Amount, 10, 64)
				sums[s.TypeCode] = v
				control += v
			}
			for _, det := range a.Details {
				v, _ := strconv.ParseInt(det.Amount, 10, 64)
				control += v
				if det.TypeCode >= "400" {
					v = -v
				}
				date := store.Date("20" + g.AsOfDate[:2] + "-" + g.AsOfDate[2:4] + "-" + g.AsOfDate[4:6])
				p.Entries = append(p.Entries, statementtest.Entry{ID: det.BankReferenceNumber, Date: date, Cents: v})
			}
			if strconv.FormatInt(control, 10) != a.AccountControlTotal {
				t.Errorf("bai2 %s: 49 control total %s, amounts sum to %d", g.AsOfDate, a.AccountControlTotal, control)
			}
			if i == 0 {
				p.Opening = sums["010"]
			}
			p.Closing = sums["015"]
		}
		ids = nil // BAI2 16 records carry the bank reference, checked by count below
		for range p.Entries {
			ids = append(ids, "")
		}
	case "mt940":
		msg, err := statementtest.ReadMT940(body)
		if err != nil {
			t.Fatalf("%v\n%s", err, clip(body))
		}
		if msg.Opening.Date != w.from || msg.Closing.Date != w.to {
			t.Errorf("mt940 :60F: dated %s, :62F: %s", msg.Opening.Date, msg.Closing.Date)
		}
		p.Opening, p.Closing = msg.Opening.Cents, msg.Closing.Cents
		for _, l := range msg.Lines {
			// '_' is outside the SWIFT X set: the writer sends '-'.
			id := strings.ReplaceAll(l.Details, "-", "_")
			p.Entries = append(p.Entries, statementtest.Entry{ID: id, Date: l.EntryDate, Cents: l.Signed()})
			ids = append(ids, id)
		}
	case "ofx", "ofx2", "qbo", "qfx":
		parse := body
		if format == "qbo" || format == "qfx" {
			// Windows-1252 as their header says; ofxgo reads UTF-8 only.
			var err error
			if parse, err = charmap.Windows1252.NewDecoder().Bytes(body); err != nil {
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
		st := resp.Bank[0].(*ofxgo.StatementResponse)
		p.Opening = w.opening // OFX states no opening balance
		p.Closing = centsOf(t, st.BalAmt.String())
		for _, tx := range st.BankTranList.Transactions {
			id := tx.FiTID.String()
			p.Entries = append(p.Entries, statementtest.Entry{ID: id, Date: store.BusinessDate(tx.DtPosted.Time), Cents: centsOf(t, tx.TrnAmt.String())})
			ids = append(ids, id)
		}
		if format == "ofx2" {
			ns := bytes.Replace(body, []byte("<OFX>"), []byte(`<ofx:OFX xmlns:ofx="http://ofx.net/types/2003/04">`), 1)
			ns = bytes.Replace(ns, []byte("</OFX>"), []byte("</ofx:OFX>"), 1)
			defer statementtest.XMLLint(t, "ofx2/OFX2_Protocol.xsd", ns)
		}
	case "csv", "csv-quickbooks3", "csv-quickbooks4", "csv-xero":
		rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
		if err != nil {
			t.Fatalf("csv: %v", err)
		}
		if len(rows)-1 != len(w.ids) {
			t.Errorf("%s: %d rows, want one per posted entry (%d)", format, len(rows)-1, len(w.ids))
		}
		if format != "csv" {
			return // layouts without IDs or balances: the row count is what an importer checks
		}
		p.Opening, p.Closing = w.opening, w.opening
		for _, r := range rows[1:] {
			c := centsOf(t, r[11])
			p.Entries = append(p.Entries, statementtest.Entry{ID: r[2], Date: store.Date(r[0]), Cents: c})
			ids = append(ids, r[2])
			p.Closing = centsOf(t, r[12]) // the running balance of the last row
		}
	case "pdf":
		if !bytes.HasPrefix(body, []byte("%PDF-")) || !bytes.Contains(body, []byte("%%EOF")) {
			t.Errorf("pdf: not a PDF file")
		}
		// What a reader sees; its own subtest, as it skips without pdftotext.
		t.Run("text", func(t *testing.T) {
			s := statementtest.PDFText(t, body)
			for _, want := range []string{
				"Opening balance (" + string(w.from) + ")", "Closing balance (" + string(w.to) + ")",
				grouped(w.opening), grouped(w.closing), fmt.Sprintf("Totals (%d entries)", len(w.ids)),
			} {
				if !strings.Contains(s, want) {
					t.Errorf("pdf text lacks %q:\n%s", want, s)
				}
			}
			if n := fullAccountNumber.FindString(s); n != "" {
				t.Errorf("pdf text shows the full account number %s", n)
			}
		})
		return
	default:
		t.Fatalf("no check for %s", format)
	}
	if p.Opening != w.opening || p.Closing != w.closing {
		t.Errorf("%s: opening %d, closing %d; want %d, %d", format, p.Opening, p.Closing, w.opening, w.closing)
	}
	statementtest.Reconcile(t, p, w.from, w.to)
	if format == "bai2" {
		if len(ids) != len(w.ids) {
			t.Errorf("bai2: %d detail records, want %d", len(ids), len(w.ids))
		}
	} else if !slices.Equal(ids, w.ids) {
		t.Errorf("%s: entries %v, want %v", format, ids, w.ids)
	}
	if w.pending != nil && !slices.Equal(pending, w.pending) {
		t.Errorf("%s: pending entries %v, want %v", format, pending, w.pending)
	}
}

// fullAccountNumber is the shape of the fixture's account numbers.
var fullAccountNumber = regexp.MustCompile(`\d{5}-\d{3}-\d{7}`)

// grouped writes cents as the English PDF does: 12,345.67.
func grouped(c int64) string {
	sign := ""
	if c < 0 {
		sign, c = "-", -c
	}
	whole := strconv.FormatInt(c/100, 10)
	for i := len(whole) - 3; i > 0; i -= 3 {
		whole = whole[:i] + "," + whole[i:]
	}
	return fmt.Sprintf("%s%s.%02d", sign, whole, c%100)
}

var camtSchema = map[string]string{
	"camt053": "camt.053.001.02", "camt053v8": "camt.053.001.08", "camt052": "camt.052.001.02", "camt052v8": "camt.052.001.08",
}

type camtBlock struct {
	From string `xml:"FrToDt>FrDtTm"`
	To   string `xml:"FrToDt>ToDtTm"`
	Bal  []struct {
		Cd  string `xml:"Tp>CdOrPrtry>Cd"`
		Amt string `xml:"Amt"`
		Ind string `xml:"CdtDbtInd"`
	} `xml:"Bal"`
	Count int    `xml:"TxsSummry>TtlNtries>NbOfNtries"`
	CrSum string `xml:"TxsSummry>TtlCdtNtries>Sum"`
	DrSum string `xml:"TxsSummry>TtlDbtNtries>Sum"`
	Ntry  []struct {
		Amt string `xml:"Amt"`
		Ind string `xml:"CdtDbtInd"`
		Sts struct {
			Text string `xml:",chardata"`
			Cd   string `xml:"Cd"`
		} `xml:"Sts"`
		Date   string `xml:"BookgDt>Dt"`
		Ref    string `xml:"AcctSvcrRef"`
		Domain string `xml:"BkTxCd>Domn>Cd"`
	} `xml:"Ntry"`
}

// apiTx is a transaction as the JSON API states it.
type apiTx struct {
	TransactionID     string      `json:"transactionId"`
	BusinessDate      store.Date  `json:"businessDate"`
	ValueDate         store.Date  `json:"valueDate"`
	DebitCreditMemo   string      `json:"debitCreditMemo"`
	Amount            store.Money `json:"amount"`
	RunningBalance    store.Money `json:"runningBalance"`
	Description       string      `json:"description"`
	Memo              string      `json:"memo"`
	Payee             string      `json:"payee"`
	Counterparty      string      `json:"counterparty"`
	CheckNumber       int64       `json:"checkNumber"`
	Reference         string      `json:"reference"`
	CustomerReference string      `json:"customerReference"`
	Code              struct {
		BAI2 string `json:"bai2"`
	} `json:"bankTransactionCode"`
}

// apiTransactions reads every posted transaction of [from, to] from the
// JSON API, page by page.
func (e *env) apiTransactions(t *testing.T, tok, account string, from, to store.Date) []apiTx {
	t.Helper()
	var all []apiTx
	key := ""
	for {
		path := base + "/accounts/" + account + "/transactions?limit=1000&startDate=" + string(from) + "&endDate=" + string(to)
		if key != "" {
			path += "&pageKey=" + url.QueryEscape(key)
		}
		r := e.get(t, tok, path)
		wantStatus(t, r, 200)
		var page struct {
			Page         pageOut `json:"page"`
			Transactions []apiTx `json:"transactions"`
		}
		r.json(t, &page)
		all = append(all, page.Transactions...)
		if key = page.Page.NextPageKey; key == "" {
			return all
		}
	}
}

// mt940Type is the SWIFT transaction type (field 61, subfield 6) of the
// BAI2 codes seedExports uses.
var mt940Type = map[string]string{"165": "NTRF", "475": "NCHK"}

// checkMT940AgainstAPI compares every field of an MT940 export of account
// [from, to] with what the JSON API says of the same account and range: each
// :61:/:86: with its transaction, :60F:/:62F: with the running balances,
// and :64: with available (the stored closing available balance of to).
func checkMT940AgainstAPI(t *testing.T, e *env, tok, account string, from, to store.Date, available store.Money, body []byte) {
	t.Helper()
	msg, err := statementtest.ReadMT940(body)
	if err != nil {
		t.Fatalf("%v\n%s", err, clip(body))
	}
	txs := e.apiTransactions(t, tok, account, from, to)
	var acct struct {
		Currency struct {
			CurrencyCode string `json:"currencyCode"`
		} `json:"currency"`
	}
	r := e.get(t, tok, base+"/accounts/"+account)
	wantStatus(t, r, 200)
	r.json(t, &acct)
	x := func(s string) string { return strings.ReplaceAll(s, "_", "-") }
	if msg.Account != x(account) {
		t.Errorf(":25:%s, want the account ID %s", msg.Account, account)
	}
	if len(msg.Lines) != len(txs) || len(txs) == 0 {
		t.Fatalf("%d :61: lines, the API lists %d transactions", len(msg.Lines), len(txs))
	}
	first, last := txs[0], txs[len(txs)-1]
	opening := first.RunningBalance.Sub(store.Signed(first.Amount, store.Direction(first.DebitCreditMemo)))
	for _, b := range []struct {
		tag  string
		got  *statementtest.MT940Balance
		date store.Date
		want store.Money
	}{
		{"60F", &msg.Opening, from, opening},
		{"62F", &msg.Closing, to, last.RunningBalance},
		{"64", msg.Available, to, available},
	} {
		want := statementtest.MT940Balance{Date: b.date, Currency: acct.Currency.CurrencyCode, Cents: cents(t, b.want)}
		if b.got == nil || *b.got != want {
			t.Errorf(":%s: %+v, want %+v", b.tag, b.got, want)
		}
	}
	for i, l := range msg.Lines {
		tx := txs[i]
		ref := tx.CustomerReference
		if ref == "" && tx.CheckNumber > 0 {
			ref = strconv.FormatInt(tx.CheckNumber, 10)
		}
		w := statementtest.MT940Line{
			ValueDate: cmp.Or(tx.ValueDate, tx.BusinessDate), EntryDate: tx.BusinessDate,
			Mark: tx.DebitCreditMemo[:1], Cents: cents(t, tx.Amount), Type: mt940Type[tx.Code.BAI2],
			CustomerRef: cmp.Or(ref, "NONREF"), BankRef: tx.Reference, Details: x(tx.TransactionID),
			Narrative: l.Narrative,
		}
		if !reflect.DeepEqual(l, w) {
			t.Errorf(":61: of %s:\n got %+v\nwant %+v", tx.TransactionID, l, w)
		}
		statementtest.CheckNarrative(t, tx.TransactionID, l.Narrative, tx.Description, cmp.Or(tx.Payee, tx.Counterparty), tx.Memo, tx.CustomerReference)
	}
}

func daysOf(from, to store.Date) int {
	n := 0
	for d := from; d <= to; d = d.AddDays(1) {
		n++
	}
	return n
}

func TestExportEveryFormatReconciles(t *testing.T) {
	e := newEnv(t, envOptions{})
	x := seedExports(t, e, "")
	tok := e.token(t)
	from, to := store.Date("2025-02-01"), store.Date("2025-02-28")
	w := want{from: from, to: to, opening: cents(t, x.closingOn(from.AddDays(-1))), closing: cents(t, x.closingOn(to)), ids: x.ids(from, to)}
	if len(w.ids) < 30 || w.opening == w.closing {
		t.Fatalf("fixture too thin: %d entries", len(w.ids))
	}
	for _, f := range export.Formats() {
		t.Run(f.Name, func(t *testing.T) {
			r := e.get(t, tok, exportPath(e.f.sav, "format", f.Name, "startDate", string(from), "endDate", string(to)))
			wantStatus(t, r, 200)
			if ct := r.header.Get("Content-Type"); ct != f.ContentType() {
				t.Errorf("Content-Type %q, want %q", ct, f.ContentType())
			}
			name := fmt.Sprintf(`attachment; filename="%s_%s_%s.%s%s"`, e.f.sav, from, to, f.Name, f.Extension)
			if cd := r.header.Get("Content-Disposition"); cd != name {
				t.Errorf("Content-Disposition %q, want %q", cd, name)
			}
			checkFile(t, f.Name, r.body, w)
			if f.Name == "mt940" {
				checkMT940AgainstAPI(t, e, tok, e.f.sav, from, to, x.daily[to].ClosingAvailable, r.body)
			}
		})
	}
	// Accept works as on the statement route, and profile= picks a variant.
	t.Run("Accept", func(t *testing.T) {
		r := e.get(t, tok, exportPath(e.f.sav, "startDate", string(from), "endDate", string(to)), "Accept", `application/xml; profile="camt.053.001.08"`)
		wantStatus(t, r, 200)
		checkFile(t, "camt053v8", r.body, w)
	})
	for _, c := range []struct{ format, profile, name string }{
		{"csv", "xero", "csv-xero"}, {"text/csv", "quickbooks3", "csv-quickbooks3"}, {"camt053", "camt.053.001.08", "camt053v8"},
	} {
		t.Run("profile "+c.profile, func(t *testing.T) {
			r := e.get(t, tok, exportPath(e.f.sav, "format", c.format, "profile", c.profile, "startDate", string(from), "endDate", string(to)))
			wantStatus(t, r, 200)
			if !strings.Contains(r.header.Get("Content-Disposition"), "."+c.name+".") {
				t.Errorf("format=%s&profile=%s gave %s", c.format, c.profile, r.header.Get("Content-Disposition"))
			}
			checkFile(t, c.name, r.body, w)
		})
	}
}

func TestExportRangeBoundaries(t *testing.T) {
	e := newEnv(t, envOptions{})
	x := seedExports(t, e, "")
	tok := e.token(t)
	get := func(t *testing.T, params ...string) want {
		t.Helper()
		r := e.get(t, tok, exportPath(e.f.sav, append([]string{"format", "json"}, params...)...))
		wantStatus(t, r, 200)
		var doc struct {
			Statement struct {
				StartDate store.Date `json:"startDate"`
				EndDate   store.Date `json:"endDate"`
			} `json:"statement"`
		}
		r.json(t, &doc)
		from, to := doc.Statement.StartDate, doc.Statement.EndDate
		w := want{from: from, to: to, opening: cents(t, x.closingOn(from.AddDays(-1))), closing: cents(t, x.closingOn(to)), ids: x.ids(from, to)}
		checkFile(t, "json", r.body, w)
		return w
	}
	t.Run("a Monday opens at Friday's close", func(t *testing.T) {
		w := get(t, "startDate", "2025-01-13", "endDate", "2025-01-20")
		if w.opening != cents(t, x.daily["2025-01-10"].ClosingLedger) || len(w.ids) == 0 {
			t.Fatalf("opening %d, Friday closed at %s", w.opening, x.daily["2025-01-10"].ClosingLedger)
		}
		if w.ids[0] != "txn_sav_20250113_0" || !strings.HasPrefix(w.ids[len(w.ids)-1], "txn_sav_20250120_") {
			t.Fatalf("entries %v", w.ids)
		}
	})
	t.Run("a weekend-only range has no entries and carries the balance", func(t *testing.T) {
		w := get(t, "startDate", "2025-01-11", "endDate", "2025-01-12")
		if len(w.ids) != 0 || w.opening != w.closing {
			t.Fatalf("%+v", w)
		}
	})
	t.Run("the history's first day opens at its first daily opening", func(t *testing.T) {
		w := get(t, "startDate", "2024-11-01", "endDate", "2024-12-03")
		if w.opening != cents(t, x.opening) || len(w.ids) != len(x.ids("2024-12-02", "2024-12-03")) {
			t.Fatalf("%+v", w)
		}
	})
	t.Run("defaults: the latest closed business date", func(t *testing.T) {
		w := get(t)
		if w.from != "2025-03-11" || w.to != "2025-03-11" {
			t.Fatalf("default range %s..%s", w.from, w.to)
		}
		// On a Monday the prior business day is Friday.
		e.setNow(time.Date(2025, 3, 17, 13, 0, 0, 0, time.UTC))
		defer e.setNow(t0)
		tok := e.v.issue(e.f.consent, nil, time.Date(2025, 3, 18, 0, 0, 0, 0, time.UTC))
		r := e.get(t, tok, exportPath(e.f.sav, "format", "bai2"))
		wantStatus(t, r, 200)
		if !strings.Contains(r.header.Get("Content-Disposition"), "_2025-03-11_2025-03-11.bai2.bai") {
			t.Fatalf("Monday's prior-day file: %s", r.header.Get("Content-Disposition"))
		}
		r = e.get(t, tok, exportPath(e.f.sav, "format", "json", "startDate", "2025-03-03"))
		wantStatus(t, r, 200)
		if !bytes.Contains(r.body, []byte(`"startDate":"2025-03-03","endDate":"2025-03-11"`)) {
			t.Fatalf("startDate only: %s", clip(r.body))
		}
	})
	t.Run("a range ending today adds today's posted entries so far", func(t *testing.T) {
		w := get(t, "startDate", "2025-03-10", "endDate", string(exportToday))
		if w.closing != cents(t, x.closingOn(exportToday)) || w.closing == cents(t, x.daily["2025-03-11"].ClosingLedger) {
			t.Fatalf("%+v", w)
		}
	})
}

func TestExportIntraday(t *testing.T) {
	e := newEnv(t, envOptions{})
	x := seedExports(t, e, "")
	tok := e.token(t)
	w := want{from: exportToday, to: exportToday, opening: cents(t, x.daily["2025-03-11"].ClosingLedger),
		closing: cents(t, x.closingOn(exportToday)), ids: x.ids(exportToday, exportToday),
		pending: []string{"txn_sav_pend_1", "txn_sav_pend_2"}}
	for _, format := range []string{"camt052", "camt052v8", "json"} {
		t.Run(format, func(t *testing.T) {
			r := e.get(t, tok, exportPath(e.f.sav, "format", format, "status", "all"))
			wantStatus(t, r, 200)
			checkFile(t, format, r.body, w)
			if format == "json" && !strings.Contains(string(r.body), `"kind":"intraday"`) {
				t.Errorf("json kind: %s", clip(r.body))
			}
		})
	}
	// A multi-day report ending today carries the earlier days' entries too.
	w2 := want{from: "2025-03-10", to: exportToday, opening: cents(t, x.daily["2025-03-07"].ClosingLedger),
		closing: w.closing, ids: x.ids("2025-03-10", exportToday), pending: w.pending}
	t.Run("from Monday to today", func(t *testing.T) {
		r := e.get(t, tok, exportPath(e.f.sav, "format", "camt052", "status", "all", "startDate", "2025-03-10"))
		wantStatus(t, r, 200)
		checkFile(t, "camt052", r.body, w2)
	})

	// Without status=all, camt.052 carries posted entries only.
	w3 := w
	w3.pending = []string{}
	r := e.get(t, tok, exportPath(e.f.sav, "format", "camt052", "endDate", string(exportToday)))
	wantStatus(t, r, 200)
	if bytes.Contains(r.body, []byte("txn_sav_pend_")) {
		t.Fatal("pending entries without status=all")
	}
	t.Run("posted only", func(t *testing.T) { checkFile(t, "camt052", r.body, w3) })

	p := wantProblem(t, e.get(t, tok, exportPath(e.f.sav, "format", "bai2", "status", "all")), 400, "401")
	if !strings.Contains(p.Detail, "camt052") || !strings.Contains(p.Detail, "json") {
		t.Errorf("detail should name the formats with pending entries: %s", p.Detail)
	}
	p = wantProblem(t, e.get(t, tok, exportPath(e.f.sav, "format", "camt052", "status", "all", "endDate", "2025-03-11")), 400, "401")
	if p.Errors[0].Name != "status" || !strings.Contains(p.Detail, "must end today") {
		t.Errorf("problem %+v", p)
	}
}

func TestExportAccess(t *testing.T) {
	e := newEnv(t, envOptions{})
	seedExports(t, e, "")
	tok := e.token(t)
	// Outside the group, another business group's account (listed in the
	// group by mistake) and a missing one: the same 404 in every format,
	// whatever the other parameters say.
	for _, f := range append(export.Formats(), export.Format{Name: "docx"}) {
		var bodies []string
		for _, id := range []string{e.f.out, e.f.foreign, "acc_doesnotexist"} {
			p := wantProblem(t, e.get(t, tok, exportPath(id, "format", f.Name, "startDate", "2025-02-01", "endDate", "2025-02-28")), 404, "701")
			bodies = append(bodies, p.Type+"|"+p.Detail)
			wantProblem(t, e.get(t, tok, exportPath(id, "format", f.Name, "status", "all", "bogus", "1")), 404, "701")
		}
		if bodies[0] != bodies[1] || bodies[1] != bodies[2] {
			t.Fatalf("%s: answers differ: %q", f.Name, bodies)
		}
	}
	// The other business group's own user cannot read acme's accounts.
	other := newConsent(t, e.st, e.f.otherUser, e.f.client)
	wantProblem(t, e.get(t, e.v.issue(other.ID, nil, t0.Add(time.Hour)), exportPath(e.f.sav, "format", "bai2")), 403, "403")
	// statements.read is required.
	wantProblem(t, e.get(t, e.token(t, store.ScopeAccountsRead), exportPath(e.f.sav, "format", "bai2")), 403, "403")
	wantProblem(t, e.get(t, "", exportPath(e.f.sav, "format", "bai2")), 401, "603")
	wantProblem(t, e.do(t, http.MethodPost, tok, exportPath(e.f.sav, "format", "bai2")), 405, "1206")
}

func TestExportBadInput(t *testing.T) {
	e := newEnv(t, envOptions{maxExportDays: 31})
	seedExports(t, e, "")
	tok := e.token(t)
	sav := e.f.sav
	cases := []struct {
		name   string
		path   string
		hdr    []string
		status int
		code   string
		param  string // the first errors[].name
		detail string // in the detail
	}{
		// format= takes names: an unknown one is answered with the names (issue 13 §5).
		{"unknown format", exportPath(sav, "format", "docx"), nil, 406, "1203", "", `unknown format "docx"; formats: pdf, json, camt053, camt053v8,`},
		{"unknown format with a profile", exportPath(sav, "format", "docx", "profile", "xero"), nil, 406, "1203", "", `unknown format "docx"; formats: pdf, json,`},
		{"unknown media type", exportPath(sav), []string{"Accept", "application/msword"}, 406, "1203", "", "text/plain; charset=utf-8; profile=\"bai2\""},
		{"unknown Accept", exportPath(sav), []string{"Accept", "application/x-unknown"}, 406, "1203", "", "application/pdf"},
		{"unknown profile", exportPath(sav, "format", "csv", "profile", "sage"), nil, 406, "1203", "", "text/csv"},
		{"profile without format", exportPath(sav, "profile", "xero"), nil, 400, "401", "profile", "format="},
		{"bad profile", exportPath(sav, "format", "csv", "profile", `x"y`), nil, 400, "401", "profile", ""},
		{"unknown parameters", exportPath(sav, "format", "bai2", "limit", "5", "accountIds", "x"), nil, 400, "401", "accountIds", "allowed: format, profile, startDate, endDate, status"},
		{"malformed date", exportPath(sav, "format", "bai2", "startDate", "2025-02-30"), nil, 400, "702", "startDate", ""},
		{"reversed", exportPath(sav, "format", "bai2", "startDate", "2025-02-10", "endDate", "2025-02-01"), nil, 400, "703", "endDate", "before startDate"},
		{"start after the default end", exportPath(sav, "format", "bai2", "startDate", "2025-03-12"), nil, 400, "703", "endDate", "defaults to the latest closed"},
		{"before the account opened", exportPath(sav, "format", "bai2", "startDate", "2019-12-31", "endDate", "2020-01-05"), nil, 400, "703", "startDate", "2020-01-02"},
		{"future", exportPath(sav, "format", "bai2", "startDate", "2025-03-12", "endDate", "2025-03-13"), nil, 400, "703", "endDate", "future"},
		{"too long", exportPath(sav, "format", "bai2", "startDate", "2025-01-01", "endDate", "2025-02-01"), nil, 400, "703", "endDate", "at most 31"},
		{"status pending", exportPath(sav, "format", "json", "status", "pending"), nil, 400, "401", "status", "posted"},
		{"not closed yet", exportPath(e.f.chq, "format", "bai2", "startDate", "2025-01-01", "endDate", "2025-01-31"), nil, 400, "703", "endDate", "not closed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := wantProblem(t, e.get(t, tok, c.path, c.hdr...), c.status, c.code)
			if c.param != "" && (len(p.Errors) == 0 || p.Errors[0].Name != c.param) {
				t.Errorf("errors %+v, want %s first", p.Errors, c.param)
			}
			if !strings.Contains(p.Detail, c.detail) {
				t.Errorf("detail %q lacks %q", p.Detail, c.detail)
			}
		})
	}
	// Exactly the limit is fine.
	wantStatus(t, e.get(t, tok, exportPath(sav, "format", "bai2", "startDate", "2025-01-01", "endDate", "2025-01-31")), 200)
}

func TestExportDefaultLimitIsAYear(t *testing.T) {
	e := newEnv(t, envOptions{})
	seedExports(t, e, "")
	tok := e.token(t)
	p := wantProblem(t, e.get(t, tok, exportPath(e.f.sav, "format", "csv", "startDate", "2024-01-01", "endDate", "2025-01-01")), 400, "703")
	if !strings.Contains(p.Detail, "at most 366") {
		t.Fatalf("detail %q", p.Detail)
	}
	wantStatus(t, e.get(t, tok, exportPath(e.f.sav, "format", "csv", "startDate", "2024-01-01", "endDate", "2024-12-31")), 200)
}

// TestExportRefusesWhatDoesNotReconcile: a stored daily balance that
// disagrees with the entries makes every format answer a 500 problem naming
// the account and range, with no byte of the file, and a loud log line.
func TestExportRefusesWhatDoesNotReconcile(t *testing.T) {
	logs := &syncbuf.Buffer{}
	e := newEnv(t, envOptions{logs: logs})
	seedExports(t, e, "2025-02-14")
	tok := e.token(t)
	for _, f := range export.Formats() {
		t.Run(f.Name, func(t *testing.T) {
			r := e.getServerError(t, tok, exportPath(e.f.sav, "format", f.Name, "startDate", "2025-02-01", "endDate", "2025-02-28"))
			if r.status != 500 {
				t.Fatalf("status %d: %s", r.status, clip(r.body))
			}
			p := r.problem(t)
			if p.Type != "urn:bankfeed:problem:not-reconciled" || p.Code != "500" ||
				!strings.Contains(p.Detail, e.f.sav) || !strings.Contains(p.Detail, "2025-02-01 to 2025-02-28") {
				t.Fatalf("problem %+v", p)
			}
			if r.header.Get("Content-Disposition") != "" || !strings.HasPrefix(r.header.Get("Content-Type"), "application/problem+json") {
				t.Fatalf("headers of a refused file: %v", r.header)
			}
			if bytes.Contains(r.body, []byte("txn_sav_")) || bytes.Contains(r.body, []byte("01,")) || bytes.HasPrefix(r.body, []byte("%PDF")) {
				t.Fatalf("file bytes in the refusal: %s", clip(r.body))
			}
		})
	}
	if l := logs.String(); !strings.Contains(l, "DOES NOT RECONCILE") || !strings.Contains(l, "2025-02-14") || !strings.Contains(l, e.f.sav) {
		t.Errorf("log does not name the failure:\n%s", l)
	}
	// The range before the bad day is unaffected; the day after opens at the
	// bad closing and is refused too.
	wantStatus(t, e.get(t, tok, exportPath(e.f.sav, "format", "bai2", "startDate", "2025-01-01", "endDate", "2025-01-31")), 200)
	if r := e.getServerError(t, tok, exportPath(e.f.sav, "format", "bai2", "startDate", "2025-02-17", "endDate", "2025-02-17")); r.status != 500 {
		t.Fatalf("the day after the bad one: %d", r.status)
	}
}

// getServerError is get for requests expected to fail with a 5xx: it checks
// the response against the OpenAPI document and the common headers, but
// not do's "never a 500".
func (e *env) getServerError(t testing.TB, token, path string, hdr ...string) resp {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := resp{status: res.StatusCode, header: res.Header, body: body}
	if err := e.validate(req, r); err != nil {
		t.Errorf("OpenAPI: %v", err)
	}
	if r.header.Get("x-fapi-interaction-id") == "" || r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("common headers missing: %v", r.header)
	}
	return r
}

// TestStatementThatDoesNotReconcileIsRefused: the statement route refuses a
// stored statement whose figures disagree with its entries the same way in
// every format, JSON included, naming the statement and logging it loudly.
func TestStatementThatDoesNotReconcileIsRefused(t *testing.T) {
	logs := &syncbuf.Buffer{}
	e := newEnv(t, envOptions{logs: logs})
	ctx := context.Background()
	tok := e.token(t)
	for _, c := range []struct {
		name string
		st   store.Statement
	}{
		{"closing off by a cent", store.Statement{AccountID: e.f.chq, PeriodStart: "2024-12-01", PeriodEnd: "2024-12-31",
			StatementDate: "2025-01-01", Opening: m("1000.00"), Closing: m("1000.01"), Status: "AVAILABLE"}},
		{"stated count differs", store.Statement{AccountID: e.f.chq, PeriodStart: "2024-11-01", PeriodEnd: "2024-11-30",
			StatementDate: "2024-12-01", Opening: m("1000.00"), Closing: m("1000.00"), EntryCount: 1, Status: "AVAILABLE"}},
	} {
		st := must(e.st.CreateStatement(ctx, c.st))
		for _, f := range export.Formats() {
			t.Run(c.name+"/"+f.Name, func(t *testing.T) {
				r := e.getServerError(t, tok, base+"/accounts/"+e.f.chq+"/statements/"+st.ID+"?format="+f.Name)
				if r.status != 500 {
					t.Fatalf("status %d: %s", r.status, clip(r.body))
				}
				if p := r.problem(t); p.Type != "urn:bankfeed:problem:not-reconciled" || !strings.Contains(p.Detail, st.ID) || r.header.Get("Content-Disposition") != "" {
					t.Fatalf("problem %+v, headers %v", p, r.header)
				}
			})
		}
		if n := strings.Count(logs.String(), "DOCUMENT DOES NOT RECONCILE"); n < len(export.Formats()) {
			t.Errorf("%s: %d ERROR lines for %d refusals", c.name, n, len(export.Formats()))
		}
		logs.Reset()
	}
}

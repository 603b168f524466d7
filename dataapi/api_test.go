package dataapi_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/store"
)

const base = "/fdx/v6"

type accountOut struct {
	AccountCategory      string `json:"accountCategory"`
	AccountID            string `json:"accountId"`
	AccountType          string `json:"accountType"`
	AccountNumberDisplay string `json:"accountNumberDisplay"`
	BalanceAsOf          string `json:"balanceAsOf"`
	CurrentBalance       *float64
	OpeningLedgerBalance *float64 `json:"openingLedgerBalance"`
	BusinessDate         string   `json:"businessDate"`
	CommercialBalances   []struct {
		CommercialCode struct{ Type, Code string } `json:"commercialCode"`
	} `json:"commercialBalances"`
}

type pageOut struct {
	NextPageKey string `json:"nextPageKey"`
	NextOffset  string `json:"nextOffset"`
}

type txOut struct {
	TransactionID        string `json:"transactionId"`
	Status               string `json:"status"`
	PostedTimestamp      string `json:"postedTimestamp"`
	PostedDate           string `json:"postedDate"`
	BusinessDate         string `json:"businessDate"`
	Mutability           string `json:"mutability"`
	PendingTransactionID string `json:"pendingTransactionId"`
	DebitCreditMemo      string `json:"debitCreditMemo"`
	Amount               float64
}

type txPage struct {
	Page         pageOut `json:"page"`
	Transactions []txOut `json:"transactions"`
}

func (e *env) token(t testing.TB, scopes ...string) string {
	t.Helper()
	if scopes == nil {
		return e.v.issue(e.f.consent, nil, t0.Add(time.Hour))
	}
	return e.v.issue(e.f.consent, scopes, t0.Add(time.Hour))
}

func wantStatus(t testing.TB, r resp, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, clip(r.body))
	}
}

func wantProblem(t testing.TB, r resp, status int, code string) problem {
	t.Helper()
	wantStatus(t, r, status)
	p := r.problem(t)
	if p.Code != code || p.Status != status || p.Type == "" || p.Title == "" || p.Message == "" {
		t.Fatalf("problem %+v, want status %d code %s", p, status, code)
	}
	return p
}

func TestEndpoints(t *testing.T) {
	e := newEnv(t, envOptions{})
	tok := e.token(t)

	t.Run("customer", func(t *testing.T) {
		r := e.get(t, tok, base+"/customers/current")
		wantStatus(t, r, 200)
		var c struct {
			CustomerID       string `json:"customerId"`
			BusinessCustomer struct{ Name string }
			LegalEntities    []struct{ LegalEntityID string }
		}
		r.json(t, &c)
		if c.CustomerID != e.f.bgAcme || c.BusinessCustomer.Name != "Acme Holdings Inc." || len(c.LegalEntities) != 2 {
			t.Fatalf("customer %+v", c)
		}
	})

	t.Run("accounts lightweight and details", func(t *testing.T) {
		var got struct {
			Page     pageOut      `json:"page"`
			Accounts []accountOut `json:"accounts"`
		}
		r := e.get(t, tok, base+"/accounts")
		wantStatus(t, r, 200)
		r.json(t, &got)
		var ids []string
		for _, a := range got.Accounts {
			ids = append(ids, a.AccountID)
			if a.BalanceAsOf != "" {
				t.Errorf("lightweight %s has balances", a.AccountID)
			}
			if strings.Contains(string(r.body), "1234567") {
				t.Errorf("full account number leaked")
			}
		}
		want := []string{e.f.chq, e.f.loan, e.f.loc, e.f.sav}
		if !slices.Equal(ids, want) || got.Page.NextPageKey != "" {
			t.Fatalf("accounts %v page %+v, want %v", ids, got.Page, want)
		}
		r = e.get(t, tok, base+"/accounts?resultType=details")
		wantStatus(t, r, 200)
		for _, s := range []string{`"currentBalance":2500.00`, `"availableCredit":7500.00`, `"principalBalance":120000.00`, `"currentLedgerBalance":-120000.00`, `"availableBalance":`} {
			if !strings.Contains(string(r.body), s) {
				t.Errorf("details lack %s: %s", s, r.body)
			}
		}
	})

	t.Run("accounts paging and accountIds", func(t *testing.T) {
		var seen []string
		next := ""
		for i := 0; ; i++ {
			path := base + "/accounts?limit=1&resultType=details"
			if next != "" {
				path += "&pageKey=" + url.QueryEscape(next)
			}
			var got struct {
				Page     pageOut      `json:"page"`
				Accounts []accountOut `json:"accounts"`
			}
			r := e.get(t, tok, path)
			wantStatus(t, r, 200)
			r.json(t, &got)
			for _, a := range got.Accounts {
				seen = append(seen, a.AccountID)
			}
			if got.Page.NextPageKey != got.Page.NextOffset {
				t.Fatalf("nextOffset %q ≠ nextPageKey %q", got.Page.NextOffset, got.Page.NextPageKey)
			}
			if next = got.Page.NextPageKey; next == "" || i > 10 {
				break
			}
		}
		if !slices.Equal(seen, []string{e.f.chq, e.f.loan, e.f.loc, e.f.sav}) {
			t.Fatalf("paged %v", seen)
		}
		r := e.get(t, tok, base+"/accounts?accountIds="+e.f.sav+","+e.f.chq)
		wantStatus(t, r, 200)
		var got struct{ Accounts []accountOut }
		r.json(t, &got)
		if len(got.Accounts) != 2 || got.Accounts[0].AccountID != e.f.chq {
			t.Fatalf("accountIds: %s", r.body)
		}
	})

	t.Run("account summary", func(t *testing.T) {
		r := e.get(t, tok, base+"/accounts/"+e.f.chq)
		wantStatus(t, r, 200)
		var a accountOut
		r.json(t, &a)
		if a.AccountCategory != "DEPOSIT_ACCOUNT" || a.BusinessDate != "2025-03-11" || len(a.CommercialBalances) != 4 || a.AccountNumberDisplay != "****4567" {
			t.Fatalf("summary %s", r.body)
		}
		for i, code := range []string{"010", "015", "040", "045"} {
			if c := a.CommercialBalances[i].CommercialCode; c.Type != "BAI" || c.Code != code {
				t.Errorf("commercial balance %d = %+v, want BAI %s", i, c, code)
			}
		}
		if !strings.Contains(string(r.body), `"openingLedgerBalance":1500.00`) || !strings.Contains(string(r.body), `"closingAvailableBalance":1500.10`) {
			t.Errorf("summary figures: %s", r.body)
		}
		for _, id := range []string{e.f.sav, e.f.loc, e.f.loan} {
			wantStatus(t, e.get(t, tok, base+"/accounts/"+id), 200)
		}
	})

	t.Run("transactions default posted", func(t *testing.T) {
		r := e.get(t, tok, base+"/accounts/"+e.f.chq+"/transactions")
		wantStatus(t, r, 200)
		var p txPage
		r.json(t, &p)
		if len(p.Transactions) != e.f.chqPosted || p.Page.NextPageKey != "" {
			t.Fatalf("%d transactions, want %d", len(p.Transactions), e.f.chqPosted)
		}
		for i, tx := range p.Transactions {
			if tx.Status != "POSTED" || tx.Mutability != "IMMUTABLE" || tx.PostedTimestamp == "" || tx.PostedDate == "" {
				t.Errorf("posted %+v", tx)
			}
			if i > 0 {
				prev := p.Transactions[i-1]
				if prev.BusinessDate > tx.BusinessDate || prev.BusinessDate == tx.BusinessDate && prev.TransactionID >= tx.TransactionID {
					t.Fatalf("order: %+v before %+v", prev, tx)
				}
			}
			if tx.TransactionID == e.f.postedOfPending && tx.PendingTransactionID != e.f.pendingPosted {
				t.Errorf("posted of pending lacks pendingTransactionId: %+v", tx)
			}
		}
		if !regexp.MustCompile(`"postedTimestamp":"2025-01-02T10:00:00\.000-05:00"`).Match(r.body) {
			t.Errorf("timestamps not in Toronto offset: %s", clip(r.body))
		}
		if !strings.Contains(string(r.body), `"bankTransactionCode":{"bai2":"475","iso20022":{"domain":"PMNT","family":"RCDT","subFamily":"ESCT"}}`) {
			t.Errorf("bank transaction code: %s", clip(r.body))
		}
		if !strings.Contains(string(r.body), `"checkNumber":1000`) {
			t.Errorf("check number: %s", clip(r.body))
		}
	})

	t.Run("transactions status and dates", func(t *testing.T) {
		var p txPage
		r := e.get(t, tok, base+"/accounts/"+e.f.chq+"/transactions?status=pending")
		wantStatus(t, r, 200)
		r.json(t, &p)
		if len(p.Transactions) != 1 || p.Transactions[0].TransactionID != e.f.pendingLive || p.Transactions[0].Mutability != "MUTABLE" || p.Transactions[0].PostedTimestamp != "" {
			t.Fatalf("pending: %s", r.body)
		}
		r = e.get(t, tok, base+"/accounts/"+e.f.chq+"/transactions?status=all")
		r.json(t, &p)
		if len(p.Transactions) != e.f.chqPosted+1 {
			t.Fatalf("all: %d", len(p.Transactions))
		}
		r = e.get(t, tok, base+"/accounts/"+e.f.chq+"/transactions?startDate=2025-01-01&endDate=2025-01-31")
		r.json(t, &p)
		for _, tx := range p.Transactions {
			if tx.BusinessDate < "2025-01-01" || tx.BusinessDate > "2025-01-31" {
				t.Errorf("outside range: %+v", tx)
			}
		}
		if len(p.Transactions) == 0 || len(p.Transactions) >= e.f.chqPosted {
			t.Fatalf("january: %d", len(p.Transactions))
		}
		// FDX < 6.3 aliases.
		var q txPage
		e.get(t, tok, base+"/accounts/"+e.f.chq+"/transactions?startTime=2025-01-01&endTime=2025-01-31").json(t, &q)
		if len(q.Transactions) != len(p.Transactions) {
			t.Fatalf("startTime/endTime: %d, startDate/endDate: %d", len(q.Transactions), len(p.Transactions))
		}
		r = e.get(t, tok, base+"/accounts/"+e.f.sav+"/transactions")
		wantStatus(t, r, 200)
	})

	t.Run("transactions paging", func(t *testing.T) {
		var all []string
		key := ""
		for i := 0; i < 100; i++ {
			path := base + "/accounts/" + e.f.chq + "/transactions?limit=7"
			if key != "" {
				path += "&offset=" + url.QueryEscape(key) // the FDX < 6.3 name
			}
			var p txPage
			r := e.get(t, tok, path)
			wantStatus(t, r, 200)
			r.json(t, &p)
			for _, tx := range p.Transactions {
				all = append(all, tx.TransactionID)
			}
			if key = p.Page.NextPageKey; key == "" {
				break
			}
		}
		if len(all) != e.f.chqPosted {
			t.Fatalf("paged %d, want %d", len(all), e.f.chqPosted)
		}
	})

	t.Run("sync", func(t *testing.T) {
		var s syncOut
		r := e.get(t, tok, base+"/accounts/"+e.f.chq+"/transactions/sync")
		wantStatus(t, r, 200)
		r.json(t, &s)
		// From the start: every posted entry and the live pending one are
		// added; the replaced and dropped pending entries never show.
		if len(s.Added) != e.f.chqPosted+1 || len(s.Modified) != 0 || len(s.Removed) != 0 || s.HasMore || s.NextCursor == "" {
			t.Fatalf("sync: %d added %d modified %d removed more=%v", len(s.Added), len(s.Modified), len(s.Removed), s.HasMore)
		}
		// Nothing new: an empty page, same position.
		var s2 syncOut
		e.get(t, tok, base+"/accounts/"+e.f.chq+"/transactions/sync?cursor="+url.QueryEscape(s.NextCursor)).json(t, &s2)
		if len(s2.Added)+len(s2.Modified)+len(s2.Removed) != 0 || s2.HasMore {
			t.Fatalf("second sync: %+v", s2)
		}
		// The live pending entry posts: one modified record naming it.
		ctx := context.Background()
		at := t0.Add(time.Minute)
		posted := must(e.st.CreateTransactions(ctx, []store.Transaction{{AccountID: e.f.chq, ExternalID: "core-live", Status: store.Posted,
			TransactionAt: at, PostedAt: at, BusinessDate: store.BusinessDate(at), Amount: m("12.34"), Direction: store.Debit,
			Description: "Card p-live", PendingID: e.f.pendingLive}}))
		if err := e.st.ReplacePending(ctx, e.f.pendingLive, posted[0].ID); err != nil {
			t.Fatal(err)
		}
		var s3 syncOut
		e.get(t, tok, base+"/accounts/"+e.f.chq+"/transactions/sync?cursor="+url.QueryEscape(s2.NextCursor)).json(t, &s3)
		if len(s3.Added) != 0 || len(s3.Removed) != 0 || len(s3.Modified) != 1 || s3.Modified[0].TransactionID != posted[0].ID || s3.Modified[0].PendingTransactionID != e.f.pendingLive {
			t.Fatalf("after posting: %+v", s3)
		}
	})

	t.Run("statements", func(t *testing.T) {
		r := e.get(t, tok, base+"/accounts/"+e.f.chq+"/statements")
		wantStatus(t, r, 200)
		var l struct {
			Statements []struct {
				StatementID     string `json:"statementId"`
				PeriodStartDate string `json:"periodStartDate"`
				Links           []struct {
					Href  string   `json:"href"`
					Types []string `json:"types"`
				} `json:"links"`
			} `json:"statements"`
		}
		r.json(t, &l)
		if len(l.Statements) != 2 || l.Statements[0].StatementID != e.f.stmtJan || l.Statements[1].StatementID != e.f.stmtFeb {
			t.Fatalf("statements: %s", r.body)
		}
		href := l.Statements[0].Links[0].Href
		if href != base+"/accounts/"+e.f.chq+"/statements/"+e.f.stmtJan || len(l.Statements[0].Links[0].Types) == 0 {
			t.Fatalf("links: %+v", l.Statements[0].Links)
		}
		var p2 struct{ Statements []any }
		e.get(t, tok, base+"/accounts/"+e.f.chq+"/statements?startDate=2025-02-10&endDate=2025-03-31").json(t, &p2)
		if len(p2.Statements) != 1 {
			t.Fatalf("overlapping February: %d", len(p2.Statements))
		}
		var pg struct {
			Page       pageOut `json:"page"`
			Statements []any
		}
		e.get(t, tok, base+"/accounts/"+e.f.chq+"/statements?limit=1").json(t, &pg)
		if len(pg.Statements) != 1 || pg.Page.NextPageKey == "" {
			t.Fatalf("statement paging: %+v", pg)
		}
		key := pg.Page.NextPageKey
		pg.Page, pg.Statements = pageOut{}, nil
		e.get(t, tok, base+"/accounts/"+e.f.chq+"/statements?limit=1&pageKey="+url.QueryEscape(key)).json(t, &pg)
		if len(pg.Statements) != 1 || pg.Page.NextPageKey != "" {
			t.Fatalf("statement page 2: %+v", pg)
		}
		wantStatus(t, e.get(t, tok, base+"/accounts/"+e.f.sav+"/statements"), 200)
	})

	t.Run("statement document", func(t *testing.T) {
		for _, id := range []string{e.f.stmtJan, e.f.stmtFeb} {
			r := e.get(t, tok, base+"/accounts/"+e.f.chq+"/statements/"+id, "Accept", "application/json")
			wantStatus(t, r, 200)
			checkStatementReconciles(t, r)
		}
		r := e.get(t, tok, base+"/accounts/"+e.f.chq+"/statements/"+e.f.stmtJan, "Accept", "application/x-unknown")
		wantProblem(t, r, 406, "1203")
		wantProblem(t, e.get(t, tok, base+"/accounts/"+e.f.chq+"/statements/"+e.f.stmtJan+"?format=docx"), 406, "1203")
		// PDF is the default; every other format by Accept or format=.
		r = e.get(t, tok, base+"/accounts/"+e.f.chq+"/statements/"+e.f.stmtJan)
		wantStatus(t, r, 200)
		if r.header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(string(r.body), "%PDF") {
			t.Fatalf("default: %s %q", r.header.Get("Content-Type"), clip(r.body[:min(len(r.body), 20)]))
		}
		formats := []struct{ accept, format, ctype, prefix string }{
			{`application/xml; profile="camt.053.001.02"`, "", "application/xml", "<?xml"},
			{"application/xml", "", "application/xml", "<?xml"},
			{"", "camt053v8", "application/xml", "<?xml"},
			{"", "camt052", "application/xml", "<?xml"},
			{"text/plain; profile=bai2", "", "text/plain", "01,"},
			{"", "mt940", "text/plain", ""},
			{"application/x-ofx", "", "application/x-ofx", ""},
			{"", "qbo", "application/vnd.intu.qbo", "OFXHEADER"},
			{"", "qfx", "application/vnd.intu.qfx", "OFXHEADER"},
			{"text/csv", "", "text/csv", ""},
			{"", "csv-xero", "text/csv", ""},
			{"application/pdf;q=0.1, text/csv", "", "text/csv", ""},
		}
		for _, f := range formats {
			path := base + "/accounts/" + e.f.chq + "/statements/" + e.f.stmtFeb
			if f.format != "" {
				path += "?format=" + url.QueryEscape(f.format)
			}
			var hdr []string
			if f.accept != "" {
				hdr = []string{"Accept", f.accept}
			}
			r := e.get(t, tok, path, hdr...)
			wantStatus(t, r, 200)
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, f.ctype) || !strings.HasPrefix(string(r.body), f.prefix) || len(r.body) == 0 {
				t.Errorf("%s/%s: %s %q", f.accept, f.format, ct, clip(r.body[:min(len(r.body), 40)]))
			}
			if !strings.HasPrefix(r.header.Get("Content-Disposition"), "attachment; filename=") {
				t.Errorf("%s/%s: Content-Disposition %q", f.accept, f.format, r.header.Get("Content-Disposition"))
			}
		}
		wantProblem(t, e.get(t, tok, base+"/accounts/"+e.f.chq+"/statements/nope"), 404, "1104")
		wantProblem(t, e.get(t, tok, base+"/accounts/"+e.f.sav+"/statements/"+e.f.stmtJan), 404, "1104")
		wantProblem(t, e.get(t, tok, base+"/accounts/"+e.f.out+"/statements/"+e.f.stmtJan), 404, "701")
	})

	t.Run("openapi", func(t *testing.T) {
		r := e.get(t, "", base+"/openapi.json")
		wantStatus(t, r, 200)
		if !strings.Contains(string(r.body), `"openapi":"3.1.0"`) {
			t.Fatalf("openapi: %s", clip(r.body))
		}
	})
}

type syncOut struct {
	Added    []txOut `json:"added"`
	Modified []txOut `json:"modified"`
	Removed  []struct {
		TransactionID string `json:"transactionId"`
	} `json:"removed"`
	NextCursor string `json:"nextCursor"`
	HasMore    bool   `json:"hasMore"`
}

// checkStatementReconciles decodes a JSON statement document exactly
// (decimals, not floats) and checks opening + Σ signed entries = closing.
func checkStatementReconciles(t testing.TB, r resp) {
	t.Helper()
	var doc struct {
		StatementID    string      `json:"statementId"`
		OpeningBalance store.Money `json:"openingBalance"`
		ClosingBalance store.Money `json:"closingBalance"`
		EntryCount     int         `json:"entryCount"`
		Transactions   []struct {
			Amount          store.Money `json:"amount"`
			DebitCreditMemo string      `json:"debitCreditMemo"`
			Status          string      `json:"status"`
		} `json:"transactions"`
	}
	r.json(t, &doc)
	sum := doc.OpeningBalance
	for _, tx := range doc.Transactions {
		if tx.Status != "POSTED" {
			t.Errorf("statement %s holds a %s entry", doc.StatementID, tx.Status)
		}
		sum = sum.Add(store.Signed(tx.Amount, store.Direction(tx.DebitCreditMemo)))
	}
	if !sum.Equal(doc.ClosingBalance) || len(doc.Transactions) != doc.EntryCount {
		t.Errorf("statement %s: opening %s + entries = %s, closing %s; %d entries, entryCount %d",
			doc.StatementID, doc.OpeningBalance, sum, doc.ClosingBalance, len(doc.Transactions), doc.EntryCount)
	}
}

func TestMethodsNotAllowed(t *testing.T) {
	e := newEnv(t, envOptions{})
	tok := e.token(t)
	for _, path := range []string{"/accounts", "/accounts/" + e.f.chq, "/accounts/" + e.f.chq + "/transactions", "/customers/current",
		"/accounts/" + e.f.chq + "/transactions/sync", "/accounts/" + e.f.chq + "/statements", "/accounts/" + e.f.chq + "/statements/" + e.f.stmtJan,
		"/accounts/" + e.f.chq + "/exports", "/openapi.json"} {
		// Methods echo knows and others (WebDAV's, made up): all 405.
		for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions, "LOCK", "MKCOL", "BREW"} {
			r := e.do(t, method, tok, base+path)
			wantProblem(t, r, 405, "1206")
			if r.header.Get("Allow") != "GET" {
				t.Errorf("%s %s: Allow %q", method, path, r.header.Get("Allow"))
			}
		}
	}
	wantProblem(t, e.get(t, tok, base+"/nowhere"), 404, "404")
	wantProblem(t, e.do(t, "BREW", tok, base+"/nowhere"), 404, "404")
	wantProblem(t, e.do(t, http.MethodPost, tok, base+"/accounts/"+e.f.chq+"/nowhere"), 404, "404")
}

func TestInteractionIDAndHeaders(t *testing.T) {
	e := newEnv(t, envOptions{})
	tok := e.token(t)
	id := "6f1c8a52-6c1e-4bd6-9d6b-0a1f4b2f9e11"
	r := e.get(t, tok, base+"/accounts", "x-fapi-interaction-id", id)
	if r.header.Get("x-fapi-interaction-id") != id {
		t.Fatalf("not echoed: %q", r.header.Get("x-fapi-interaction-id"))
	}
	r = e.get(t, "", base+"/accounts", "x-fapi-interaction-id", id)
	if r.header.Get("x-fapi-interaction-id") != id || r.status != 401 {
		t.Fatalf("not echoed on error: %q", r.header.Get("x-fapi-interaction-id"))
	}
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	for _, bad := range []string{"", "x y", strings.Repeat("a", 200), "<script>"} {
		r = e.get(t, tok, base+"/accounts", "x-fapi-interaction-id", bad)
		if got := r.header.Get("x-fapi-interaction-id"); !uuid.MatchString(got) {
			t.Errorf("for %q minted %q, want a UUID", bad, got)
		}
	}
}

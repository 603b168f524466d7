package dataapi_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/store/gormstore/gormtest"
)

// benchEnv is the fixture plus n posted entries on acc_sav, on SQLite or,
// with gormtest.PostgresEnv set, on PostgreSQL (as in production).
func benchEnv(b *testing.B, n int) (*env, http.Handler, string) {
	b.Helper()
	dsn := gormtest.DSN(b, "dataapi_bench")
	e := newEnv(b, envOptions{dsn: dsn})
	ctx := context.Background()
	day := store.Date("2020-01-01")
	batch := make([]store.Transaction, 0, 1000)
	for i := 0; i < n; i++ {
		if i%40 == 0 {
			day = day.AddDays(1)
		}
		at := day.Time().Add(12 * time.Hour)
		batch = append(batch, store.Transaction{AccountID: e.f.sav, ExternalID: fmt.Sprintf("b-%d", i), Status: store.Posted,
			TransactionAt: at, PostedAt: at, BusinessDate: day, Amount: m("12.34"), Direction: store.Credit,
			Description: "Deposit", Code: store.BankTransactionCode{BAI: "165"}, RunningBalance: m("100.00"), HasRunning: true})
		if len(batch) == cap(batch) || i == n-1 {
			must(e.st.CreateTransactions(ctx, batch))
			batch = batch[:0]
		}
	}
	analyze(b, dsn)
	ec := echo.New()
	e.api.Mount(ec)
	return e, ec, e.token(b)
}

// analyze gives PostgreSQL the statistics autovacuum would gather within a
// minute of the load in production: without them the planner takes the
// freshly loaded account for a few rows and sorts all n of them for each
// page (7.8 ms a page instead of 0.5), and the benchmark measures that.
func analyze(b *testing.B, dsn string) {
	b.Helper()
	if os.Getenv(gormtest.PostgresEnv) == "" {
		return // SQLite: the planner needs no statistics for the keyset index
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		b.Fatalf("open %s: %v", dsn, err)
	}
	defer db.Close()
	if _, err := db.ExecContext(b.Context(), "ANALYZE"); err != nil {
		b.Fatalf("analyze: %v", err)
	}
}

func serveOnce(b *testing.B, h http.Handler, token, path string) []byte {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("%s: %d %s", path, rec.Code, rec.Body.String())
	}
	return rec.Body.Bytes()
}

// BenchmarkTransactionsFirstPage is a first page of 100 (every access check,
// the snapshot, the keyset read and the JSON) on an account with 20,000
// entries, in process (no network).
func BenchmarkTransactionsFirstPage(b *testing.B) {
	e, h, tok := benchEnv(b, 20000)
	path := base + "/accounts/" + e.f.sav + "/transactions?limit=100"
	b.ResetTimer()
	for b.Loop() {
		serveOnce(b, h, tok, path)
	}
}

// BenchmarkTransactionsDeepPage follows a page key into the middle of the
// history: keyset paging keeps it as cheap as the first page.
func BenchmarkTransactionsDeepPage(b *testing.B) {
	e, h, tok := benchEnv(b, 20000)
	path := base + "/accounts/" + e.f.sav + "/transactions?limit=100"
	var p txPage
	for i := 0; i < 100; i++ {
		body := serveOnce(b, h, tok, path)
		p = txPage{}
		resp{body: body}.json(b, &p)
		path = base + "/accounts/" + e.f.sav + "/transactions?limit=100&pageKey=" + url.QueryEscape(p.Page.NextPageKey)
	}
	b.ResetTimer()
	for b.Loop() {
		serveOnce(b, h, tok, path)
	}
}

// BenchmarkTransactionsParallel is the first page from many goroutines.
func BenchmarkTransactionsParallel(b *testing.B) {
	e, h, tok := benchEnv(b, 20000)
	path := base + "/accounts/" + e.f.sav + "/transactions?limit=100"
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			serveOnce(b, h, tok, path)
		}
	})
}

// BenchmarkSync is one change-feed page of 100 from the middle.
func BenchmarkSync(b *testing.B) {
	e, h, tok := benchEnv(b, 20000)
	path := base + "/accounts/" + e.f.sav + "/transactions/sync?limit=100"
	var s syncOut
	for i := 0; i < 50; i++ {
		s = syncOut{}
		resp{body: serveOnce(b, h, tok, path)}.json(b, &s)
		path = base + "/accounts/" + e.f.sav + "/transactions/sync?limit=100&cursor=" + url.QueryEscape(s.NextCursor)
	}
	b.ResetTimer()
	for b.Loop() {
		serveOnce(b, h, tok, path)
	}
}

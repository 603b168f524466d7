package gormstore_test

import (
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/store/gormstore"
)

// benchStores are the backends a benchmark runs on: SQLite always,
// PostgreSQL when BANKFEED_TEST_POSTGRES_DSN is set.
func benchStores(b *testing.B) map[string]func(b *testing.B) *gormstore.Store {
	out := map[string]func(b *testing.B) *gormstore.Store{
		"sqlite": func(b *testing.B) *gormstore.Store { return newSQLite(b) },
	}
	if os.Getenv(postgresEnv) != "" {
		out["postgres"] = func(b *testing.B) *gormstore.Store { return newPostgres(b) }
	}
	return out
}

// benchAccount creates a group, an entity and one account.
func benchAccount(b testing.TB, s *gormstore.Store) string {
	b.Helper()
	ctx := b.Context()
	g, err := s.CreateBusinessGroup(ctx, store.BusinessGroup{Name: "Bench"})
	if err != nil {
		b.Fatal(err)
	}
	e, err := s.CreateLegalEntity(ctx, store.LegalEntity{BusinessGroupID: g.ID, Name: "Bench"})
	if err != nil {
		b.Fatal(err)
	}
	a, err := s.CreateAccount(ctx, store.Account{LegalEntityID: e.ID, Number: "bench-" + store.RandomToken(6),
		Type: store.AccountChecking, Currency: "CAD"})
	if err != nil {
		b.Fatal(err)
	}
	return a.ID
}

var toronto = store.Toronto()

func benchBatch(account string, start, n int) []store.Transaction {
	out := make([]store.Transaction, n)
	base := time.Date(2024, 1, 1, 15, 0, 0, 0, time.UTC)
	for i := range n {
		k := start + i
		at := base.Add(time.Duration(k) * 7 * time.Minute)
		out[i] = store.Transaction{AccountID: account, ExternalID: "core-" + strconv.Itoa(k), Status: store.Posted,
			TransactionAt: at, PostedAt: at, BusinessDate: store.DateOf(at, toronto), ValueDate: store.DateOf(at, toronto),
			Amount: decimal.New(int64(1000+k%50000), -2), Direction: store.Credit,
			Description: "Payroll deposit " + strconv.Itoa(k), Counterparty: "ACME Payroll",
			Code:           store.BankTransactionCode{BAI: "165", Domain: "PMNT", Family: "RCDT", SubFamily: "ESCT"},
			RunningBalance: decimal.New(int64(k), -2), HasRunning: true}
	}
	return out
}

// BenchmarkCreateTransactions loads batches of 1,000 new transactions (as
// the demo generator does) and reports rows/s.
func BenchmarkCreateTransactions(b *testing.B) {
	for name, open := range benchStores(b) {
		b.Run(name, func(b *testing.B) {
			s := open(b)
			account := benchAccount(b, s)
			const batch = 1000
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if _, err := s.CreateTransactions(b.Context(), benchBatch(account, i*batch, batch)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkListTransactionsFirstPage reads the first and a deep page of 100
// from an account with a long history (and a few other busy accounts): with
// keyset paging both cost the same.
func BenchmarkListTransactionsFirstPage(b *testing.B) {
	history := 200_000
	if v, err := strconv.Atoi(os.Getenv("BANKFEED_BENCH_HISTORY")); err == nil && v > 0 {
		history = v
	}
	for name, open := range benchStores(b) {
		b.Run(fmt.Sprintf("%s/history=%d", name, history), func(b *testing.B) {
			s := open(b)
			ctx := b.Context()
			account := benchAccount(b, s)
			for start := 0; start < history; start += 5000 {
				if _, err := s.CreateTransactions(ctx, benchBatch(account, start, min(5000, history-start))); err != nil {
					b.Fatal(err)
				}
			}
			snap, err := s.MaxSeq(ctx)
			if err != nil {
				b.Fatal(err)
			}
			f := store.TransactionFilter{AccountID: account, AsOfSeq: snap}
			deep, _, err := s.ListTransactions(ctx, store.TransactionFilter{AccountID: account, From: store.BusinessDate(time.Date(2024, 1, 1, 15, 0, 0, 0, time.UTC).Add(time.Duration(history*6) * time.Minute))}, nil, 1)
			if err != nil || len(deep) == 0 {
				b.Fatalf("deep cursor: %v", err)
			}
			b.Run("first", func(b *testing.B) {
				for b.Loop() {
					page, _, err := s.ListTransactions(ctx, f, nil, 100)
					if err != nil || len(page) != 100 {
						b.Fatalf("page of %d: %v", len(page), err)
					}
				}
			})
			b.Run("deep", func(b *testing.B) {
				after := &store.TxCursor{BusinessDate: deep[0].BusinessDate, ID: deep[0].ID}
				for b.Loop() {
					page, _, err := s.ListTransactions(ctx, f, after, 100)
					if err != nil || len(page) != 100 {
						b.Fatalf("page of %d: %v", len(page), err)
					}
				}
			})
		})
	}
}

// benchToken is a client_credentials token of kind under sig, with a
// sealed request's usual size.
func benchToken(kind store.TokenKind, sig string, now time.Time) store.TokenRecord {
	return store.TokenRecord{Kind: kind, Signature: sig, ClientID: "cli", Active: true, RequestedAt: now,
		ExpiresAt: now.Add(time.Hour), TokenType: "bearer", Request: make([]byte, 900)}
}

// BenchmarkCreateToken writes one client_credentials access token (no
// consent to lock) per op: the statement alone, as a grant writes two.
func BenchmarkCreateToken(b *testing.B) {
	for name, open := range benchStores(b) {
		b.Run(name, func(b *testing.B) {
			s := open(b)
			rec, i := benchToken(store.TokenAccess, "", time.Now()), 0
			for b.Loop() {
				i++
				rec.Signature = "bench-" + strconv.Itoa(i)
				if err := s.CreateToken(b.Context(), rec); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchTokenOp times op on one token of kind per op, the tokens written
// before the timer starts.
func benchTokenOp(b *testing.B, kind store.TokenKind, op func(s *gormstore.Store, sig string, now time.Time) error) {
	for name, open := range benchStores(b) {
		b.Run(name, func(b *testing.B) {
			s := open(b)
			now := time.Now()
			for i := range b.N {
				if err := s.CreateToken(b.Context(), benchToken(kind, "op-"+strconv.Itoa(i), now)); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for i := range b.N {
				if err := op(s, "op-"+strconv.Itoa(i), now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRotateRefreshToken rotates one refresh token per op (outside a
// transaction; a grant does it inside fosite's).
func BenchmarkRotateRefreshToken(b *testing.B) {
	benchTokenOp(b, store.TokenRefresh, func(s *gormstore.Store, sig string, now time.Time) error {
		_, err := s.RotateRefreshToken(b.Context(), sig, now)
		return err
	})
}

// BenchmarkDeactivateToken ends one access token per op.
func BenchmarkDeactivateToken(b *testing.B) {
	benchTokenOp(b, store.TokenAccess, func(s *gormstore.Store, sig string, _ time.Time) error {
		return s.DeactivateToken(b.Context(), store.TokenAccess, sig)
	})
}

// BenchmarkUpdateReadAuthFlow is the consent page's write of a flow it read
// (twice per authorization): one UPDATE … RETURNING of every column.
func BenchmarkUpdateReadAuthFlow(b *testing.B) {
	for name, open := range benchStores(b) {
		b.Run(name, func(b *testing.B) {
			s := open(b)
			ctx := b.Context()
			f, err := s.CreateAuthFlow(ctx, store.AuthFlow{ClientID: "vendor", RequestedScopes: []string{"openid", "accounts.read"},
				Request: make([]byte, 900), State: store.FlowLogin, ExpiresAt: time.Now().Add(time.Hour)})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if f, err = s.UpdateReadAuthFlow(ctx, f, func(x store.AuthFlow) (store.AuthFlow, error) {
					x.State, x.UserID, x.GrantedScopes = store.FlowConsent, "usr_1", []string{"accounts.read"}
					return x, nil
				}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

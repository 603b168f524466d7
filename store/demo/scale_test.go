package demo_test

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/store/demo"
)

// TestScale measures a scale seed. It runs only with
// BANKFEED_DEMO_SCALE_TEST=1; BANKFEED_DEMO_SCALE_ACCOUNTS (default 1000)
// and BANKFEED_DEMO_SCALE_TRANSACTIONS (default 10000) size it, and
// BANKFEED_DEMO_SCALE_DSN names the database (default: a SQLite file in a
// temporary directory). Measure peak memory around the test binary:
//
//	go test -c -o /tmp/demo.test ./store/demo
//	BANKFEED_DEMO_SCALE_TEST=1 /usr/bin/time -v /tmp/demo.test -test.run TestScale -test.v -test.timeout 2h
func TestScale(t *testing.T) {
	if os.Getenv("BANKFEED_DEMO_SCALE_TEST") != "1" {
		t.Skip("set BANKFEED_DEMO_SCALE_TEST=1 to run the scale seed")
	}
	envInt := func(name string, def int) int {
		if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
			return n
		}
		return def
	}
	accounts := envInt("BANKFEED_DEMO_SCALE_ACCOUNTS", 1000)
	per := envInt("BANKFEED_DEMO_SCALE_TRANSACTIONS", 10000)
	dsn := os.Getenv("BANKFEED_DEMO_SCALE_DSN")
	file := ""
	if dsn == "" {
		file = filepath.Join(t.TempDir(), "scale.db")
		dsn = file
	}
	st := migrated(t, dsn)
	start := time.Now()
	creds, err := demo.Seed(t.Context(), st, demo.Options{Seed: 1, Accounts: accounts, TransactionsPerAccount: per, Progress: os.Stderr})
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	rows, err := st.MaxSeq(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var size int64
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if fi, err := os.Stat(file + suffix); file != "" && err == nil {
			size += fi.Size()
		}
	}
	t.Logf("scale seed: %d accounts × %d entries: %d sequence numbers (entries + pending updates) in %s (%.0f/s); SQLite file %.2f GiB",
		accounts, per, rows, elapsed.Round(time.Second), float64(rows)/elapsed.Seconds(), float64(size)/(1<<30))

	// Spot check: the first account's statements reconcile through SumPosted.
	id := creds.BusinessGroups[0].AccountGroup.AccountIDs[0]
	stmts, err := st.ListStatements(t.Context(), id, "", "")
	if err != nil || len(stmts) != 13 {
		t.Fatalf("%d statements (%v)", len(stmts), err)
	}
	for _, s := range stmts {
		n, debits, credits, err := st.SumPosted(t.Context(), id, s.PeriodStart, s.PeriodEnd)
		if err != nil || n != s.EntryCount || !s.Opening.Add(credits).Sub(debits).Equal(s.Closing) {
			t.Errorf("statement %s does not reconcile: %+v; %d %s %s (%v)", s.PeriodStart, s, n, debits, credits, err)
		}
	}
	if file != "" {
		_ = st.Close()
		// Compact size after a checkpoint.
		if fi, err := os.Stat(file); err == nil {
			t.Logf("SQLite main file after close: %.2f GiB", float64(fi.Size())/(1<<30))
		}
	}
}

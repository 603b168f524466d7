package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bankfeed/bankfeed/internal/testenv"
	"github.com/bankfeed/bankfeed/store/gormstore/gormtest"
)

// TestStatementsOfADatabase: after a reset, topStatements counts each
// statement of this database alone (an attempt during which
// pg_stat_statements evicted entries to make room is made again) — not another database's, not
// pg_stat_statements' own reads and resets, not the samples of its
// backends' waits — orders them by execution
// time, totals them all, and a reset forgets them.
func TestStatementsOfADatabase(t *testing.T) {
	ctx := t.Context()
	dsn, other := gormtest.PostgresDSN(t, "cmpstmts"), gormtest.PostgresDSN(t, "cmpstmtsother")
	if err := enableStatements(ctx, dsn); err != nil {
		testenv.Need(t, testenv.PgStatStatements, err.Error())
	}
	exec := func(dsn string, times int, q string) {
		t.Helper()
		if err := withConn(ctx, dsn, func(conn *pgx.Conn) error {
			for range times {
				if _, err := conn.Exec(ctx, q); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	// pg_stat_statements drops its least used entries when it is full (the
	// whole suite's databases share it): an attempt during which it did
	// loses figures (evictions tells), and is made again.
	var (
		top   []statementStat
		total statementStat
	)
	for attempt := 1; ; attempt++ {
		before, err := evictions(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		exec(dsn, 1, "DROP TABLE IF EXISTS flows")
		if err := resetStatements(ctx, dsn); err != nil {
			t.Fatal(err)
		}
		exec(dsn, 1, "CREATE TABLE flows (id int PRIMARY KEY)")
		exec(dsn, 3, "INSERT INTO flows SELECT coalesce(max(id), 0) + 1 FROM flows")
		exec(dsn, 1, "SELECT count(*) FROM generate_series(1, 300000)") // the slowest by far
		exec(other, 4, "SELECT 41 + 1")
		// The waits sampled meanwhile (measureSampling) are not the server's.
		sctx, stop := context.WithTimeout(ctx, 100*time.Millisecond)
		_, of, err := sampleWaits(sctx, dsn, 10*time.Millisecond)
		stop()
		if err != nil || of != 0 {
			t.Fatalf("sampled %d active backends, %v; want none", of, err)
		}
		if top, total, err = topStatements(ctx, dsn, 2); err != nil {
			t.Fatal(err)
		}
		after, err := evictions(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		if after == before {
			break
		}
		if attempt == 5 {
			t.Fatalf("pg_stat_statements evicted entries during each of %d attempts", attempt)
		}
		t.Logf("attempt %d: pg_stat_statements evicted %d entries meanwhile; again", attempt, after-before)
	}

	if len(top) != 2 || !strings.Contains(top[0].Query, "generate_series") || top[0].Calls != 1 || top[0].Rows != 1 {
		t.Fatalf("top = %+v, want the series first (1 call, 1 row), then one more", top)
	}
	if top[0].ExecMS < top[1].ExecMS {
		t.Errorf("top not ordered by execution time: %+v", top)
	}
	// The CREATE, three INSERTs and the series: not the other database's
	// four, nor the reset, nor the samples.
	if total.Calls != 5 || total.Rows != 4 || total.ExecMS < top[0].ExecMS {
		t.Errorf("total = %+v, want 5 calls and 4 rows, at least the series' time", total)
	}

	if err := resetStatements(ctx, dsn); err != nil {
		t.Fatal(err)
	}
	if top, total, err := topStatements(ctx, dsn, 5); err != nil || len(top) != 0 || total.Calls != 0 {
		t.Errorf("after a reset: %+v, %+v, %v; want nothing", top, total, err)
	}
}

// TestStatementTable: per operation, per call and per row, the query's
// text on one line, cut, and escaped for a Markdown cell.
func TestStatementTable(t *testing.T) {
	var r results
	if r.statementTable() != "" {
		t.Error("a table without statement runs")
	}
	q := "SELECT a\n\t| b FROM `t` WHERE " + strings.Repeat("x", 100)
	r.statements = []statementStat{
		{Scenario: "flow", Ops: 200, Calls: 400, ExecMS: 30, Rows: 1000, Query: q},
		{Scenario: "flow", Ops: 200, Calls: 1200, ExecMS: 90, Rows: 2000},
		{Scenario: "refresh", Ops: 100, Calls: 200, ExecMS: 10, Rows: 200, Evicted: 3},
	}
	text := r.statementTable()
	for _, want := range []string{
		// 80 characters of the query: 28 before the x's.
		"| flow: `SELECT a \\| b FROM 't' WHERE " + strings.Repeat("x", 52) + "…` | 2.00 | 0.150 | 0.075 | 2.5 |",
		"| flow: all statements | 6.00 | 0.450 | 0.075 | 1.7 |",
		// A run that lost entries says so.
		"| refresh: all statements (incomplete: pg_stat_statements evicted 3 entries during the run) | 2.00 | 0.100 | 0.050 | 1.0 |",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the table lacks %q:\n%s", want, text)
		}
	}
}

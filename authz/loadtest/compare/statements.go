package main

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// statementStat is one statement's figures over a run of one scenario, from
// PostgreSQL's pg_stat_statements; Query is empty for the total of every
// statement of the run.
type statementStat struct {
	Scenario string
	Ops      int // the run's operations
	Calls    int64
	ExecMS   float64 // execution time, all calls
	Rows     int64
	Query    string
	// Evicted, on a run's total, is how many entries pg_stat_statements
	// dropped during the run to make room (pg_stat_statements.max): the
	// run's figures may then lack statements.
	Evicted int64
}

// statementRuns runs each scenario once more against bankfeed, without
// warm-up, between a reset and a read of its database's pg_stat_statements:
// which statements an operation makes, and how long PostgreSQL executes
// each (the execution alone: not the round trip, the parse of the
// protocol's messages or the commit). Meanwhile the database's active
// backends are sampled for what they wait on (a row lock's wait is
// execution time that uses no CPU). The runs count in no other table.
func (c *comparer) statementRuns(ctx context.Context, b *server, results *results) error {
	if err := enableStatements(ctx, b.dsn); err != nil {
		return err
	}
	for _, scen := range c.o.scenarios {
		before, err := evictions(ctx, b.dsn)
		if err != nil {
			return err
		}
		if err := resetStatements(ctx, b.dsn); err != nil {
			return err
		}
		r, waits, of, err := c.measureSampling(ctx, b, scen)
		if err != nil {
			return fmt.Errorf("%s: %w", scen, err)
		}
		results.waits = append(results.waits, topWaits(r.Name, waits, of, statementWaits)...)
		top, total, err := topStatements(ctx, b.dsn, c.o.statements)
		if err != nil {
			return err
		}
		after, err := evictions(ctx, b.dsn)
		if err != nil {
			return err
		}
		if total.Evicted = after - before; total.Evicted > 0 {
			c.logf("statements %-18s pg_stat_statements evicted %d entries during the run: its figures may lack statements (raise pg_stat_statements.max)",
				r.Name, total.Evicted)
		}
		for _, st := range append(top, total) {
			st.Scenario, st.Ops = r.Name, r.N
			results.statements = append(results.statements, st)
		}
		c.logf("statements %-18s %d operations, %d statements, %.3f ms of execution per operation",
			r.Name, r.N, total.Calls, total.ExecMS/float64(max(r.N, 1)))
		if c.o.vacuum {
			if err := vacuum(ctx, b.dsn); err != nil {
				return err
			}
		}
	}
	return nil
}

// statementWaits is how many waits statementRuns lists per scenario.
const statementWaits = 6

// waitSampling is how often statementRuns samples the database's backends.
const waitSampling = 20 * time.Millisecond

// measureSampling is one run of scen against b without warm-up while the
// database's active backends are sampled (sampleWaits): which wait, a
// row lock's above all, holds them up.
func (c *comparer) measureSampling(ctx context.Context, b *server, scen string) (runResult, map[string]int, int, error) {
	sctx, stop := context.WithCancel(ctx)
	type sampled struct {
		waits map[string]int
		of    int
		err   error
	}
	done := make(chan sampled, 1)
	go func() {
		w, of, err := sampleWaits(sctx, b.dsn, waitSampling)
		done <- sampled{w, of, err}
	}()
	r, err := c.measure(ctx, b, scen, 0, "-warmup", "0s")
	stop()
	s := <-done
	if err == nil {
		err = s.err
	}
	return r, s.waits, s.of, err
}

// enableStatements creates the extension in dsn's database; the server
// must have loaded it at start.
func enableStatements(ctx context.Context, dsn string) error {
	return withConn(ctx, dsn, func(conn *pgx.Conn) error {
		if _, err := conn.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"); err != nil {
			return fmt.Errorf("pg_stat_statements (start PostgreSQL with shared_preload_libraries=pg_stat_statements): %w", err)
		}
		// The view answers only once the library is loaded.
		if _, err := conn.Exec(ctx, "SELECT 1 FROM pg_stat_statements LIMIT 1"); err != nil {
			return fmt.Errorf("pg_stat_statements (start PostgreSQL with shared_preload_libraries=pg_stat_statements): %w", err)
		}
		return nil
	})
}

// evictions is how many times pg_stat_statements has dropped entries to
// make room since its figures were last reset as a whole: per-database
// resets leave it counting, so a difference over a run says whether the
// run lost entries.
func evictions(ctx context.Context, dsn string) (int64, error) {
	var n int64
	err := withConn(ctx, dsn, func(conn *pgx.Conn) error {
		return conn.QueryRow(ctx, "SELECT dealloc FROM pg_stat_statements_info").Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("pg_stat_statements_info: %w", err)
	}
	return n, nil
}

// resetStatements forgets the figures of dsn's database only.
func resetStatements(ctx context.Context, dsn string) error {
	return withConn(ctx, dsn, func(conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, `SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = current_database()), 0)`)
		if err != nil {
			return fmt.Errorf("reset pg_stat_statements: %w", err)
		}
		return nil
	})
}

// topStatements reads the statements of dsn's database since the last
// reset, but the reads and resets of pg_stat_statements itself and the
// samples of pg_stat_activity (sampleWaits): the n with
// the most execution time, and the total of all.
func topStatements(ctx context.Context, dsn string, n int) ([]statementStat, statementStat, error) {
	var all []statementStat
	err := withConn(ctx, dsn, func(conn *pgx.Conn) error {
		rows, err := conn.Query(ctx, `SELECT calls, total_exec_time, rows, query FROM pg_stat_statements
			WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND toplevel
			AND query NOT LIKE '%pg_stat_statements%' AND query NOT LIKE '%pg_stat_activity%'`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var st statementStat
			if err := rows.Scan(&st.Calls, &st.ExecMS, &st.Rows, &st.Query); err != nil {
				return err
			}
			all = append(all, st)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, statementStat{}, fmt.Errorf("read pg_stat_statements: %w", err)
	}
	var total statementStat
	for _, st := range all {
		total.Calls += st.Calls
		total.ExecMS += st.ExecMS
		total.Rows += st.Rows
	}
	slices.SortFunc(all, func(a, b statementStat) int { return -cmpFloat(a.ExecMS, b.ExecMS) })
	return all[:min(n, len(all))], total, nil
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func withConn(ctx context.Context, dsn string, f func(*pgx.Conn) error) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return f(conn)
}

var spaces = regexp.MustCompile(`\s+`)

// statementTable is statementRuns' table, or nothing without them.
func (r *results) statementTable() string {
	if len(r.statements) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("\n| bankfeed's statements (pg_stat_statements, one run without warm-up) | calls per operation | execution ms per operation | ms per call | rows per call |\n")
	b.WriteString("|---|---|---|---|---|\n")
	for _, st := range r.statements {
		ops := float64(max(st.Ops, 1))
		label := "all statements"
		if st.Evicted > 0 {
			label += fmt.Sprintf(" (incomplete: pg_stat_statements evicted %d entries during the run)", st.Evicted)
		}
		if st.Query != "" {
			q := strings.TrimSpace(spaces.ReplaceAllString(st.Query, " "))
			if len([]rune(q)) > 80 {
				q = string([]rune(q)[:80]) + "…"
			}
			label = "`" + strings.ReplaceAll(strings.ReplaceAll(q, "|", `\|`), "`", "'") + "`"
		}
		perCall, rows := "—", "—"
		if st.Calls > 0 {
			perCall = fmt.Sprintf("%.3f", st.ExecMS/float64(st.Calls))
			rows = fmt.Sprintf("%.1f", float64(st.Rows)/float64(st.Calls))
		}
		fmt.Fprintf(&b, "| %s: %s | %.2f | %.3f | %s | %s |\n", st.Scenario, label,
			float64(st.Calls)/ops, st.ExecMS/ops, perCall, rows)
	}
	return b.String()
}

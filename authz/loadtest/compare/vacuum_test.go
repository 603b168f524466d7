package main

import (
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/bankfeed/bankfeed/store/gormstore/gormtest"
)

// TestVacuumLeavesNoDeadRows: after a run's writes, vacuum leaves autovacuum
// nothing to do in the next run.
func TestVacuumLeavesNoDeadRows(t *testing.T) {
	dsn := gormtest.PostgresDSN(t, "cmpvacuum")
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, q := range []string{
		"CREATE TABLE flows (id int PRIMARY KEY, state text)",
		"INSERT INTO flows SELECT i, 'new' FROM generate_series(1, 5000) i",
		"UPDATE flows SET state = 'done'",
		"DELETE FROM flows WHERE id % 2 = 0",
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := vacuum(ctx, dsn); err != nil {
		t.Fatal(err)
	}
	var dead, vacuums int64
	var analyzed bool
	if err := conn.QueryRow(ctx, `SELECT n_dead_tup, vacuum_count, last_analyze IS NOT NULL
		FROM pg_stat_user_tables WHERE relname = 'flows'`).Scan(&dead, &vacuums, &analyzed); err != nil {
		t.Fatal(err)
	}
	if dead != 0 || vacuums < 1 || !analyzed {
		t.Errorf("after vacuum: %d dead rows, %d vacuums, analyzed %v; want 0, at least 1, true", dead, vacuums, analyzed)
	}
	if err := vacuum(ctx, "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2"); err == nil {
		t.Error("vacuum of an unreachable database: no error")
	}
}

package main

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bankfeed/bankfeed/store/gormstore/gormtest"
)

// TestWaitsOfARowLock: while one transaction holds a row and two more
// update it, the samples of the database's active backends find the first
// waiting for the holder's transaction and the second for the row's tuple
// lock, both named by the row's table; the holder, idle in its
// transaction, is not active, and another database's busy backend is not
// this database's.
func TestWaitsOfARowLock(t *testing.T) {
	ctx := t.Context()
	dsn, other := gormtest.PostgresDSN(t, "cmpwaits"), gormtest.PostgresDSN(t, "cmpwaitsother")
	connect := func(dsn string) *pgx.Conn {
		t.Helper()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close(context.Background()) })
		return conn
	}
	holder := connect(dsn)
	for _, q := range []string{"CREATE TABLE counters (name text PRIMARY KEY, value bigint)", "INSERT INTO counters VALUES ('audit', 0)",
		"BEGIN", "UPDATE counters SET value = value + 1 WHERE name = 'audit'"} {
		if _, err := holder.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	done := make(chan error, 3)
	for range 2 {
		w := connect(dsn)
		go func() {
			_, err := w.Exec(ctx, "UPDATE counters SET value = value + 1 WHERE name = 'audit'")
			done <- err
		}()
	}
	busy := connect(other)
	go func() {
		_, err := busy.Exec(ctx, "SELECT pg_sleep(1.5)")
		done <- err
	}()
	time.Sleep(300 * time.Millisecond) // both updates queued

	sctx, stop := context.WithTimeout(ctx, 500*time.Millisecond)
	defer stop()
	waits, of, err := sampleWaits(sctx, dsn, 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := holder.Exec(ctx, "COMMIT"); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	xid, tuple := waits["Lock:transactionid on counters"], waits["Lock:tuple on counters"]
	if xid < 5 || tuple < 5 || xid+tuple != of {
		t.Fatalf("waits %v of %d samples: want only both updates, waiting for the holder's transaction and for the row's tuple lock on counters", waits, of)
	}
	if xid != tuple {
		t.Errorf("waits %v: the two updates were sampled unevenly", waits)
	}
}

// TestWaitTable: topWaits keeps a scenario's most frequent waits, ties by
// name; the table gives each as a share of the active backends' samples.
func TestWaitTable(t *testing.T) {
	waits := map[string]int{"CPU": 60, "Lock:transactionid on seq_counters": 25, "Lock:tuple on seq_counters": 10, "LWLock:WALWrite": 3, "IO:DataFileExtend": 3}
	top := topWaits("flow", waits, 101, 4)
	var names []string
	for _, w := range top {
		names = append(names, w.Wait)
		if w.Of != 101 || w.Scenario != "flow" {
			t.Errorf("wait %+v: want flow's, of 101", w)
		}
	}
	if got, want := strings.Join(names, ", "), "CPU, Lock:transactionid on seq_counters, Lock:tuple on seq_counters, IO:DataFileExtend"; got != want {
		t.Fatalf("top waits: %s, want %s", got, want)
	}
	r := &results{waits: top}
	table := r.waitTable()
	for _, want := range []string{"| flow: CPU | 59.4 % | 60 of 101 |", "| flow: Lock:transactionid on seq_counters | 24.8 % | 25 of 101 |"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	if (&results{}).waitTable() != "" {
		t.Error("a table without waits")
	}
}

// TestSamplerStopsWithItsContext: a database that never answers (a
// listener that accepts and says nothing) does not hold the sampler, and
// with it the statement run, past the run's end: it stops when its
// context does, with what it counted (nothing).
func TestSamplerStopsWithItsContext(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	ctx, stop := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer stop()
	done := make(chan error, 1)
	go func() {
		_, of, err := sampleWaits(ctx, "postgres://u@"+l.Addr().String()+"/db?sslmode=disable", 20*time.Millisecond)
		if err == nil && of != 0 {
			err = errors.New("samples from a database that never answered")
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the sampler still waits for a silent database 5 s after its context ended")
	}
}

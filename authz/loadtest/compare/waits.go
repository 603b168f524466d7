package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// waitStat is one wait of a scenario's statement run: how many samples of
// its database's active backends found one waiting so (pg_stat_activity's
// wait event, "CPU" for none: running or runnable), of how many samples of
// active backends in all.
type waitStat struct {
	Scenario string
	Wait     string // e.g. "Lock:transactionid on seq_counters"
	N, Of    int
}

// waitQuery reads the database's active client backends (not autovacuum's
// workers, which are not the server's) but the sampler's own, each
// with its wait event and, for a row lock's wait, the tables of the row
// locks it waits for or holds while it waits (the first waiter for a row
// holds its tuple lock and waits for the holder's transaction; the others
// wait for the tuple lock).
const waitQuery = `SELECT coalesce(a.wait_event_type || ':' || a.wait_event, 'CPU'),
	CASE WHEN a.wait_event_type = 'Lock' THEN coalesce((SELECT string_agg(DISTINCT c.relname, ',' ORDER BY c.relname)
		FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE l.pid = a.pid AND l.locktype = 'tuple'), '') ELSE '' END
	FROM pg_stat_activity a WHERE a.datname = current_database() AND a.backend_type = 'client backend'
	AND a.state = 'active' AND a.pid <> pg_backend_pid()`

// sampleWaits samples dsn's active backends every interval until ctx ends,
// and answers the count of each wait (waitStat.Wait) and the samples of
// active backends in all. Its end cuts a connect or a sample in progress
// (that sample is not counted): a database that stops answering does not
// hold the run it samples.
func sampleWaits(ctx context.Context, dsn string, every time.Duration) (map[string]int, int, error) {
	waits, of := map[string]int{}, 0
	err := withConn(ctx, dsn, func(conn *pgx.Conn) error {
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-tick.C:
			}
			sample, err := sampleOnce(ctx, conn)
			if err != nil {
				return err
			}
			for w, n := range sample {
				waits[w] += n
				of += n
			}
		}
	})
	if err != nil && ctx.Err() == nil {
		return nil, 0, fmt.Errorf("sample pg_stat_activity: %w", err)
	}
	return waits, of, nil
}

// sampleOnce is one sample: each wait's count of active backends.
func sampleOnce(ctx context.Context, conn *pgx.Conn) (map[string]int, error) {
	rows, err := conn.Query(ctx, waitQuery)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	sample := map[string]int{}
	for rows.Next() {
		var wait, tables string
		if err := rows.Scan(&wait, &tables); err != nil {
			return nil, err
		}
		if tables != "" {
			wait += " on " + tables
		}
		sample[wait]++
	}
	return sample, rows.Err()
}

// topWaits are the n most frequent waits of a scenario's samples.
func topWaits(scenario string, waits map[string]int, of, n int) []waitStat {
	var out []waitStat
	for w, k := range waits {
		out = append(out, waitStat{Scenario: scenario, Wait: w, N: k, Of: of})
	}
	slices.SortFunc(out, func(a, b waitStat) int {
		if a.N != b.N {
			return b.N - a.N
		}
		return strings.Compare(a.Wait, b.Wait)
	})
	return out[:min(n, len(out))]
}

// waitTable is the statement runs' waits, or nothing without them.
func (r *results) waitTable() string {
	if len(r.waits) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("\n| bankfeed's database during the statement runs (pg_stat_activity, sampled) | share of the active backends' samples | samples |\n")
	b.WriteString("|---|---|---|\n")
	for _, w := range r.waits {
		fmt.Fprintf(&b, "| %s: %s | %.1f %% | %d of %d |\n", w.Scenario, strings.ReplaceAll(w.Wait, "|", `\|`),
			100*float64(w.N)/float64(max(w.Of, 1)), w.N, w.Of)
	}
	return b.String()
}

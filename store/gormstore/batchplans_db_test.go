package gormstore

import (
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// testGrantBatchPlans (PostgreSQL): each batch statement of token grant
// reads, prepared as pgx prepares it and run as introspection runs it on a
// tokens table of some thousands, moves to PostgreSQL's generic plan, so
// that it is not planned anew on every execution. With the keys in arrays
// (unnest) the generic plan guessed ten rows against the custom plans' one
// to four, and PostgreSQL stayed on custom plans (ad1a2eb).
func testGrantBatchPlans(t *testing.T, s *Store) {
	ctx := t.Context()
	if _, err := s.exec(ctx, `INSERT INTO tokens (kind, signature, request_id, client_id, subject, active, requested_at, expires_at,
		first_used_at, access_signature, token_type, key_thumbprint, request)
		SELECT 'access_token', 'sig_' || g, 'cns_' || (g % 500), 'vendor', 'usr_' || (g % 500), TRUE, 0, 0, 0, '', 'bearer', '', ''::bytea
		FROM generate_series(1, 20000) g`, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.exec(ctx, "ANALYZE tokens", nil); err != nil {
		t.Fatal(err)
	}
	conn, err := s.pg.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		c := dc.(*stdlib.Conn).Conn()
		for which, bySize := range grantBatchStatements() {
			for size, text := range bySize[:min(len(bySize), 3)] { // 1, 2 and 4 keys: the usual batches
				text = dollarPlaceholders(text)
				for run := range 8 {
					var args []any
					for i := range 1 << size {
						args = append(args, "access_token", fmt.Sprint("sig_", 1+(run*7+i*13)%20000))
					}
					rows, err := c.Query(ctx, text, args...)
					if err != nil {
						return err
					}
					rows.Close()
					if err := rows.Err(); err != nil {
						return err
					}
				}
				var generic, custom int64
				if err := c.QueryRow(ctx, "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = $1",
					pgx.QueryExecModeSimpleProtocol, text).Scan(&generic, &custom); err != nil {
					return fmt.Errorf("statement %d of %d keys: %w", which, 1<<size, err)
				}
				if generic == 0 {
					t.Errorf("statement %d of %d keys: %d custom plans in 8 runs, no generic plan", which, 1<<size, custom)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

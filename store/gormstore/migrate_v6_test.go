package gormstore

import (
	"strings"
	"testing"
)

// RunOutboxIndexTests lets the external tests run testOutboxIndexes on a
// store from gormtest.
var RunOutboxIndexTests = testOutboxIndexes

// testOutboxIndexes: migration 6's indexes exist, and on SQLite (whose
// planner needs no statistics to pick them) the sweep's DELETE and the
// operators' list search them instead of scanning the outbox.
func testOutboxIndexes(t *testing.T, s *Store) {
	ctx := t.Context()
	for _, name := range []string{"outbox_deliveries_delivered", "outbox_deliveries_status"} {
		q := "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = ?"
		if s.dialect == dialectPostgres {
			q = "SELECT COUNT(*) FROM pg_indexes WHERE indexname = ? AND schemaname = current_schema()"
		}
		var n int64
		if err := s.r.WithContext(ctx).Raw(q, name).Scan(&n).Error; err != nil || n != 1 {
			t.Errorf("index %s: %d, %v", name, n, err)
		}
	}
	if s.dialect != dialectSQLite {
		return
	}
	// With the status bound as a parameter, as DeleteDeliveredBefore and
	// ListDeliveriesByStatus bind it.
	for _, c := range []struct {
		stmt, index string
		args        []any
	}{
		{"DELETE FROM outbox_deliveries WHERE status = ? AND delivered_at < ?", "outbox_deliveries_delivered", []any{"delivered", 5}},
		{"SELECT id FROM outbox_deliveries WHERE status = ? AND id > ? ORDER BY id LIMIT ?", "outbox_deliveries_status", []any{"dead", "x", 101}},
	} {
		var plan []struct {
			Detail string `gorm:"column:detail"`
		}
		if err := s.r.WithContext(ctx).Raw("EXPLAIN QUERY PLAN "+c.stmt, c.args...).Scan(&plan).Error; err != nil {
			t.Fatalf("explain %s: %v", c.stmt, err)
		}
		var details []string
		for _, p := range plan {
			details = append(details, p.Detail)
		}
		if d := strings.Join(details, "; "); !strings.Contains(d, c.index) {
			t.Errorf("%s: plan %q does not use %s", c.stmt, d, c.index)
		}
	}
}

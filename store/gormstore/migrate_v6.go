package gormstore

// outboxV6 (issue 11): indexes for the outbox's other readers. The workers'
// claim ("pending and due, oldest first") already has v5's partial index.
// The expiry sweep deletes delivered rows by delivered_at: without an index
// it scanned the whole table under the sweep's lock, and delivered rows are
// most of it (kept for notifications.delivered_retention). Operators list
// dead (or pending) deliveries by status, paged by ID. Both lead with the
// status, not a partial index's WHERE status = '…': the statements bind
// the status as a parameter, and SQLite uses a partial index only for a
// literal.
func outboxV6(d dialect) []string {
	return ddl(d,
		`CREATE INDEX outbox_deliveries_delivered ON outbox_deliveries (status, delivered_at)`,
		`CREATE INDEX outbox_deliveries_status ON outbox_deliveries (status, id)`,
	)
}

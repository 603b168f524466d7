package gormstore

// RunMigrationTests lets the external tests run the migration tests on a
// PostgreSQL store from gormtest, which this package's own tests cannot
// import (gormtest imports gormstore).
var RunMigrationTests = testMigrations

// RunQueryTests runs the query tests on a migrated store from gormtest.
var RunQueryTests = testQuery

// GrantReadsQueued is how many token grant reads wait for a batch.
func GrantReadsQueued(s *Store) int {
	n := 0
	for _, b := range s.grantBatches {
		if b != nil {
			b.mu.Lock()
			n += len(b.queue)
			b.mu.Unlock()
		}
	}
	return n
}

// GrantBatchSlots is how many batches of token grant reads run at once.
const GrantBatchSlots = grantBatchSlots

// RunGrantBatchPlanTest runs testGrantBatchPlans on a migrated PostgreSQL
// store from gormtest.
var RunGrantBatchPlanTest = testGrantBatchPlans

// RunFlowCommitTest runs testFlowCommit on a PostgreSQL store from
// gormtest whose connections default to synchronous_commit on.
var RunFlowCommitTest = testFlowCommit

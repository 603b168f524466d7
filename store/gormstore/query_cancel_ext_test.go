package gormstore_test

import (
	"testing"

	"github.com/bankfeed/bankfeed/store/gormstore"
	"github.com/bankfeed/bankfeed/store/gormstore/gormtest"
)

// TestPostgresCancelledQueries cancels queries mid-flight on pgx's path,
// then checks the pool still serves every caller (issue 15, finding 1).
func TestPostgresCancelledQueries(t *testing.T) {
	gormstore.RunCancelTests(t, gormtest.Open(t, "", gormstore.Config{DSN: gormtest.PostgresDSN(t, "bankfeed_test"), MaxOpenConns: 4}))
}

// TestSQLiteCancelledQueries is the same on database/sql's path.
func TestSQLiteCancelledQueries(t *testing.T) {
	gormstore.RunCancelTests(t, newSQLite(t))
}

// TestPostgresCancelledConnDiscarded: a connection whose query was
// cancelled is replaced, not reused (issue 15, finding 1).
func TestPostgresCancelledConnDiscarded(t *testing.T) {
	gormstore.RunCancelledConnTests(t, gormtest.Open(t, "", gormstore.Config{DSN: gormtest.PostgresDSN(t, "bankfeed_test"), MaxOpenConns: 1}))
}

// TestPostgresCancelledConnDiscardedSQL is the same through database/sql.
func TestPostgresCancelledConnDiscardedSQL(t *testing.T) {
	gormstore.RunCancelledConnSQLTests(t, gormtest.Open(t, "", gormstore.Config{DSN: gormtest.PostgresDSN(t, "bankfeed_test"), MaxOpenConns: 1}))
}

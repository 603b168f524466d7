package gormstore_test

import (
	"testing"

	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/store/gormstore"
	"github.com/bankfeed/bankfeed/store/gormstore/gormtest"
	"github.com/bankfeed/bankfeed/store/storetest"
)

const postgresEnv = gormtest.PostgresEnv

// newPostgres opens and migrates a store on a freshly created database,
// dropped when tb ends.
func newPostgres(tb testing.TB) *gormstore.Store {
	tb.Helper()
	return openPostgres(tb, gormtest.PostgresDSN(tb, "bankfeed_test"))
}

// openPostgres opens and migrates a store at dsn.
func openPostgres(tb testing.TB, dsn string) *gormstore.Store {
	tb.Helper()
	return gormtest.Open(tb, "", gormstore.Config{DSN: dsn, MaxOpenConns: 40})
}

func TestPostgres(t *testing.T) {
	// One database per run (skipped without BANKFEED_TEST_POSTGRES_DSN), one
	// schema per sub-test.
	db := gormtest.PostgresDSN(t, "bankfeed_test")
	storetest.Run(t, func(t *testing.T) store.Store { return openPostgres(t, gormtest.PostgresSchema(t, db)) })
}

// TestPostgresQuery runs the query tests where query takes pgx's path.
func TestPostgresQuery(t *testing.T) {
	gormstore.RunQueryTests(t, newPostgres(t))
}

func TestPostgresMigrations(t *testing.T) {
	db := gormtest.PostgresDSN(t, "bankfeed_test")
	gormstore.RunMigrationTests(t, func(t *testing.T) *gormstore.Store {
		return gormtest.OpenUnmigrated(t, "", gormstore.Config{DSN: gormtest.PostgresSchema(t, db)})
	})
}

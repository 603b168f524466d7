package gormstore_test

import (
	"os"
	"testing"

	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/store/gormstore"
	"github.com/bankfeed/bankfeed/store/storetest"
)

const postgresEnv = gormstore.PostgresEnv

// newPostgres opens and migrates a store on a freshly created database,
// dropped when tb ends.
func newPostgres(tb testing.TB) *gormstore.Store {
	tb.Helper()
	return openPostgres(tb, gormstore.NewPostgresDatabase(tb))
}

// openPostgres opens and migrates a store at dsn.
func openPostgres(tb testing.TB, dsn string) *gormstore.Store {
	tb.Helper()
	s, err := gormstore.Open(tb.Context(), gormstore.Config{DSN: dsn, MaxOpenConns: 40})
	if err != nil {
		tb.Fatalf("open postgres: %v", err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	if err := s.Migrate(tb.Context()); err != nil {
		tb.Fatalf("migrate postgres: %v", err)
	}
	return s
}

func TestPostgres(t *testing.T) {
	if os.Getenv(postgresEnv) == "" {
		t.Skipf("%s not set: skipping PostgreSQL", postgresEnv)
	}
	// One database per run, one schema per sub-test.
	db := gormstore.NewPostgresDatabase(t)
	storetest.Run(t, func(t *testing.T) store.Store { return openPostgres(t, gormstore.NewPostgresSchema(t, db)) })
}

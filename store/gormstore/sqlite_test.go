package gormstore_test

import (
	"path/filepath"
	"testing"

	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/store/gormstore"
	"github.com/bankfeed/bankfeed/store/gormstore/gormtest"
	"github.com/bankfeed/bankfeed/store/storetest"
)

// newSQLite opens and migrates a fresh SQLite database file (WAL) in a
// temporary directory, whatever BANKFEED_TEST_POSTGRES_DSN says.
func newSQLite(t testing.TB) *gormstore.Store {
	t.Helper()
	return gormtest.Open(t, "", gormstore.Config{DSN: filepath.Join(t.TempDir(), "bankfeed.db")})
}

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return newSQLite(t) })
}

func TestSQLiteQuery(t *testing.T) {
	gormstore.RunQueryTests(t, newSQLite(t))
}

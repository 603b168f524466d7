package gormstore_test

import (
	"path/filepath"
	"testing"

	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/store/gormstore"
	"github.com/bankfeed/bankfeed/store/storetest"
)

// newSQLite opens and migrates a fresh SQLite database file (WAL) in a
// temporary directory.
func newSQLite(t testing.TB) *gormstore.Store {
	t.Helper()
	s, err := gormstore.Open(t.Context(), gormstore.Config{DSN: filepath.Join(t.TempDir(), "bankfeed.db")})
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("migrate sqlite: %v", err)
	}
	return s
}

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return newSQLite(t) })
}

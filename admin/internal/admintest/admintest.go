package admintest

import (
	"database/sql"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver for creating test databases

	"github.com/bankfeed/bankfeed/store/gormstore"
)

var dbSeq atomic.Int64

// OpenStore opens a fresh, migrated store: a SQLite file of the test's own,
// or a new PostgreSQL database when BANKFEED_TEST_POSTGRES_DSN is set
// (created for this test and dropped after it, never anyone else's). prefix
// starts the database's name, so a leftover one says which tests made it.
func OpenStore(t testing.TB, prefix string) *gormstore.Store {
	t.Helper()
	ctx := t.Context()
	dsn := filepath.Join(t.TempDir(), "bankfeed.db")
	if pg := os.Getenv("BANKFEED_TEST_POSTGRES_DSN"); pg != "" {
		dsn = freshPostgres(t, pg, prefix)
	}
	st, err := gormstore.Open(ctx, gormstore.Config{DSN: dsn, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return st
}

func freshPostgres(t testing.TB, dsn, prefix string) string {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	name := fmt.Sprintf("%s_%d_%d_%d", prefix, os.Getpid(), time.Now().UnixNano(), dbSeq.Add(1))
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		_, _ = db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		_ = db.Close()
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("postgres dsn: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

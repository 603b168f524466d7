package gormtest_test

import (
	"database/sql"
	"net/url"
	"os"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/bankfeed/bankfeed/internal/testenv"
	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/store/gormstore"
	"github.com/bankfeed/bankfeed/store/gormstore/gormtest"
)

// TestOpenStoreIsFresh: each call is a database of its own, migrated.
func TestOpenStoreIsFresh(t *testing.T) {
	ctx := t.Context()
	a := gormtest.OpenStore(t, "gormtest_test")
	b := gormtest.OpenStore(t, "gormtest_test")
	if err := a.Ping(ctx); err != nil {
		t.Fatalf("Ping after OpenStore: %v", err)
	}
	if _, err := a.CreateBusinessGroup(ctx, store.BusinessGroup{ID: "bg", Name: "Maple"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.CreateBusinessGroup(ctx, store.BusinessGroup{ID: "bg", Name: "Maple"}); err != nil {
		t.Fatalf("the second store shares the first's database: %v", err)
	}
}

func TestOpenUnmigrated(t *testing.T) {
	st := gormtest.OpenUnmigrated(t, "gormtest_test", gormstore.Config{})
	if err := st.Ping(t.Context()); err == nil || !strings.Contains(err.Error(), "pending") {
		t.Fatalf("Ping = %v, want a pending-migrations error", err)
	}
}

// TestPostgresDSNDropped: the database is named after the prefix and gone
// once its test has ended.
func TestPostgresDSNDropped(t *testing.T) {
	base := os.Getenv(gormtest.PostgresEnv)
	if base == "" {
		testenv.Need(t, testenv.Postgres, gormtest.PostgresEnv+" not set")
	}
	var name string
	t.Run("use", func(t *testing.T) {
		dsn := gormtest.PostgresDSN(t, "gormtest_test")
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		name = strings.TrimPrefix(u.Path, "/")
		if !strings.HasPrefix(name, "gormtest_test_") {
			t.Errorf("database %q does not start with the prefix", name)
		}
		if !exists(t, base, name) {
			t.Fatalf("database %s not created", name)
		}
		// A store left open on it must not keep it from being dropped.
		gormtest.Open(t, "", gormstore.Config{DSN: gormtest.PostgresSchema(t, dsn)})
	})
	if exists(t, base, name) {
		t.Errorf("database %s still exists after its test", name)
	}
}

func exists(t *testing.T, dsn, name string) bool {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(t.Context(), "SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n == 1
}

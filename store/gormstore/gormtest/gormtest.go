package gormtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx", to create and drop test databases

	"github.com/bankfeed/bankfeed/internal/testenv"
	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/store/gormstore"
)

// PostgresEnv names the DSN of a PostgreSQL server the tests may create
// databases on, e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable.
// Unset, tests run on SQLite.
const PostgresEnv = "BANKFEED_TEST_POSTGRES_DSN"

// OpenStore opens a fresh, migrated store with a discarding logger: see
// Open.
func OpenStore(t testing.TB, prefix string) *gormstore.Store {
	t.Helper()
	return Open(t, prefix, gormstore.Config{})
}

// Open opens a store with cfg on a fresh database (DSN(t, prefix) unless
// cfg.DSN is set), migrates it and closes it when t ends. A nil cfg.Logger
// discards the store's log.
func Open(t testing.TB, prefix string, cfg gormstore.Config) *gormstore.Store {
	t.Helper()
	st := OpenUnmigrated(t, prefix, cfg)
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatalf("gormtest: migrate: %v", err)
	}
	return st
}

// cheapHashing turns cheap password hashing on once per test process:
// users created by tests need no production-cost hashes. A test that needs
// production cost (a bound on hashing work) turns it off and back.
var cheapHashing sync.Once

// OpenUnmigrated is Open without Migrate, for tests of migration itself.
func OpenUnmigrated(t testing.TB, prefix string, cfg gormstore.Config) *gormstore.Store {
	t.Helper()
	cheapHashing.Do(func() { store.SetCheapHashingForTests(true) })
	if cfg.DSN == "" {
		cfg.DSN = DSN(t, prefix)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	st, err := gormstore.Open(t.Context(), cfg)
	if err != nil {
		t.Fatalf("gormtest: open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// DSN returns the DSN of a fresh, empty database of t's own: a new
// PostgreSQL database (see PostgresDSN) when PostgresEnv is set, else a
// SQLite file in t.TempDir().
func DSN(t testing.TB, prefix string) string {
	t.Helper()
	if os.Getenv(PostgresEnv) != "" {
		return PostgresDSN(t, prefix)
	}
	checkPrefix(t, prefix)
	return filepath.Join(t.TempDir(), prefix+".db")
}

// PostgresDSN creates an empty database <prefix>_<random> on the server
// named by PostgresEnv, drops it when t ends (after the cleanups registered
// later, such as closing a store on it, have run) and returns its DSN. It
// skips t when PostgresEnv is unset.
func PostgresDSN(t testing.TB, prefix string) string {
	t.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		testenv.Need(t, testenv.Postgres, PostgresEnv+" not set")
	}
	checkPrefix(t, prefix)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("gormtest: %s: %v", PostgresEnv, err)
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	name := prefix + "_" + hex.EncodeToString(b)
	if err := serverExec(t.Context(), base, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("gormtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		// t.Context() is already cancelled when cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := serverExec(ctx, base, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("gormtest: drop database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

// PostgresSchema creates an empty schema in the PostgreSQL database at dsn
// and returns a DSN whose search_path is that schema: cheaper than a
// database per sub-test and as isolated for a store. The schema goes when
// its database is dropped (make dsn one of PostgresDSN's).
func PostgresSchema(t testing.TB, dsn string) string {
	t.Helper()
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	name := "s_" + hex.EncodeToString(b)
	if err := serverExec(t.Context(), dsn, "CREATE SCHEMA "+name); err != nil {
		t.Fatalf("gormtest: create schema %s: %v", name, err)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("gormtest: %v", err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}

// serverExec runs one statement on a connection of its own: CREATE and DROP
// DATABASE cannot run in a transaction, and holding no idle connection
// between tests spares the shared server's connection limit.
func serverExec(ctx context.Context, dsn, q string) error {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, q)
	return err
}

// A prefix goes unquoted into CREATE DATABASE: a plain lower-case
// identifier, short enough to leave room for the random suffix within
// PostgreSQL's 63 bytes.
var prefixRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

func checkPrefix(t testing.TB, prefix string) {
	t.Helper()
	if !prefixRE.MatchString(prefix) {
		t.Fatalf("gormtest: prefix %q: want %s", prefix, prefixRE)
	}
}

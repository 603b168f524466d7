package gormstore

import (
	"context"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/store"
)

// PostgresEnv names the DSN of a server the tests may create databases on,
// e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable.
const PostgresEnv = "BANKFEED_TEST_POSTGRES_DSN"

// NewPostgresDatabase creates an empty database bankfeed_test_<random> on
// the server named by PostgresEnv (skipping tb when unset), drops it when tb
// ends, and returns its DSN.
func NewPostgresDatabase(tb testing.TB) string {
	tb.Helper()
	admin := os.Getenv(PostgresEnv)
	if admin == "" {
		tb.Skipf("%s not set: skipping PostgreSQL", PostgresEnv)
	}
	u, err := url.Parse(admin)
	if err != nil {
		tb.Fatalf("%s: %v", PostgresEnv, err)
	}
	name := "bankfeed_test_" + strings.ToLower(strings.NewReplacer("-", "", "_", "").Replace(store.RandomToken(9)))
	exec := func(ctx context.Context, q string) error {
		root, err := Open(ctx, Config{DSN: admin, MaxOpenConns: 1})
		if err != nil {
			return err
		}
		defer root.Close()
		return root.w.WithContext(ctx).Exec(q).Error
	}
	if err := exec(tb.Context(), "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("create database %s: %v", name, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Errorf("drop database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

// NewPostgresSchema creates an empty schema in the database at dsn and
// returns a DSN whose search_path is that schema: cheaper than a database
// per sub-test, as isolated for a store (the database is dropped at the end).
func NewPostgresSchema(tb testing.TB, dsn string) string {
	tb.Helper()
	name := "s_" + strings.ToLower(strings.NewReplacer("-", "", "_", "").Replace(store.RandomToken(9)))
	root, err := Open(tb.Context(), Config{DSN: dsn, MaxOpenConns: 1})
	if err != nil {
		tb.Fatalf("connect: %v", err)
	}
	defer root.Close()
	if err := root.w.WithContext(tb.Context()).Exec("CREATE SCHEMA " + name).Error; err != nil {
		tb.Fatalf("create schema %s: %v", name, err)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}

func TestPostgresMigrations(t *testing.T) {
	if os.Getenv(PostgresEnv) == "" {
		t.Skipf("%s not set: skipping PostgreSQL", PostgresEnv)
	}
	db := NewPostgresDatabase(t)
	testMigrations(t, func(t *testing.T) *Store {
		s, err := Open(t.Context(), Config{DSN: NewPostgresSchema(t, db)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

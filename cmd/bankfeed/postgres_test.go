package main

import (
	"bytes"
	"database/sql"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx", to create the test database

	"github.com/bankfeed/bankfeed/store"
)

// newPostgresDatabase creates a fresh database on BANKFEED_TEST_POSTGRES_DSN
// (skipping when unset), drops it afterwards, and returns its DSN.
func newPostgresDatabase(t *testing.T) string {
	t.Helper()
	base := os.Getenv("BANKFEED_TEST_POSTGRES_DSN")
	if base == "" {
		t.Skip("BANKFEED_TEST_POSTGRES_DSN not set: skipping PostgreSQL")
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	name := "cmd_test_" + strings.ToLower(strings.NewReplacer("-", "", "_", "").Replace(store.RandomToken(9)))
	if _, err := admin.ExecContext(t.Context(), "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	// Cleanups run last-in first-out: this one runs after serve has stopped.
	t.Cleanup(func() { _, _ = admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)") })
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

func TestPostgresMigrateAndServe(t *testing.T) {
	dsn := newPostgresDatabase(t)
	getenv := env(
		"BANKFEED_DATABASE_URL="+dsn,
		"BANKFEED_KEY_ENCRYPTION_KEY=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		"BANKFEED_TOKEN_SECRET="+strings.Repeat("t", 40),
	)
	status := func() string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if err := run(t.Context(), []string{"migrate", "status"}, getenv, &stdout, &stderr); err != nil {
			t.Fatalf("migrate status: %v\n%s", err, stderr.String())
		}
		return stdout.String()
	}
	if out := status(); strings.Contains(out, ", 0 pending") {
		t.Fatalf("a fresh database shows nothing pending:\n%s", out)
	}

	s := startServe(t, getenv, "") // migrate_on_start applies the schema
	if res := get(t, s.URL+"/readyz"); res.StatusCode != http.StatusOK {
		t.Fatalf("readyz on PostgreSQL = %d\n%s", res.StatusCode, s.Stderr)
	}
	s.Stop()
	if out := status(); !strings.Contains(out, ", 0 pending") {
		t.Errorf("migrations pending after serve:\n%s", out)
	}
	if strings.Contains(s.Stderr.String(), "key-encryption-key") {
		t.Error("secrets were generated in the data dir although PostgreSQL needs shared ones")
	}
}

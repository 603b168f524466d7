package main

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/bankfeed/bankfeed/store/gormstore/gormtest"
)

func TestPostgresMigrateAndServe(t *testing.T) {
	// Skips without BANKFEED_TEST_POSTGRES_DSN. Cleanups run last-in
	// first-out: the database is dropped after serve has stopped.
	dsn := gormtest.PostgresDSN(t, "cmd_test")
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

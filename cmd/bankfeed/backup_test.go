package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	_ "github.com/glebarez/go-sqlite" // database/sql driver "sqlite", for the integrity check

	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/store/gormstore"
)

// TestBackupWhileServing: bankfeed backup copies the database serve is using
// while another writer commits into it; the copy is a migrated database
// holding at least what was committed before the backup began, passes
// SQLite's integrity check, and the server stays ready. A second backup to
// the same file is refused unless --force.
func TestBackupWhileServing(t *testing.T) {
	s := startServe(t, env(), "")
	st := dirStore(t, s.DataDir)
	ctx := t.Context()
	create := func(ctx context.Context, i int) error {
		_, err := st.CreateBusinessGroup(ctx, store.BusinessGroup{Name: fmt.Sprintf("Business %d", i)})
		return err
	}
	for i := range 20 {
		if err := create(ctx, i); err != nil {
			t.Fatal(err)
		}
	}

	// A writer commits throughout the backup.
	wctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 20; wctx.Err() == nil; i++ {
			if err := create(wctx, i); err != nil && wctx.Err() == nil {
				t.Errorf("write during the backup: %v", err)
				return
			}
		}
	})
	path := filepath.Join(t.TempDir(), "backup.db")
	out, stderr, err := cli(t, s.DataDir, "backup", path)
	stop()
	wg.Wait()
	if err != nil {
		t.Fatalf("backup: %v\n%s", err, stderr)
	}
	if !strings.HasPrefix(out, path+"\t") {
		t.Errorf("backup printed %q", out)
	}
	if res := get(t, s.URL+"/readyz"); res.StatusCode != 200 {
		t.Errorf("readyz after the backup: %d", res.StatusCode)
	}

	copied, err := gormstore.Open(ctx, gormstore.Config{DSN: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { copied.Close() })
	if err := copied.Ping(ctx); err != nil {
		t.Errorf("the copy: %v", err)
	}
	groups, err := copied.ListBusinessGroups(ctx)
	if err != nil || len(groups) < 20 {
		t.Errorf("the copy holds %d business groups (%v); want at least the 20 committed before it", len(groups), err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var check string
	if err := db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check: %q, %v", check, err)
	}

	if _, _, err := cli(t, s.DataDir, "backup", path); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Errorf("backup over an existing file: %v; want a refusal naming --force", err)
	}
	if _, stderr, err := cli(t, s.DataDir, "backup", "--force", path); err != nil {
		t.Errorf("backup --force: %v\n%s", err, stderr)
	}
	if _, _, err := cli(t, s.DataDir, "backup", filepath.Join(s.DataDir, "bankfeed.db"), "--force"); err == nil || !strings.Contains(err.Error(), "the database itself") {
		t.Errorf("backup onto the database: %v; want a refusal", err)
	}
}

// TestBackupRefusesPostgres: bankfeed backup points a PostgreSQL operator
// to pg_dump and the README without connecting.
func TestBackupRefusesPostgres(t *testing.T) {
	b := filepath.Join(t.TempDir(), "b.db")
	err := run(t.Context(), []string{"backup", b, "--database-url", "postgres://bankfeed@127.0.0.1:1/bankfeed?sslmode=disable"},
		env("BANKFEED_KEY_ENCRYPTION_KEY=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", "BANKFEED_TOKEN_SECRET="+strings.Repeat("s", 32)),
		&bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "pg_dump") || !strings.Contains(err.Error(), "README") {
		t.Errorf("backup on PostgreSQL: %v; want a refusal pointing to pg_dump and the README", err)
	}
	if _, err := os.Stat(b); err == nil {
		t.Error("a file was written")
	}
}

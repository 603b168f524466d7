package gormstore_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/store/gormstore"
	"github.com/bankfeed/bankfeed/store/gormstore/gormtest"
)

// TestTryExclusive: fn runs and its writes commit, also on a pool of one
// connection (the lock's transaction is the one fn's writes use); on
// PostgreSQL a second store on the database is refused while the first
// holds the name, not for another name, and gets it once the first is done.
func TestTryExclusive(t *testing.T) {
	dsn := gormtest.DSN(t, "lock_test")
	one := gormtest.Open(t, "", gormstore.Config{DSN: dsn, MaxOpenConns: 1})
	other := gormtest.OpenUnmigrated(t, "", gormstore.Config{DSN: dsn})
	ctx := t.Context()
	rec := store.TokenRecord{Kind: store.TokenAuthorizeCode, Signature: "s1", RequestID: "r1", ClientID: "c", Active: true,
		RequestedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour), Request: []byte(`{}`)}

	var inside []bool
	ran, err := one.TryExclusive(ctx, "a", func(ctx context.Context) error {
		if err := one.CreateToken(ctx, rec); err != nil {
			return err
		}
		if isPostgresDSN(dsn) {
			for _, name := range []string{"a", "b"} {
				got, err := other.TryExclusive(ctx, name, func(context.Context) error { return nil })
				if err != nil {
					return err
				}
				inside = append(inside, got)
			}
		}
		return nil
	})
	if err != nil || !ran {
		t.Fatalf("TryExclusive = %v, %v; want it to run", ran, err)
	}
	if _, err := other.GetToken(ctx, store.TokenAuthorizeCode, "s1"); err != nil {
		t.Errorf("fn's write: %v", err)
	}
	if isPostgresDSN(dsn) {
		if len(inside) != 2 || inside[0] || !inside[1] {
			t.Errorf("another store while the lock is held: got [a b] = %v; want [false true]", inside)
		}
		if got, err := other.TryExclusive(ctx, "a", func(context.Context) error { return nil }); err != nil || !got {
			t.Errorf("another store after the lock was released: %v, %v", got, err)
		}
	}

	boom := errors.New("boom")
	if _, err := one.TryExclusive(ctx, "a", func(context.Context) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("fn's error: %v", err)
	}
}

// TestBackupSQLite: the copy is a database holding what was committed, an
// existing file is refused and kept unless overwrite, no temporary file is
// left beside it, and PostgreSQL is refused.
func TestBackupSQLite(t *testing.T) {
	dsn := gormtest.DSN(t, "backup_test")
	st := gormtest.Open(t, "", gormstore.Config{DSN: dsn})
	ctx := t.Context()
	if isPostgresDSN(dsn) {
		if _, err := st.BackupSQLite(ctx, filepath.Join(t.TempDir(), "b.db"), false); !errors.Is(err, gormstore.ErrBackupUnsupported) {
			t.Errorf("backup on PostgreSQL: %v; want ErrBackupUnsupported", err)
		}
		return
	}
	rec := store.TokenRecord{Kind: store.TokenAuthorizeCode, Signature: "s1", RequestID: "r1", ClientID: "c", Active: true,
		RequestedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour), Request: []byte(`{}`)}
	if err := st.CreateToken(ctx, rec); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "backup.db")
	n, err := st.BackupSQLite(ctx, path, false)
	if err != nil || n == 0 {
		t.Fatalf("backup: %d bytes, %v", n, err)
	}
	copied, err := gormstore.Open(ctx, gormstore.Config{DSN: path})
	if err != nil {
		t.Fatal(err)
	}
	if err := copied.Ping(ctx); err != nil {
		t.Errorf("the copy is not a migrated database: %v", err)
	}
	if _, err := copied.GetToken(ctx, store.TokenAuthorizeCode, "s1"); err != nil {
		t.Errorf("the copy lacks a committed record: %v", err)
	}
	if err := copied.Close(); err != nil { // its -wal and -shm go with it
		t.Fatal(err)
	}

	if err := os.WriteFile(path, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := st.BackupSQLite(ctx, path, false); err == nil {
		t.Error("backup over an existing file succeeded without overwrite")
	}
	if b, _ := os.ReadFile(path); string(b) != "keep" {
		t.Error("a refused backup changed the existing file")
	}
	if _, err := st.BackupSQLite(ctx, path, true); err != nil {
		t.Errorf("backup with overwrite: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) == "keep" {
		t.Error("backup with overwrite kept the old file")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("files beside the backup: %v; want only backup.db", names)
	}
}

func isPostgresDSN(dsn string) bool { return strings.HasPrefix(dsn, "postgres://") }

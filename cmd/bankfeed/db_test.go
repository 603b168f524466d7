package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCommandsRefuseMissingDatabase: a command that works on the server's
// database, run where there is none (no --data-dir, a typo in it), must say
// so and leave nothing behind — not create an empty ./data/bankfeed.db (and
// a new key-encryption key) that serve would then never read (issue 11 §2).
func TestCommandsRefuseMissingDatabase(t *testing.T) {
	jsonl := filepath.Join(t.TempDir(), "rows.jsonl")
	if err := os.WriteFile(jsonl, []byte("{}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"keys", "rotate"},
		{"keys", "list"},
		{"clients", "list"},
		{"clients", "show", "c1"},
		{"clients", "delete", "c1"},
		{"clients", "create", "--name", "Vendor", "--secret", "--first-party"},
		{"clients", "rotate-secret", "c1"},
		{"business", "create", "--name", "Acme"},
		{"import", jsonl},
		{"backup", filepath.Join(t.TempDir(), "backup.db")},
	} {
		t.Run(strings.Join(args[:2], " "), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			_, stderr, err := cli(t, dir, args...)
			if err == nil || !strings.Contains(err.Error(), "does not exist") || !strings.Contains(err.Error(), "bankfeed migrate") {
				t.Errorf("%s without a database: %v; want a refusal naming the missing database and bankfeed migrate\n%s", args, err, stderr)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("%s created %s (%v)", args, dir, err)
			}
		})
	}
	t.Run("database-url", func(t *testing.T) {
		db := filepath.Join(t.TempDir(), "typo.db")
		var args = []string{"keys", "list", "--database-url", db}
		_, _, err := cli(t, filepath.Join(t.TempDir(), "data"), args...)
		if err == nil || !strings.Contains(err.Error(), "does not exist") {
			t.Errorf("%s: %v; want a refusal", args, err)
		}
		if _, err := os.Stat(db); !os.IsNotExist(err) {
			t.Errorf("%s created %s (%v)", args, db, err)
		}
	})
}

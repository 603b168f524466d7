package gormstore

import (
	"path/filepath"
	"testing"
)

// TestBackupLeavesReadersReadOnly: the backup borrows a reader connection
// and lets it write for VACUUM INTO; it must go back to the readers
// query_only, or a later read path could write.
func TestBackupLeavesReadersReadOnly(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(t.Context(), Config{DSN: filepath.Join(dir, "db.sqlite"), MaxOpenConns: 1}) // one reader: the one borrowed
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.BackupSQLite(t.Context(), filepath.Join(dir, "backup.db"), false); err != nil {
		t.Fatal(err)
	}
	if err := s.r.WithContext(t.Context()).Exec("CREATE TABLE written_by_a_reader (a INTEGER)").Error; err == nil {
		t.Error("a reader connection writes after the backup: query_only was not set back")
	}
}

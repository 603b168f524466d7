package gormstore

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
)

// TryExclusive runs fn unless another process holding the same named lock
// on this database runs it now, and reports whether fn ran. Replicas use it
// for periodic work that one of them is enough for (the sweep of expired
// records).
//
// On PostgreSQL the lock is pg_try_advisory_xact_lock on a key hashed from
// name, taken in a transaction that fn's store calls join (through ctx, as
// InTx's): fn's writes commit together, need no second connection (a pool
// of one cannot deadlock), and the lock goes when the transaction ends —
// also when the process dies or its connection breaks, so a crashed replica
// never leaves it held. Advisory locks are per database: stores in
// different schemas of one database share the name's lock.
//
// On SQLite fn always runs (in ctx as given): the file has one host, and its
// single writer already serialises the work.
func (s *Store) TryExclusive(ctx context.Context, name string, fn func(context.Context) error) (bool, error) {
	if s.dialect != dialectPostgres {
		return true, fn(ctx)
	}
	var got bool
	err := s.InTx(ctx, func(ctx context.Context) error {
		if err := s.txFrom(ctx).WithContext(ctx).Raw("SELECT pg_try_advisory_xact_lock(?)", lockKey(name)).Scan(&got).Error; err != nil {
			return fmt.Errorf("gormstore: lock %s: %w", name, translate(err))
		}
		if !got {
			return nil
		}
		return fn(ctx)
	})
	return got, err
}

// lockKey maps a lock's name to PostgreSQL's bigint advisory-lock key space.
func lockKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("bankfeed:" + name))
	return int64(h.Sum64()) //nolint:gosec // a key, any bit pattern will do
}

// ErrBackupUnsupported is BackupSQLite's answer on PostgreSQL, whose backups
// are the server's tools' job (pg_dump, pg_basebackup).
var ErrBackupUnsupported = errors.New("gormstore: backup: only an embedded SQLite database can be backed up by bankfeed")

// BackupSQLite writes a consistent copy of the SQLite database to path while
// the database stays in use (VACUUM INTO on a reader connection, one read
// transaction: writers go on, and the copy holds exactly the commits before
// it began). The copy is
// written to a temporary file beside path and moved there only once
// complete, so path never holds half a backup; an existing path is refused
// unless overwrite is set (an error matching fs.ErrExist). It returns the
// copy's size in bytes.
func (s *Store) BackupSQLite(ctx context.Context, path string, overwrite bool) (int64, error) {
	if s.dialect != dialectSQLite {
		return 0, ErrBackupUnsupported
	}
	if !overwrite {
		if _, err := os.Lstat(path); err == nil {
			return 0, fmt.Errorf("gormstore: backup: %s: %w", path, fs.ErrExist)
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return 0, fmt.Errorf("gormstore: backup: %w", err)
	}
	tmpPath := tmp.Name()
	_ = tmp.Close()
	// VACUUM INTO refuses a file that exists, even empty; CreateTemp only
	// reserved a unique name in the target's directory (same file system,
	// so the final rename or link is atomic).
	if err := os.Remove(tmpPath); err != nil {
		return 0, fmt.Errorf("gormstore: backup: %w", err)
	}
	defer os.Remove(tmpPath) // after a failure, or the link below: a no-op once renamed
	if err := s.vacuumInto(ctx, tmpPath); err != nil {
		return 0, fmt.Errorf("gormstore: backup: vacuum into %s: %w", tmpPath, err)
	}
	if err := syncFile(tmpPath); err != nil {
		return 0, fmt.Errorf("gormstore: backup: %w", err)
	}
	if overwrite {
		err = os.Rename(tmpPath, path)
	} else {
		err = os.Link(tmpPath, path) // fails if path appeared meanwhile: never clobbers
	}
	if err != nil {
		return 0, fmt.Errorf("gormstore: backup: %w", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return 0, fmt.Errorf("gormstore: backup: %w", err)
	}
	return fi.Size(), nil
}

// vacuumInto runs VACUUM INTO path on a reader connection, so that writes
// go on meanwhile: it only reads the database, in a snapshot of its own
// under WAL. Readers are query_only, which refuses VACUUM, so the connection
// is let write for the statement and set back after; one that cannot be set
// back is discarded rather than returned to the pool. An in-memory
// database's readers are its writer.
func (s *Store) vacuumInto(ctx context.Context, path string) error {
	if s.r == s.w {
		return s.w.WithContext(ctx).Exec("VACUUM INTO ?", path).Error
	}
	rdb, err := s.r.DB()
	if err != nil {
		return err
	}
	conn, err := rdb.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "PRAGMA query_only = 0"); err != nil {
		return err
	}
	_, verr := conn.ExecContext(ctx, "VACUUM INTO ?", path)
	// Set back even if ctx ended: the connection goes back to the readers.
	if _, err := conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA query_only = 1"); err != nil {
		_ = conn.Raw(func(any) error { return driver.ErrBadConn }) // discard it
		return errors.Join(verr, err)
	}
	return verr
}

// syncFile flushes path to stable storage, so a backup reported written
// survives a crash of the machine.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

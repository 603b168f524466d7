package gormstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	sqlite "github.com/glebarez/go-sqlite"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/bankfeed/bankfeed/store"
)

// SQLite extended result codes (sqlite3.h).
const (
	sqliteConstraintForeignKey = 787
	sqliteConstraintPrimaryKey = 1555
	sqliteConstraintUnique     = 2067
	sqliteBusy                 = 5
	sqliteLocked               = 6
	sqliteIOErr                = 10
	sqliteCorrupt              = 11
	sqliteFull                 = 13
	sqliteCantOpen             = 14
	sqliteNotADB               = 26
)

// translate is the one place driver and gorm errors become store sentinels:
// a missing record → ErrNotFound, a taken unique key → ErrConflict, a
// reference to a missing record → ErrNotFound, a PostgreSQL serialization
// failure or deadlock (and SQLite busy) → ErrConflict, a database that
// cannot be reached or used → ErrUnavailable (see unavailable). The driver
// error stays in the chain for the log.
func translate(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrInvalid) ||
		errors.Is(err, store.ErrUnavailable) {
		return err
	}
	if unavailable(err) {
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return store.ErrNotFound
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505": // unique_violation
			return fmt.Errorf("%w: %s", store.ErrConflict, pe.ConstraintName)
		case "23503": // foreign_key_violation
			return fmt.Errorf("%w: referenced record (%s)", store.ErrNotFound, pe.ConstraintName)
		case "40001", "40P01": // serialization_failure, deadlock_detected
			return fmt.Errorf("%w: concurrent update, retry (%s)", store.ErrConflict, pe.Code)
		}
		return err
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqliteConstraintUnique, sqliteConstraintPrimaryKey:
			return fmt.Errorf("%w: %s", store.ErrConflict, se.Error())
		case sqliteConstraintForeignKey:
			return fmt.Errorf("%w: referenced record", store.ErrNotFound)
		}
		switch se.Code() & 0xff {
		case sqliteBusy, sqliteLocked:
			return fmt.Errorf("%w: database busy, retry: %v", store.ErrConflict, se)
		}
	}
	return err
}

// wrap prefixes a translated error with the operation.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("gormstore: %s: %w", op, translate(err))
}

// isForeignKey reports a reference to a missing (or still referenced) row.
func isForeignKey(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23503"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqliteConstraintForeignKey
	}
	return false
}

// unavailable reports a failure of the database itself, not of the
// statement: the caller can do nothing but retry later. It is
//   - PostgreSQL unreachable: a dial or handshake failure (*pgconn.ConnectError),
//     a connection lost mid-statement (EOF, reset, any net.Error, a bad
//     connection), the server shutting down or refusing connections
//     (SQLSTATE class 08, 57P01-57P03, class 53 insufficient resources,
//     class 58 system error);
//   - a deadline passed waiting for a connection or an answer
//     (context.DeadlineExceeded; pgconn.Timeout);
//   - the pool closed (sql: database is closed, sql.ErrConnDone);
//   - SQLite's file failing: I/O error, disk full, cannot open, corrupt or
//     not a database.
//
// Not unavailability: a request cancelled by its client (context.Canceled),
// constraint violations, bad input, serialization failures and SQLite busy
// (ErrConflict, retried by the caller's next attempt: the single in-process
// writer waits up to busy_timeout for another process's lock, then reports
// a lost race, as before).
func unavailable(err error) bool {
	if errors.Is(err, context.Canceled) {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err) {
		return true
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "08"), // connection_exception
			strings.HasPrefix(pe.Code, "53"),                           // insufficient_resources (too many connections, disk full)
			strings.HasPrefix(pe.Code, "58"),                           // system_error (I/O)
			pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03": // admin/crash shutdown, cannot connect now
			return true
		}
		return false
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqliteIOErr, sqliteCorrupt, sqliteFull, sqliteCantOpen, sqliteNotADB:
			return true
		}
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) {
		return true
	}
	// database/sql's errDBClosed is unexported; pgconn's closed connection
	// ("conn closed") is a plain error too.
	msg := err.Error()
	return strings.Contains(msg, "sql: database is closed") || strings.HasSuffix(msg, "conn closed")
}

package gormstore

import (
	"errors"
	"fmt"

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
)

// translate is the one place driver and gorm errors become store sentinels:
// a missing record → ErrNotFound, a taken unique key → ErrConflict, a
// reference to a missing record → ErrNotFound, a PostgreSQL serialization
// failure or deadlock (and SQLite busy) → ErrConflict. The driver error stays
// in the chain for the log.
func translate(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrInvalid) {
		return err
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

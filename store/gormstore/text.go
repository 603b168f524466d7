package gormstore

import (
	"database/sql/driver"
	"reflect"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/shopspring/decimal"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/bankfeed/bankfeed/store"
)

// errBadText is the store's refusal of a string PostgreSQL's text types
// cannot hold (SQLSTATE 22021: a NUL byte or invalid UTF-8). SQLite would
// store it; both refuse it here, so a caller sees one answer on either
// engine and no such value reaches the database or aborts a transaction.
var errBadText = store.Invalid("", "text contains a NUL byte or invalid UTF-8")

// checkArg refuses a bound value that is text and not valid text. Bytes
// ([]byte: hashes, serialized requests) are not text and pass.
func checkArg(v any) error {
	switch x := v.(type) {
	case nil, []byte, bool, int, int32, int64, uint, uint32, uint64, float64, time.Time, *time.Time, decimal.Decimal:
		return nil // the common non-text arguments, without reflection or Value()
	case string:
		if !store.ValidText(x) {
			return errBadText
		}
		return nil
	case driver.Valuer:
		rv := reflect.ValueOf(x)
		if rv.Kind() == reflect.Pointer && rv.IsNil() {
			return nil
		}
		if dv, err := x.Value(); err == nil {
			if s, ok := dv.(string); ok && !store.ValidText(s) {
				return errBadText
			}
		}
		return nil
	}
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer && !rv.IsNil() {
		rv = rv.Elem()
	}
	if rv.Kind() == reflect.String && !store.ValidText(rv.String()) {
		return errBadText
	}
	return nil
}

// checkArgs is checkArg over a statement's arguments (query's pgx path,
// which does not go through gorm).
func checkArgs(args []any) error {
	for _, a := range args {
		if err := checkArg(a); err != nil {
			return err
		}
	}
	return nil
}

// Every value gorm binds to a statement goes through the dialector's
// BindVarTo; the wrappers below refuse bad text there, and gorm then skips
// executing a statement that carries an error. Embedding the drivers'
// dialectors keeps their other methods (error translation, savepoints,
// migrator) as they are.

type pgDialector struct{ *postgres.Dialector }

func (d pgDialector) BindVarTo(w clause.Writer, stmt *gorm.Statement, v any) {
	if err := checkArg(v); err != nil {
		_ = stmt.AddError(err)
	}
	d.Dialector.BindVarTo(w, stmt, v)
}

type sqliteDialector struct{ *sqlite.Dialector }

func (d sqliteDialector) BindVarTo(w clause.Writer, stmt *gorm.Statement, v any) {
	if err := checkArg(v); err != nil {
		_ = stmt.AddError(err)
	}
	d.Dialector.BindVarTo(w, stmt, v)
}

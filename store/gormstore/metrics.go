package gormstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/bankfeed/bankfeed/store"
)

// StatementObserver receives each statement's time by operation (the SQL
// verb: select, insert, update, delete, or other) and whether it failed;
// never its text or arguments.
type StatementObserver func(operation string, d time.Duration, failed bool)

// Instrument times every statement from now on: a gorm plugin on the
// writer and the readers, plus the PostgreSQL read path that bypasses gorm
// (query). Call it once, before serving.
func (s *Store) Instrument(observe StatementObserver) error {
	if observe == nil {
		return nil
	}
	dbs := []*gorm.DB{s.w}
	if s.r != s.w {
		dbs = append(dbs, s.r)
	}
	for _, db := range dbs {
		if err := db.Use(statementTimer{observe: observe}); err != nil {
			return fmt.Errorf("gormstore: instrument: %w", err)
		}
	}
	s.observe = observe
	return nil
}

// Pools are the connection pools by a name for metrics: "postgres", or
// SQLite's "sqlite_writer" and "sqlite_reader".
func (s *Store) Pools() map[string]*sql.DB {
	if s.dialect == dialectPostgres {
		return map[string]*sql.DB{"postgres": s.closers[0]}
	}
	pools := map[string]*sql.DB{"sqlite_writer": s.closers[0]}
	if len(s.closers) > 1 {
		pools["sqlite_reader"] = s.closers[1]
	}
	return pools
}

// OperationalState counts, in one statement, what every replica shares:
// browser sessions not expired, login IDs locked now by failed sign-ins
// (users not deleted and login IDs nobody holds), and maker-checker
// requests awaiting a decision.
func (s *Store) OperationalState(ctx context.Context) (sessions, locked, pending int64, err error) {
	now := micros(s.nowUTC())
	err = s.read(ctx).Raw(`SELECT
		(SELECT COUNT(*) FROM browser_sessions WHERE expires_at > ?),
		(SELECT COUNT(*) FROM users WHERE locked_until > ? AND status <> ?)
			+ (SELECT COUNT(*) FROM login_failures WHERE locked_until > ?),
		(SELECT COUNT(*) FROM approvals WHERE status = ?)`,
		now, now, string(store.UserDeleted), now, string(store.ApprovalPending)).Row().Scan(&sessions, &locked, &pending)
	return sessions, locked, pending, wrap("operational state", err)
}

// statementTimer is the gorm plugin of Instrument: a callback first and
// last around each of gorm's processors.
type statementTimer struct{ observe StatementObserver }

func (statementTimer) Name() string { return "bankfeed:statement_timer" }

const startKey = "bankfeed:statement_start"

func (p statementTimer) Initialize(db *gorm.DB) error {
	return aroundStatements(db, "bankfeed:timer", func(db *gorm.DB) {
		db.InstanceSet(startKey, time.Now())
	}, func(db *gorm.DB, op string) {
		v, _ := db.InstanceGet(startKey)
		start, ok := v.(time.Time)
		if !ok {
			return
		}
		if op == "" {
			op = sqlVerb(db.Statement.SQL.String())
		}
		p.observe(op, time.Since(start), failed(db.Error))
	})
}

// aroundStatements registers before first and after last around each of
// gorm's processors, under names starting with prefix; after learns the
// processor's SQL verb ("" for Row and Raw, whose verb is in the SQL).
func aroundStatements(db *gorm.DB, prefix string, before func(*gorm.DB), after func(db *gorm.DB, op string)) error {
	cb := db.Callback()
	type register func(name string, fn func(*gorm.DB)) error
	for _, proc := range []struct {
		name          string
		op            string
		before, after register
	}{
		{"create", "insert", cb.Create().Before("*").Register, cb.Create().After("*").Register},
		{"query", "select", cb.Query().Before("*").Register, cb.Query().After("*").Register},
		{"update", "update", cb.Update().Before("*").Register, cb.Update().After("*").Register},
		{"delete", "delete", cb.Delete().Before("*").Register, cb.Delete().After("*").Register},
		{"row", "", cb.Row().Before("*").Register, cb.Row().After("*").Register},
		{"raw", "", cb.Raw().Before("*").Register, cb.Raw().After("*").Register},
	} {
		if err := proc.before(prefix+"_start_"+proc.name, before); err != nil {
			return err
		}
		op := proc.op
		if err := proc.after(prefix+"_end_"+proc.name, func(db *gorm.DB) { after(db, op) }); err != nil {
			return err
		}
	}
	return nil
}

// failed is a statement's failure: no rows found is an answer, not one.
func failed(err error) bool {
	return err != nil && !errors.Is(err, gorm.ErrRecordNotFound)
}

// sqlVerb is the first keyword of a statement, lower-case, among those
// the metrics know; the rest of the text never leaves.
func sqlVerb(sqlText string) string {
	t := strings.TrimLeft(sqlText, " \t\r\n(")
	for _, v := range [...]string{"select", "insert", "update", "delete"} {
		if len(t) >= len(v) && strings.EqualFold(t[:len(v)], v) {
			return v
		}
	}
	return "other"
}

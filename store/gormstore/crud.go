package gormstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/bankfeed/bankfeed/store"
)

type tabler interface{ TableName() string }

// insert adds row; a taken unique key is ErrConflict. ON CONFLICT DO
// NOTHING (rather than catching the violation) keeps a PostgreSQL
// transaction usable after a duplicate.
func (s *Store) insert(ctx context.Context, op string, row tabler) error {
	res := s.write(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(row)
	if res.Error != nil {
		return wrap(op, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("gormstore: %s: %w: already exists", op, store.ErrConflict)
	}
	return nil
}

// insertWritten is insert by a statement built once per row type
// (insertStatement) and run without gorm on PostgreSQL (Store.direct), for
// the rows a flow writes (issue 15: gorm's Create walked the row by
// reflection and built the statement on every call). row's fields are its
// columns, in order, without defaults for the database to fill.
func (s *Store) insertWritten(ctx context.Context, op, statement string, row tabler) error {
	n, err := s.exec(ctx, statement, columnValues(row))
	if err != nil {
		return wrap(op, err)
	}
	if n == 0 {
		return fmt.Errorf("gormstore: %s: %w: already exists", op, store.ErrConflict)
	}
	return nil
}

// insertStatement is the INSERT of row's columns into its table that
// insertWritten runs, a conflict being no row written.
func insertStatement(row tabler) string {
	sch := rowSchema(row)
	return "INSERT INTO " + row.TableName() + " (" + strings.Join(sch.DBNames, ", ") + ") VALUES (?" +
		strings.Repeat(", ?", len(sch.DBNames)-1) + ") ON CONFLICT DO NOTHING"
}

// take reads one row; none is ErrNotFound.
func take[R tabler](ctx context.Context, s *Store, op string, where string, args ...any) (R, error) {
	var r R
	if err := s.read(ctx).Where(where, args...).Take(&r).Error; err != nil {
		return r, wrap(op, err)
	}
	return r, nil
}

// exists reports whether table has a row matching where.
func (s *Store) exists(ctx context.Context, table, where string, args ...any) (bool, error) {
	var n int64
	if err := s.read(ctx).Table(table).Where(where, args...).Limit(1).Count(&n).Error; err != nil {
		return false, err
	}
	return n > 0, nil
}

// mapper converts one entity between its store type T and its row R.
type mapper[T any, R tabler] struct {
	toDomain   func(R) (T, error)
	fromDomain func(T) (R, error)
	version    func(*R) *int64
	id         func(T) string
	// stamp sets UpdatedAt (and Version, if the type has one) on the new value.
	stamp func(t *T, now time.Time, version int64)
	// check refuses changes to fields that must not change (ErrInvalid).
	check func(old, new T) error
	// keep (optional) names columns the update must not write, given the
	// change: they are written elsewhere, outside the version.
	keep func(old, new T) []string
}

// casUpdate is the compare-and-swap update behind every Update* method: fn
// sees the current record; the write succeeds only if the row's version has
// not moved meanwhile (ErrConflict otherwise).
func casUpdate[T any, R tabler](ctx context.Context, s *Store, op, id string, m mapper[T, R], fn func(T) (T, error)) (T, error) {
	return casUpdateWhere(ctx, s, op, id, "", nil, m, fn)
}

// casUpdateWhere is casUpdate on a row that must also match cond (e.g. not
// expired), checked in the same read: no match is ErrNotFound.
func casUpdateWhere[T any, R tabler](ctx context.Context, s *Store, op, id, cond string, condArgs []any, m mapper[T, R], fn func(T) (T, error)) (T, error) {
	var zero T
	where, args := "id = ?", []any{id}
	if cond != "" {
		where += " AND " + cond
		args = append(args, condArgs...)
	}
	cur, err := take[R](ctx, s, op, where, args...)
	if err != nil {
		return zero, err
	}
	old, err := m.toDomain(cur)
	if err != nil {
		return zero, fmt.Errorf("gormstore: %s: %w", op, err)
	}
	next, err := fn(old)
	if err != nil {
		return zero, err
	}
	if m.id(next) != id {
		return zero, store.Invalid("id", "cannot change")
	}
	if m.check != nil {
		if err := m.check(old, next); err != nil {
			return zero, err
		}
	}
	oldV := *m.version(&cur)
	m.stamp(&next, s.nowUTC(), oldV+1)
	nr, err := m.fromDomain(next)
	if err != nil {
		return zero, err
	}
	*m.version(&nr) = oldV + 1
	// RETURNING gives back the row as stored (id and created_at included)
	// in the same round trip, instead of reading it again.
	omit := []string{"id", "created_at"}
	if m.keep != nil {
		omit = append(omit, m.keep(old, next)...)
	}
	var got []R
	res := s.write(ctx).Table(cur.TableName()).Model(&got).Clauses(clause.Returning{}).
		Where("id = ? AND version = ?", id, oldV).
		Select("*").Omit(omit...).Updates(&nr)
	if res.Error != nil {
		return zero, wrap(op, res.Error)
	}
	if len(got) != 1 {
		return zero, fmt.Errorf("gormstore: %s: %w: changed concurrently", op, store.ErrConflict)
	}
	return m.toDomain(got[0])
}

// pageByID applies an ID keyset page to q and returns the rows and the next
// cursor (the last ID, or "" at the end).
func pageByID[R any](q *gorm.DB, p store.Page, idOf func(R) string) ([]R, string, error) {
	n := limit(p.Limit)
	if p.After != "" {
		q = q.Where("id > ?", p.After)
	}
	var rows []R
	if err := q.Order("id").Limit(n + 1).Find(&rows).Error; err != nil {
		return nil, "", err
	}
	next := ""
	if len(rows) > n {
		rows = rows[:n]
		next = idOf(rows[n-1])
	}
	return rows, next, nil
}

func mapAll[T, R any](rows []R, f func(R) (T, error)) ([]T, error) {
	out := make([]T, 0, len(rows))
	for _, r := range rows {
		t, err := f(r)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// orNow is t, or now when t is zero.
func orNow(t, now time.Time) time.Time {
	if t.IsZero() {
		return now
	}
	return t
}

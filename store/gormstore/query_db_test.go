package gormstore

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/store"
)

// testQuery runs query on a real database: on PostgreSQL outside a
// transaction that is the pgx path (placeholders renumbered, rows decoded
// by rawRows with pgx's Scan as the fallback), otherwise database/sql.
// Both must answer alike, errors included. The external tests run it on
// each engine through RunQueryTests.
func testQuery(t *testing.T, s *Store) {
	ctx := t.Context()
	collect := func(ctx context.Context, text string, args []any, dest func() []any) ([][]any, error) {
		var out [][]any
		err := s.query(ctx, text, args, func(r rowScanner) error {
			d := dest()
			if err := r.Scan(d...); err != nil {
				return err
			}
			out = append(out, d)
			return nil
		})
		return out, err
	}
	t.Run("placeholders", func(t *testing.T) {
		// None: the text goes as it is.
		rows, err := collect(ctx, "SELECT 7", nil, func() []any { return []any{new(int64)} })
		if err != nil || len(rows) != 1 || *rows[0][0].(*int64) != 7 {
			t.Fatalf("SELECT 7 = %v, %v", rows, err)
		}
		// Several, in order, of several types.
		rows, err = collect(ctx, "SELECT CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS TEXT) || CAST(? AS TEXT)",
			[]any{"a?b", int64(-9), "x", "y"}, func() []any { return []any{new(string), new(int64), new(string)} })
		if err != nil || len(rows) != 1 || *rows[0][0].(*string) != "a?b" || *rows[0][1].(*int64) != -9 || *rows[0][2].(*string) != "xy" {
			t.Fatalf("placeholders = %v, %v", rows, err)
		}
	})
	t.Run("NULLs and a type rawRows leaves to the driver", func(t *testing.T) {
		var ns *string
		var ni *int64
		var f float64
		var str string
		err := s.query(ctx, "SELECT CAST(NULL AS TEXT), CAST(NULL AS BIGINT), 2.5, CAST(? AS TEXT)", []any{"héllo"}, func(r rowScanner) error {
			return r.Scan(&ns, &ni, &f, &str)
		})
		if err != nil || ns != nil || ni != nil || f != 2.5 || str != "héllo" {
			t.Fatalf("= %v %v %v %q, %v", ns, ni, f, str, err)
		}
	})
	t.Run("the nullable values of many rows stay apart", func(t *testing.T) {
		// More rows than one chunk of rawRows' nullable values: each row
		// keeps its own, whatever the rows after it hold.
		rows, err := collect(ctx, "WITH RECURSIVE n(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM n WHERE g < 100)"+
			" SELECT CAST(g AS TEXT), CASE WHEN g % 3 = 0 THEN NULL ELSE CAST(g AS BIGINT) END, CAST(g AS TEXT) FROM n",
			nil, func() []any { return []any{new(*string), new(*int64), new(string)} })
		if err != nil || len(rows) != 100 {
			t.Fatalf("%d rows, %v; want 100", len(rows), err)
		}
		for i, r := range rows {
			g := int64(i + 1)
			s, n, s2 := *r[0].(**string), *r[1].(**int64), *r[2].(*string)
			if s == nil || *s != strconv.FormatInt(g, 10) || s2 != *s {
				t.Fatalf("row %d: text %v, %q", g, s, s2)
			}
			if (g%3 == 0) != (n == nil) || n != nil && *n != g {
				t.Fatalf("row %d: number %v", g, n)
			}
		}
	})
	t.Run("scan errors reach the caller", func(t *testing.T) {
		var s1 string
		// NULL into a string: the raw decoder declines, the driver refuses.
		if err := s.query(ctx, "SELECT CAST(NULL AS TEXT)", nil, func(r rowScanner) error { return r.Scan(&s1) }); err == nil {
			t.Error("NULL scanned into a string without an error")
		}
		// Too few destinations.
		if err := s.query(ctx, "SELECT 1, 2", nil, func(r rowScanner) error { return r.Scan(&s1) }); err == nil {
			t.Error("two columns scanned into one destination without an error")
		}
	})
	t.Run("the row function's error stops the rows", func(t *testing.T) {
		stop := errors.New("stop")
		n := 0
		err := s.query(ctx, "SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3", nil, func(rowScanner) error {
			n++
			return stop
		})
		if !errors.Is(err, stop) || n != 1 {
			t.Fatalf("err %v after %d rows; want stop after 1", err, n)
		}
	})
	t.Run("statement errors", func(t *testing.T) {
		each := func(rowScanner) error { return nil }
		if err := s.query(ctx, "SELECT no_such_column FROM business_groups WHERE id = ?", []any{"x"}, each); err == nil ||
			!strings.Contains(err.Error(), "no_such_column") {
			t.Errorf("bad column: %v", err)
		}
		err := s.InTx(ctx, func(ctx context.Context) error {
			return s.query(ctx, "SELECT no_such_column FROM business_groups", nil, each)
		})
		if err == nil || !strings.Contains(err.Error(), "no_such_column") {
			t.Errorf("bad column in a transaction: %v", err)
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		called := false
		err := s.query(cctx, "SELECT 1", nil, func(rowScanner) error { called = true; return nil })
		if !errors.Is(err, context.Canceled) || called {
			t.Fatalf("cancelled query = %v (rows read: %v); want context.Canceled", err, called)
		}
	})
	t.Run("in a transaction it reads the transaction's writes", func(t *testing.T) {
		// The pgx path takes a pool connection of its own, so inside a
		// transaction query must use the transaction instead.
		err := s.InTx(ctx, func(ctx context.Context) error {
			if _, err := s.CreateBusinessGroup(ctx, store.BusinessGroup{ID: "bg-in-tx", Name: "Uncommitted"}); err != nil {
				return err
			}
			var name string
			n := 0
			if err := s.query(ctx, "SELECT name FROM business_groups WHERE id = ?", []any{"bg-in-tx"}, func(r rowScanner) error {
				n++
				return r.Scan(&name)
			}); err != nil {
				return err
			}
			if n != 1 || name != "Uncommitted" {
				t.Errorf("in the transaction: %d rows, name %q", n, name)
			}
			return errors.New("roll back")
		})
		if err == nil || err.Error() != "roll back" {
			t.Fatalf("InTx = %v", err)
		}
		if _, err := s.GetBusinessGroup(ctx, "bg-in-tx"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("after the rollback: %v", err)
		}
	})
	t.Run("a slow statement is logged, without its values", func(t *testing.T) {
		if s.dialect != dialectPostgres {
			t.Skip("SQLite's statements go through gorm, whose logger logs them")
		}
		var logged strings.Builder
		log := s.log
		s.log = slog.New(slog.NewTextHandler(&logged, nil))
		t.Cleanup(func() { s.log = log })
		const text = "SELECT pg_sleep(?::float8 / 1000), CAST(? AS TEXT)"
		ms := strconv.Itoa(int(slowStatement/time.Millisecond) + 50)
		read := func(ctx context.Context) error {
			return s.query(ctx, text, []any{ms, "secret-value"}, func(r rowScanner) error { var v, w any; return r.Scan(&v, &w) })
		}
		if err := read(ctx); err != nil {
			t.Fatal(err)
		}
		if err := s.InTx(ctx, read); err != nil {
			t.Fatal(err)
		}
		out := logged.String()
		if n := strings.Count(out, "gormstore: slow query"); n != 2 || !strings.Contains(out, "pg_sleep") || strings.Contains(out, "secret-value") {
			t.Errorf("log of two slow statements (outside and in a transaction), %d found:\n%s", n, out)
		}
	})

}

package gormstore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// rowScanner is what *sql.Rows and pgx.Rows have in common.
type rowScanner interface {
	Scan(dest ...any) error
}

// query runs a read-only SELECT (with ? placeholders) in ctx's transaction
// or on the readers, calling each for every row. On PostgreSQL outside a
// transaction it runs on the pool connection's pgx.Conn directly:
// database/sql boxes every column value of every row into an interface (an
// allocation each), and on the hot reads — a page of 101 transactions, the
// joined access records — that was a third of the server's CPU.
func (s *Store) query(ctx context.Context, text string, args []any, each func(rowScanner) error) error {
	if s.dialect == dialectPostgres && s.txFrom(ctx) == nil && s.pg != nil {
		conn, err := s.pg.Conn(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		return conn.Raw(func(dc any) error {
			c, ok := dc.(*stdlib.Conn)
			if !ok {
				return fmt.Errorf("postgres connection is a %T, not pgx's", dc)
			}
			rows, err := c.Conn().Query(ctx, dollarPlaceholders(text), args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			return eachRow(rows, each)
		})
	}
	rows, err := s.read(ctx).Raw(text, args...).Rows()
	if err != nil {
		return err
	}
	defer rows.Close()
	return eachRow(rows, each)
}

// rowIterator is what *sql.Rows and pgx.Rows have in common.
type rowIterator interface {
	rowScanner
	Next() bool
	Err() error
}

func eachRow(rows rowIterator, each func(rowScanner) error) error {
	for rows.Next() {
		if err := each(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

var (
	_ rowIterator = (*sql.Rows)(nil)
	_ rowIterator = (pgx.Rows)(nil)
)

// dollarPlaceholders numbers the ? placeholders of text $1, $2… (our SQL
// has no ? inside literals).
func dollarPlaceholders(text string) string {
	n := strings.Count(text, "?")
	if n == 0 {
		return text
	}
	var b strings.Builder
	b.Grow(len(text) + 2*n)
	i := 0
	for {
		j := strings.IndexByte(text, '?')
		if j < 0 {
			b.WriteString(text)
			return b.String()
		}
		i++
		b.WriteString(text[:j])
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(i))
		text = text[j+1:]
	}
}

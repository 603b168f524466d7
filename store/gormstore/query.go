package gormstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"
)

// rowScanner is what *sql.Rows and pgx.Rows have in common.
type rowScanner interface {
	Scan(dest ...any) error
}

// query runs a read-only SELECT (with ? placeholders) in ctx's transaction
// or on the readers, calling each for every row. On PostgreSQL it bypasses
// gorm (direct): outside a transaction it runs on the pool connection's
// pgx.Conn, since database/sql boxes every column value of every row into
// an interface (an allocation each), and on the hot reads — a page of 101
// transactions, the joined access records — that was a third of the
// server's CPU.
func (s *Store) query(ctx context.Context, text string, args []any, each func(rowScanner) error) error {
	return s.rows(ctx, s.read, "select", text, args, each)
}

// writeQuery is query for a statement that writes and returns rows
// (UPDATE … RETURNING): on the transaction in ctx, else the writer.
func (s *Store) writeQuery(ctx context.Context, text string, args []any, each func(rowScanner) error) error {
	return s.rows(ctx, s.write, sqlVerb(text), text, args, each)
}

func (s *Store) rows(ctx context.Context, handle func(context.Context) *gorm.DB, op, text string, args []any, each func(rowScanner) error) error {
	if err := checkArgs(args); err != nil {
		return err
	}
	ran, err := s.direct(ctx, op, text, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, dollarPlaceholders(text), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		return eachRow(rows, each)
	}, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, dollarPlaceholders(text), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		return eachRow(&rawRows{Rows: rows}, each)
	})
	if ran {
		return err
	}
	rows, err := handle(ctx).Raw(text, args...).Rows()
	if err != nil {
		return err
	}
	defer rows.Close()
	return eachRow(rows, each)
}

// exec runs a statement that writes and returns no rows, on the
// transaction in ctx, else the writer, and reports how many rows it
// changed; on PostgreSQL without gorm (direct).
func (s *Store) exec(ctx context.Context, text string, args []any) (int64, error) {
	if err := checkArgs(args); err != nil {
		return 0, err
	}
	var n int64
	ran, err := s.direct(ctx, sqlVerb(text), text, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, dollarPlaceholders(text), args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	}, func(c *pgx.Conn) error {
		tag, err := c.Exec(ctx, dollarPlaceholders(text), args...)
		n = tag.RowsAffected()
		return err
	})
	if ran {
		return n, err
	}
	res := s.write(ctx).Exec(text, args...)
	return res.RowsAffected, res.Error
}

// direct runs a statement of ours on PostgreSQL without gorm, traced and
// timed as gorm's callbacks do it: gorm's building of the statement
// (placeholders rewritten, values bound one by one) and its callbacks were
// 7 % of a full flow's server CPU (issue 15), and our statements need
// neither. In ctx's transaction it runs on the transaction's *sql.Tx
// (inTx), outside one on a pool connection's pgx.Conn (onConn). It reports
// false, running nothing, on SQLite: the caller then goes through gorm.
func (s *Store) direct(ctx context.Context, op, text string, inTx func(*sql.Tx) error, onConn func(*pgx.Conn) error) (bool, error) {
	if s.dialect != dialectPostgres || s.pg == nil {
		return false, nil
	}
	if db := s.txFrom(ctx); db != nil {
		tx, ok := db.Statement.ConnPool.(*sql.Tx)
		if !ok {
			return false, nil
		}
		return true, s.timed(ctx, op, text, func() error { return inTx(tx) })
	}
	conn, err := s.pg.Conn(ctx)
	if err != nil {
		return true, err
	}
	defer conn.Close()
	// A connection whose statement's context ended while it ran is
	// discarded, even if the statement completed (issue 15, finding 1):
	// the cancellation sets a deadline on the socket, and a read that pgx's
	// background reader (started by a slow write, and outliving the
	// statement) still has pending can fail on it after the answer was
	// complete; pgx keeps that "i/o timeout" as the next read's result, so
	// the next statement on the connection, whoever runs it, would fail.
	defer func() {
		if ctx.Err() != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	return true, conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("postgres connection is a %T, not pgx's", dc)
		}
		return s.timed(ctx, op, text, func() error { return onConn(c.Conn()) })
	})
}

// timed runs one statement of direct's in a span of the traced request in
// ctx, if any, reports its time to the statement observer and logs it when
// slow, as gorm's logger does for its statements (slogLogger.Trace).
func (s *Store) timed(ctx context.Context, op, text string, run func() error) (err error) {
	defer traceQuery(ctx, op, text)(&err)
	start := time.Now()
	err = run()
	d := time.Since(start)
	if s.observe != nil {
		s.observe(op, d, err != nil)
	}
	if d > slowStatement {
		logSlow(ctx, s.log, d, -1, text)
	}
	return err
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
	_ rowIterator = (*rawRows)(nil)
)

// dollarTexts remembers dollarPlaceholders' answers: the texts are our
// SQL, a few hundred at most, and rebuilding the joined token-and-grant
// read's on every introspection was a tenth of the bytes it allocated
// (issue 15). Past dollarTextsMax texts (built ones: IN lists of every
// length) the rest are numbered each time.
var (
	dollarTexts    sync.Map // string → string
	dollarTextsLen atomic.Int64
)

const dollarTextsMax = 1024

// dollarPlaceholders numbers the ? placeholders of text $1, $2… (our SQL
// has no ? inside literals).
func dollarPlaceholders(text string) string {
	if v, ok := dollarTexts.Load(text); ok {
		return v.(string)
	}
	out := numberPlaceholders(text)
	if dollarTextsLen.Load() < dollarTextsMax {
		if _, loaded := dollarTexts.LoadOrStore(text, out); !loaded {
			dollarTextsLen.Add(1)
		}
	}
	return out
}

func numberPlaceholders(text string) string {
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

// rawRows scans pgx rows by decoding the wire values of the column types
// our rows use (text, int2/4/8, bool, bytea, in text or binary format)
// straight into the destinations; pgx's own Scan, which plans and
// dispatches each column through interfaces, was 13 % of a transactions
// page's CPU. Anything else goes to pgx's Scan.
type rawRows struct {
	pgx.Rows
	// ints and strs hold the values of the nullable columns (*int64,
	// *string) a chunk at a time: a page's running balances and external
	// IDs are a few allocations, not one per row (issue 15). Each element
	// is handed out once.
	ints []int64
	strs []string
	// text holds the text columns of the rows read so far: each row's
	// strings are slices of it, in chunks growing to maxTextChunk bytes, so
	// a page of 101 rows makes a few allocations for its text, not 101
	// (issue 15). Bytes handed out are never written again.
	text []byte
}

// maxTextChunk bounds the chunks of rawRows.text (a chunk stays in memory
// while any of its strings does).
const maxTextChunk = 8 << 10

// nullableChunk is how many nullable values of a type rawRows allocates at
// once.
const nullableChunk = 32

func (r *rawRows) newInt(n int64) *int64 {
	if len(r.ints) == 0 {
		r.ints = make([]int64, nullableChunk)
	}
	p := &r.ints[0]
	r.ints = r.ints[1:]
	*p = n
	return p
}

func (r *rawRows) newString(s string) *string {
	if len(r.strs) == 0 {
		r.strs = make([]string, nullableChunk)
	}
	p := &r.strs[0]
	r.strs = r.strs[1:]
	*p = s
	return p
}

func (r *rawRows) Scan(dest ...any) error {
	fds, vals := r.FieldDescriptions(), r.RawValues()
	if len(fds) != len(dest) || len(vals) != len(dest) {
		return r.Rows.Scan(dest...)
	}
	// The row's text columns share one string: their bytes are copied
	// once into r.text, which the string then shares (nothing writes to
	// those bytes afterwards). A row that does not fit starts a new chunk:
	// the first its own size (a single-row read allocates no more than it
	// did), each next one twice the last, up to maxTextChunk.
	n := 0
	for i, d := range dest {
		switch d.(type) {
		case *string, **string:
			n += len(vals[i])
		}
	}
	if n > cap(r.text)-len(r.text) {
		r.text = make([]byte, 0, max(n, min(2*cap(r.text), maxTextChunk)))
	}
	start := len(r.text)
	for i, d := range dest {
		switch d.(type) {
		case *string, **string:
			r.text = append(r.text, vals[i]...)
		}
	}
	row := r.text[start:]
	text := rowText{all: unsafe.String(unsafe.SliceData(row), len(row)), rows: r}
	for i, d := range dest {
		if !text.scan(fds[i].DataTypeOID, fds[i].Format, vals[i], d) {
			return r.Rows.Scan(dest...)
		}
	}
	return nil
}

// rowText hands out the row's text columns in order from one string.
type rowText struct {
	all  string
	off  int
	rows *rawRows // the nullable values' chunks
}

func (t *rowText) next(n int) string {
	s := t.all[t.off : t.off+n]
	t.off += n
	return s
}

const (
	oidBool    = 16
	oidBytea   = 17
	oidInt8    = 20
	oidInt2    = 21
	oidInt4    = 23
	oidText    = 25
	oidVarchar = 1043
	binaryFmt  = 1
)

// scan decodes v (nil: NULL) of type oid into d, taking text from t; false
// if it cannot.
func (t *rowText) scan(oid uint32, format int16, v []byte, d any) bool {
	isText := oid == oidText || oid == oidVarchar
	switch d := d.(type) {
	case *string:
		if v == nil || !isText {
			return false
		}
		*d = t.next(len(v))
	case **string:
		if !isText {
			return false
		}
		if v == nil {
			*d = nil
		} else {
			*d = t.rows.newString(t.next(len(v)))
		}
	case *int64:
		n, ok := rawInt(oid, format, v)
		if !ok {
			return false
		}
		*d = n
	case **int64:
		if v == nil {
			*d = nil
			return oid == oidInt8 || oid == oidInt4 || oid == oidInt2
		}
		n, ok := rawInt(oid, format, v)
		if !ok {
			return false
		}
		*d = t.rows.newInt(n)
	case *[]byte:
		if oid != oidBytea || format != binaryFmt {
			return false
		}
		if v == nil {
			*d = nil
		} else {
			*d = append(make([]byte, 0, len(v)), v...)
		}
	case *bool:
		if v == nil || oid != oidBool || len(v) != 1 {
			return false
		}
		switch {
		case format == binaryFmt:
			*d = v[0] == 1
		case v[0] == 't' || v[0] == 'f':
			*d = v[0] == 't'
		default:
			return false
		}
	default:
		return false
	}
	return true
}

func rawInt(oid uint32, format int16, v []byte) (int64, bool) {
	if v == nil {
		return 0, false
	}
	if format != binaryFmt {
		if oid != oidInt8 && oid != oidInt4 && oid != oidInt2 {
			return 0, false
		}
		n, err := strconv.ParseInt(string(v), 10, 64)
		return n, err == nil
	}
	switch {
	case oid == oidInt8 && len(v) == 8:
		return int64(binary.BigEndian.Uint64(v)), true
	case oid == oidInt4 && len(v) == 4:
		return int64(int32(binary.BigEndian.Uint32(v))), true
	case oid == oidInt2 && len(v) == 2:
		return int64(int16(binary.BigEndian.Uint16(v))), true
	}
	return 0, false
}

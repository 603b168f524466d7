package gormstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/bankfeed/bankfeed/store"
)

var _ store.Store = (*Store)(nil)

// Config says where the database is and how to reach it.
type Config struct {
	// DSN is a postgres:// or postgresql:// URL, or else a SQLite file path
	// or file: URI (e.g. "data/bankfeed.db", "file:/tmp/x.db?mode=rwc").
	DSN string
	// Logger receives slow-query warnings (SQL text only, never arguments).
	// Defaults to slog.Default().
	Logger *slog.Logger
	// Now is the clock for expiry checks and record timestamps. Defaults to
	// time.Now.
	Now func() time.Time
	// MaxOpenConns caps the PostgreSQL pool (default 25) or the SQLite
	// reader pool (default 8). SQLite always has a single writer connection.
	MaxOpenConns int
}

type dialect int

const (
	dialectSQLite dialect = iota
	dialectPostgres
)

// Store is store.Store on gorm. Safe for concurrent use.
type Store struct {
	// w takes every write and every InTx transaction; on SQLite it is one
	// connection so writers queue in Go instead of failing with
	// "database is locked".
	w *gorm.DB
	// r serves reads outside transactions (on SQLite a pool of read-only
	// connections that WAL lets run beside the writer; on PostgreSQL == w).
	r       *gorm.DB
	dialect dialect
	pg      *sql.DB // PostgreSQL's pool, for query's pgx path; nil on SQLite
	log     *slog.Logger
	now     func() time.Time
	closers []*sql.DB
	observe StatementObserver // Instrument's; nil: statements are not timed
	// grantBatches batch GetTokenGrant's and GetTokenGrantState's reads on
	// PostgreSQL (by grantStanding, grantStandingNoRequest); nil on SQLite.
	grantBatches [3]*readBatch[store.TokenKey, tokenGrantRow]
}

// Open connects to the database named by cfg.DSN. It does not migrate: call
// Migrate (Ping reports pending migrations).
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if strings.TrimSpace(cfg.DSN) == "" {
		return nil, errors.New("gormstore: open: empty DSN")
	}
	s := &Store{log: cfg.Logger, now: cfg.Now}
	gcfg := func() *gorm.Config {
		return &gorm.Config{
			Logger:                 &slogLogger{log: cfg.Logger, slow: slowStatement},
			SkipDefaultTransaction: true, // our writes choose their transactions
			NowFunc:                func() time.Time { return cfg.Now().UTC() },
			// No gorm statement cache, measured: pgx already keeps each
			// connection's statements prepared (its default exec mode
			// caches them), and gorm's cache on top re-prepares and closes
			// them around every transaction (extra round trips); the
			// SQLite driver compiles the SQL text on every execution
			// whatever database/sql holds, so nothing is saved there.
			PrepareStmt: false,
		}
	}
	if isPostgres(cfg.DSN) {
		s.dialect = dialectPostgres
		pcfg, err := pgx.ParseConfig(cfg.DSN)
		if err != nil {
			return nil, fmt.Errorf("gormstore: open postgres: %w", err)
		}
		// A connection cancelled mid-statement is not reused (pgcancel.go).
		marks := &cancelMarks{}
		pcfg.BuildContextWatcherHandler = marks.handler
		pool := stdlib.OpenDB(*pcfg, stdlib.OptionResetSession(marks.resetSession))
		db, err := gorm.Open(pgDialector{postgres.New(postgres.Config{Conn: pool}).(*postgres.Dialector)}, gcfg())
		if err != nil {
			_ = pool.Close()
			return nil, fmt.Errorf("gormstore: open postgres: %w", err)
		}
		sqlDB, err := db.DB()
		if err != nil {
			return nil, fmt.Errorf("gormstore: open postgres: %w", err)
		}
		n := cfg.MaxOpenConns
		if n <= 0 {
			n = 25
		}
		sqlDB.SetMaxOpenConns(n)
		sqlDB.SetMaxIdleConns(n)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
		s.w, s.r, s.pg, s.closers = db, db, sqlDB, []*sql.DB{sqlDB}
		s.newGrantBatches()
	} else {
		s.dialect = dialectSQLite
		memory := strings.Contains(cfg.DSN, ":memory:") || strings.Contains(cfg.DSN, "mode=memory")
		w, err := openSQLite(cfg.DSN, true, gcfg())
		if err != nil {
			return nil, err
		}
		s.w, s.r = w, w
		wdb, _ := w.DB()
		wdb.SetMaxOpenConns(1)
		wdb.SetMaxIdleConns(1)
		wdb.SetConnMaxLifetime(0)
		wdb.SetConnMaxIdleTime(0)
		s.closers = []*sql.DB{wdb}
		// An in-memory database exists once per connection (or per shared
		// cache): readers must share the writer's connection.
		if !memory {
			r, err := openSQLite(cfg.DSN, false, gcfg())
			if err != nil {
				_ = wdb.Close()
				return nil, err
			}
			rdb, _ := r.DB()
			n := cfg.MaxOpenConns
			if n <= 0 {
				n = 8
			}
			rdb.SetMaxOpenConns(n)
			rdb.SetMaxIdleConns(n)
			s.r = r
			s.closers = append(s.closers, rdb)
		}
	}
	if err := s.traceStatements(); err != nil { // spans only in traced requests
		_ = s.Close()
		return nil, err
	}
	if err := s.closers[0].PingContext(ctx); err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("gormstore: open: database unreachable: %w", err)
	}
	return s, nil
}

func isPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// openSQLite opens a pool on path with WAL, foreign keys and a busy timeout;
// the writer's transactions begin IMMEDIATE (they take the write lock up
// front, so a read-then-write transaction never fails to upgrade), the
// readers are query_only.
func openSQLite(dsn string, writer bool, gcfg *gorm.Config) (*gorm.DB, error) {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	if !strings.Contains(dsn, ":memory:") && !strings.Contains(dsn, "mode=memory") {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(NORMAL)")
	}
	if writer {
		q.Set("_txlock", "immediate")
	} else {
		q.Add("_pragma", "query_only(1)")
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	full := dsn + sep + q.Encode()
	db, err := gorm.Open(sqliteDialector{sqlite.Open(full).(*sqlite.Dialector)}, gcfg)
	if err != nil {
		return nil, fmt.Errorf("gormstore: open sqlite: %w", err)
	}
	return db, nil
}

// Close releases the connections.
func (s *Store) Close() error {
	var errs []error
	for _, db := range s.closers {
		if err := db.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("gormstore: close: %w", err)
	}
	return nil
}

// Ping reports whether the database answers and every migration is applied.
// It reads through the reader pool only: on SQLite the one writer
// connection is busy whenever a write runs, and readiness must not queue
// behind it; reading the migrations table proves the file is a usable
// database (on PostgreSQL the readers are the pool).
func (s *Store) Ping(ctx context.Context) error {
	rdb, err := s.r.DB()
	if err != nil {
		return fmt.Errorf("gormstore: ping: %w", err)
	}
	if err := rdb.PingContext(ctx); err != nil {
		return fmt.Errorf("gormstore: ping: %w", err)
	}
	pending, err := s.pending(ctx, migrations)
	if err != nil {
		return fmt.Errorf("gormstore: ping: %w", err)
	}
	if len(pending) > 0 {
		return fmt.Errorf("gormstore: ping: %d migration(s) pending (first: %d %s); run `bankfeed migrate up`",
			len(pending), pending[0].version, pending[0].name)
	}
	return nil
}

// txKey carries the open transaction in a context.
type txKey struct{}

type txState struct {
	owner *Store
	db    *gorm.DB
	// standing are the consents lockConsent found standing in this
	// transaction (see standingConsents).
	standing map[string]bool
	// consentLocks are the (user, client) pairs whose consent lock
	// (consentLock) this transaction holds on PostgreSQL.
	consentLocks map[[2]string]bool
}

func (s *Store) txFrom(ctx context.Context) *gorm.DB {
	if st := s.currentTx(ctx); st != nil {
		return st.db
	}
	return nil
}

// currentTx is the state of this store's transaction in ctx; nil outside
// one (or in another store's).
func (s *Store) currentTx(ctx context.Context) *txState {
	if st, ok := ctx.Value(txKey{}).(*txState); ok && st.owner == s {
		return st
	}
	return nil
}

// read is the handle for queries: the transaction in ctx, else the readers.
func (s *Store) read(ctx context.Context) *gorm.DB {
	if tx := s.txFrom(ctx); tx != nil {
		return tx.WithContext(ctx)
	}
	return s.r.WithContext(ctx)
}

// write is the handle for a single-statement write: the transaction in ctx,
// else the writer (autocommit).
func (s *Store) write(ctx context.Context) *gorm.DB {
	if tx := s.txFrom(ctx); tx != nil {
		return tx.WithContext(ctx)
	}
	return s.w.WithContext(ctx)
}

// InTx runs fn in one database transaction (joining the one in ctx, if
// any). If fn returns an error or panics, the transaction rolls back; a
// panic is re-raised.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context) error) (err error) {
	if s.txFrom(ctx) != nil {
		return fn(ctx)
	}
	tx := s.w.WithContext(ctx).Begin()
	if tx.Error != nil {
		return fmt.Errorf("gormstore: begin: %w", translate(tx.Error))
	}
	done := false
	defer func() {
		if !done {
			tx.Rollback() // fn panicked; the panic continues
		}
	}()
	ferr := fn(context.WithValue(ctx, txKey{}, &txState{owner: s, db: tx}))
	done = true
	if ferr != nil {
		if rerr := tx.Rollback().Error; rerr != nil && !errors.Is(rerr, sql.ErrTxDone) {
			s.log.WarnContext(ctx, "gormstore: rollback failed", "err", rerr)
		}
		return ferr
	}
	if cerr := tx.Commit().Error; cerr != nil {
		return fmt.Errorf("gormstore: commit: %w", translate(cerr))
	}
	return nil
}

// tx runs fn in a transaction: the caller's if ctx carries one, else a new
// one on the writer. Methods that write more than one statement use it.
func (s *Store) tx(ctx context.Context, fn func(db *gorm.DB) error) error {
	return s.InTx(ctx, func(ctx context.Context) error { return fn(s.txFrom(ctx).WithContext(ctx)) })
}

// nowUTC is the store clock in UTC.
func (s *Store) nowUTC() time.Time { return s.now().UTC() }

// slogLogger routes gorm's messages to slog at warning level and above.
// It never logs SQL arguments (ParamsFilter drops them before gorm renders
// the statement), and it leaves failed statements to the callers, who get
// the error.
type slogLogger struct {
	log  *slog.Logger
	slow time.Duration
}

var (
	_ logger.Interface = (*slogLogger)(nil)
	_ gormParamsFilter = (*slogLogger)(nil)
)

type gormParamsFilter interface {
	ParamsFilter(ctx context.Context, sql string, params ...any) (string, []any)
}

func (l *slogLogger) LogMode(logger.LogLevel) logger.Interface { return l }
func (l *slogLogger) Info(context.Context, string, ...any)     {}
func (l *slogLogger) Warn(ctx context.Context, msg string, data ...any) {
	l.log.WarnContext(ctx, "gorm: "+fmt.Sprintf(msg, data...))
}
func (l *slogLogger) Error(ctx context.Context, msg string, data ...any) {
	l.log.ErrorContext(ctx, "gorm: "+fmt.Sprintf(msg, data...))
}
func (l *slogLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), _ error) {
	if d := time.Since(begin); d > l.slow {
		q, rows := fc()
		logSlow(ctx, l.log, d, rows, q)
	}
}

// slowStatement is how long a statement runs before it is logged.
const slowStatement = time.Second

// logSlow logs a slow statement: its text (placeholders, never values),
// cut at 300 bytes, and the rows it touched (-1 unknown).
func logSlow(ctx context.Context, log *slog.Logger, d time.Duration, rows int64, q string) {
	if len(q) > 300 {
		q = q[:300] + "…"
	}
	log.WarnContext(ctx, "gormstore: slow query", "duration", d, "rows", rows, "sql", q)
}

// ParamsFilter keeps arguments out of every rendered statement.
func (l *slogLogger) ParamsFilter(_ context.Context, q string, _ ...any) (string, []any) {
	return q, nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bankfeed/bankfeed/config"
	"github.com/bankfeed/bankfeed/store/gormstore"
)

// openExistingStore is openStore for the commands that work on the server's
// database (keys, clients, business, import, backup): an embedded SQLite file
// that does not exist is refused rather than created, since an empty new
// database (and the key-encryption key keys rotate would generate beside it)
// is never what the server reads — a missing --data-dir or a typo in it.
// Only serve, migrate and demo create a database.
func openExistingStore(ctx context.Context, cfg config.Config, logger *slog.Logger) (*gormstore.Store, error) {
	if path := sqliteFile(cfg); path != "" {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("the database %s does not exist: point --data-dir or --database-url at the server's database, "+
				"or create one with `bankfeed migrate`", path)
		}
	}
	return openStore(ctx, cfg, logger)
}

// sqliteFile is the file of the configured SQLite database, or "" for
// PostgreSQL and in-memory databases.
func sqliteFile(cfg config.Config) string {
	if cfg.IsPostgres() {
		return ""
	}
	dsn := cfg.DSN()
	if strings.Contains(dsn, ":memory:") || strings.Contains(dsn, "mode=memory") {
		return ""
	}
	if rest, ok := strings.CutPrefix(dsn, "file:"); ok {
		dsn, _, _ = strings.Cut(rest, "?")
	}
	return dsn
}

// openStore opens the configured database (creating the data directory for
// the embedded SQLite file) and says plainly which database it could not reach.
func openStore(ctx context.Context, cfg config.Config, logger *slog.Logger) (*gormstore.Store, error) {
	switch {
	case cfg.DatabaseURL == "":
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
	case !cfg.IsPostgres() && !strings.HasPrefix(cfg.DatabaseURL, "file:"):
		// SQLite reports a missing directory as "out of memory (14)".
		dir := filepath.Dir(cfg.DatabaseURL)
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("cannot open the database %s: directory %s does not exist", cfg.DatabaseURL, dir)
		}
	}
	// Bound the first contact so a wrong host fails fast instead of hanging.
	octx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	st, err := gormstore.Open(octx, gormstore.Config{
		DSN:          cfg.DSN(),
		Logger:       logger,
		Now:          time.Now,
		MaxOpenConns: cfg.DatabaseMaxOpenConns,
	})
	if err != nil {
		return nil, fmt.Errorf("cannot open the database %s: %w", cfg.RedactedDSN(), err)
	}
	return st, nil
}

package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bankfeed/bankfeed/config"
	"github.com/bankfeed/bankfeed/store/gormstore"
)

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

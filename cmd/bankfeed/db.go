package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/bankfeed/bankfeed/config"
	"github.com/bankfeed/bankfeed/store/gormstore"
)

// openStore opens the configured database (creating the data directory for
// the embedded SQLite file) and says plainly which database it could not reach.
func openStore(ctx context.Context, cfg config.Config, logger *slog.Logger) (*gormstore.Store, error) {
	if cfg.DatabaseURL == "" {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
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

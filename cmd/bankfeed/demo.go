package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/store/demo"
)

func (a *app) demoCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Demo data: fill a database with a deterministic demo bank",
		Args:  cobra.NoArgs,
	}
	var (
		asJSON  bool
		opts    demo.Options
		asOfStr string
	)
	seed := &cobra.Command{
		Use:   "seed",
		Short: "Fill an empty database with the demo data set and print its credentials",
		Long: `Fill an empty database with the demo data set: two business groups, their
legal entities and accounts, 13 months of transactions and statements, their
administrators, an accounting software user awaiting first sign-in and one
demo vendor client. The credentials (random on every run) are printed on
stdout, and only there; --json prints them as one JSON object for scripts.

Everything but the credentials follows from --seed and --as-of. --scale makes a
large data set for benchmarks instead, showing progress on stderr.
A database that already holds business groups is refused.`,
		Example: `  bankfeed demo seed --json > demo.json
  bankfeed demo seed --scale 1000 --transactions 10000 --data-dir /tmp/big`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig(cmd)
			if err != nil {
				return err
			}
			if asOfStr != "" {
				if opts.Now, err = time.Parse(time.DateOnly, asOfStr); err != nil {
					return fmt.Errorf("--as-of: %q is not a date such as 2026-01-31", asOfStr)
				}
				opts.Now = opts.Now.Add(18 * time.Hour) // the end of that business day
			}
			if opts.Accounts < 0 || opts.TransactionsPerAccount < 0 {
				return errors.New("--scale and --transactions must not be negative")
			}
			// Secrets are created now, so the server started next shares them.
			if _, err := cfg.EnsureSecrets(); err != nil {
				return err
			}
			logger := newLogger(cfg.Log, a.stderr)
			st, err := openStore(cmd.Context(), cfg, logger)
			if err != nil {
				return err
			}
			defer st.Close()
			if cfg.MigrateOnStart {
				if err := st.Migrate(cmd.Context()); err != nil {
					return fmt.Errorf("migrate: %w", err)
				}
			}
			if opts.Accounts > 0 {
				opts.Progress = a.stderr
			}
			start := time.Now()
			creds, err := demo.Seed(cmd.Context(), st, opts)
			if err != nil {
				return err
			}
			logger.InfoContext(cmd.Context(), "demo data seeded", "duration", time.Since(start).Round(time.Millisecond).String(),
				"database", cfg.RedactedDSN())
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(creds)
			}
			creds.Print(cmd.OutOrStdout())
			return nil
		},
	}
	f := seed.Flags()
	f.BoolVar(&asJSON, "json", false, "print the credentials as one JSON object")
	f.Int64Var(&opts.Seed, "seed", 1, "random seed: the same seed and --as-of give the same data")
	f.StringVar(&asOfStr, "as-of", "", "last business date of the history, YYYY-MM-DD (default: today)")
	f.IntVar(&opts.Accounts, "scale", 0, "generate this many accounts (a large data set for benchmarks) instead of the small demo")
	f.IntVar(&opts.TransactionsPerAccount, "transactions", 0, "with --scale: about this many transactions per account (default: each account's natural rate)")
	cmd.AddCommand(seed)
	return cmd
}

// seedDemoIfEmpty is serve --demo: it fills an empty database and prints the
// credentials on stdout; a database that holds data is left alone.
func (a *app) seedDemoIfEmpty(ctx context.Context, st store.Store, logger *slog.Logger) error {
	groups, err := st.ListBusinessGroups(ctx)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if len(groups) > 0 {
		logger.InfoContext(ctx, "demo: the database already holds data; not seeding (its credentials were printed when it was seeded)")
		return nil
	}
	start := time.Now()
	creds, err := demo.Seed(ctx, st, demo.Options{})
	if errors.Is(err, store.ErrConflict) { // another replica seeded it first
		logger.InfoContext(ctx, "demo: the database already holds data; not seeding")
		return nil
	}
	if err != nil {
		return err
	}
	logger.InfoContext(ctx, "demo data seeded", "duration", time.Since(start).Round(time.Millisecond).String())
	creds.Print(a.stdout)
	return nil
}

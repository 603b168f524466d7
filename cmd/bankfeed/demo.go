package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/bankfeed/bankfeed/config"
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

// demoCredentialsFile is where a forced serve --demo writes the credentials,
// in the data directory.
const demoCredentialsFile = "demo-credentials.txt"

// demoForceEnv is --demo-force in the environment. It has no YAML key:
// forcing the demo onto a public setting is meant to be said at start.
const demoForceEnv = "BANKFEED_DEMO_FORCE"

// demoOutput is where serve --demo puts the credentials of a fresh seed.
type demoOutput struct {
	file   string   // "": stdout
	forced []string // why --demo needed --demo-force, to log
}

// checkDemo refuses serve --demo on a setting that may be production: an
// issuer off this machine (others can reach the server and its demo
// passwords are in a log or a terminal) or PostgreSQL (a shared database).
// Forced, the credentials go to a 0600 file rather than to stdout, which
// such deployments collect into their logs.
func checkDemo(cfg config.Config, force bool) (demoOutput, error) {
	var risks []string
	if u, err := url.Parse(cfg.Issuer); err != nil || !isLocalHost(u.Hostname()) {
		risks = append(risks, fmt.Sprintf("the issuer %s is not on localhost or a loopback address", cfg.Issuer))
	}
	if cfg.IsPostgres() {
		risks = append(risks, "the database is PostgreSQL")
	}
	if len(risks) == 0 {
		return demoOutput{}, nil
	}
	if !force {
		return demoOutput{}, fmt.Errorf("serve --demo refused (%s): whoever reads its output can use the demo's passwords and vendor secret; "+
			"--demo-force (or %s=true) starts it anyway and writes them to %s in the data directory", strings.Join(risks, "; "), demoForceEnv, demoCredentialsFile)
	}
	return demoOutput{file: filepath.Join(cfg.DataDir, demoCredentialsFile), forced: risks}, nil
}

// isLocalHost is config's rule for an http issuer: localhost or a loopback IP.
func isLocalHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// envBool reads a boolean environment variable; unset is false.
func envBool(getenv func(string) string, name string) (bool, error) {
	v := getenv(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s: %q is not true or false", name, v)
	}
	return b, nil
}

// seedDemoIfEmpty is serve --demo: it fills an empty database and prints the
// credentials on stdout (or writes them to out.file); a database that holds
// data is left alone.
func (a *app) seedDemoIfEmpty(ctx context.Context, st store.Store, logger *slog.Logger, out demoOutput) error {
	if len(out.forced) > 0 {
		logger.WarnContext(ctx, "demo: --demo forced onto a setting that may be production", "reasons", strings.Join(out.forced, "; "))
	}
	groups, err := st.ListBusinessGroups(ctx)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if len(groups) > 0 {
		logger.InfoContext(ctx, "demo: the database already holds data; not seeding (its credentials were given when it was seeded)")
		return nil
	}
	var tmp *os.File
	if out.file != "" {
		// Made before seeding: a data directory that cannot take the file
		// fails before the database holds passwords nobody was given.
		if err := os.MkdirAll(filepath.Dir(out.file), 0o700); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		if tmp, err = os.CreateTemp(filepath.Dir(out.file), ".demo-credentials-*"); err != nil { // mode 0600
			return fmt.Errorf("demo: credentials file: %w", err)
		}
		defer os.Remove(tmp.Name()) // after the rename, a no-op
		defer tmp.Close()
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
	if tmp == nil {
		creds.Print(a.stdout)
		return nil
	}
	var buf bytes.Buffer
	creds.Print(&buf)
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("demo: credentials file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("demo: credentials file: %w", err)
	}
	// A rename, so that an older file of any mode is replaced by this 0600 one.
	if err := os.Rename(tmp.Name(), out.file); err != nil {
		return fmt.Errorf("demo: credentials file: %w", err)
	}
	logger.InfoContext(ctx, "demo credentials written (not printed: --demo-force)", "file", out.file)
	return nil
}

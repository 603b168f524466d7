package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bankfeed/bankfeed/config"
)

// run executes the bankfeed command line; main and the tests share it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return newApp(getenv, stdout, stderr).execute(ctx, args)
}

// app is one invocation of the command: its inputs, outputs and flags.
type app struct {
	getenv         func(string) string
	stdout, stderr io.Writer

	configPath, addr, dataDir, databaseURL, issuer string

	// listening, when set (tests), receives the bound address once serve
	// accepts connections.
	listening func(net.Addr)
}

func newApp(getenv func(string) string, stdout, stderr io.Writer) *app {
	return &app{getenv: getenv, stdout: stdout, stderr: stderr}
}

func (a *app) execute(ctx context.Context, args []string) error {
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	return root.ExecuteContext(ctx)
}

func (a *app) rootCommand() *cobra.Command {
	def := config.Default()
	root := &cobra.Command{
		Use:   "bankfeed",
		Short: "The bank's OAuth provider and read-only data API for accounting software",
		Long: `bankfeed lets a business's accounting software (QuickBooks, Xero, ...) read the
bank accounts of one accounting software user through OAuth 2.0 instead of a
shared password, bounded by the user's job role and account group.

Every setting is a flag, an environment variable or a YAML key in the --config
file; flags override the environment, which overrides the file. The full list
is in README.md ("Configuration").`,
		SilenceUsage:  true, // errors are reported once, by main
		SilenceErrors: true,
		Example: `  bankfeed serve --demo                    # embedded SQLite in ./data, demo data, :8080
  bankfeed migrate status --database-url postgres://bankfeed@db/bankfeed
  BANKFEED_ISSUER=https://bank.example bankfeed serve`,
	}
	root.CompletionOptions.HiddenDefaultCmd = true // still there: bankfeed completion bash
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%w\nRun '%s --help' for usage.", err, c.CommandPath())
	})
	pf := root.PersistentFlags()
	pf.StringVar(&a.configPath, "config", "", "YAML configuration file (env BANKFEED_CONFIG)")
	pf.StringVar(&a.addr, "addr", def.Addr, "HTTP listen address (env BANKFEED_ADDR)")
	pf.StringVar(&a.dataDir, "data-dir", def.DataDir, "directory of the embedded SQLite database and generated secrets (env BANKFEED_DATA_DIR)")
	pf.StringVar(&a.databaseURL, "database-url", "", "postgres:// DSN or SQLite file path; empty: "+config.DatabaseFile+" in the data directory (env BANKFEED_DATABASE_URL)")
	pf.StringVar(&a.issuer, "issuer", def.Issuer, "public base URL and OAuth issuer (env BANKFEED_ISSUER)")

	root.AddCommand(a.serveCommand(), a.migrateCommand(), a.demoCommand(), a.versionCommand())
	root.AddCommand(a.clientsCommand(), a.keysCommand(), a.importCommand(), a.businessCommand())
	root.AddCommand(a.healthcheckCommand(), a.backupCommand(), a.outboxCommand())
	return root
}

// loadConfig applies default < file < environment < flags and validates.
func (a *app) loadConfig(cmd *cobra.Command) (config.Config, error) {
	cfg, err := a.readConfig(cmd)
	if err != nil {
		return config.Config{}, err
	}
	if err := cfg.Validate(); err != nil {
		return config.Config{}, err
	}
	return cfg, nil
}

// readConfig is loadConfig without validation (defaults < file <
// environment < the command's flags), for commands that need one setting
// of an otherwise incomplete configuration (healthcheck's address).
func (a *app) readConfig(cmd *cobra.Command) (config.Config, error) {
	path := a.getenv("BANKFEED_CONFIG")
	if f := cmd.Flags().Lookup("config"); f != nil && f.Changed {
		path = a.configPath
	}
	cfg, err := config.Load(path, a.getenv)
	if err != nil {
		return config.Config{}, err
	}
	flags := cmd.Flags()
	for name, dst := range map[string]*string{
		"addr":          &cfg.Addr,
		"data-dir":      &cfg.DataDir,
		"database-url":  &cfg.DatabaseURL,
		"issuer":        &cfg.Issuer,
		"metrics-addr":  &cfg.Metrics.Addr, // serve's
		"tls-cert":      &cfg.TLS.Cert,
		"tls-key":       &cfg.TLS.Key,
		"tls-client-ca": &cfg.TLS.ClientCA,
	} {
		if f := flags.Lookup(name); f != nil && f.Changed {
			*dst = f.Value.String()
		}
	}
	return cfg, nil
}

// newLogger builds the process logger from config; it writes to w (stderr),
// leaving stdout for what a script reads (credentials, JSON, status tables).
func newLogger(c config.Log, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(strings.ToUpper(c.Level))) // validated by config
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

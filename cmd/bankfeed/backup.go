package main

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/bankfeed/bankfeed/config"
)

func (a *app) backupCommand() *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "backup FILE",
		Short: "Copy the embedded SQLite database to FILE, safely while serve runs",
		Long: `Write a consistent copy of the embedded SQLite database to FILE (SQLite's
VACUUM INTO): the copy holds every transaction committed before it began and
none after, while serve goes on answering and writing.
FILE is written beside its final name and moved there once complete; an
existing FILE is refused unless --force. Pending migrations do not stop a
backup (take one before bankfeed migrate up).

The copy holds no secrets: keep the key-encryption key and the token secret
(` + config.KeyEncryptionKeyFile + ` and ` + config.TokenSecretFile + ` in the data directory, or wherever
BANKFEED_KEY_ENCRYPTION_KEY and BANKFEED_TOKEN_SECRET come from) with it,
apart from it: without the key-encryption key the signing keys in the copy
cannot be opened.

PostgreSQL is refused: back it up with pg_dump or pg_basebackup (README.md,
"Backups").`,
		Example: `  bankfeed backup /var/backups/bankfeed/bankfeed-$(date +%F).db
  bankfeed backup --force /var/backups/bankfeed/latest.db`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.loadConfig(cmd)
			if err != nil {
				return err
			}
			if cfg.IsPostgres() {
				return errors.New("backup: the database is PostgreSQL; back it up with pg_dump or pg_basebackup " +
					"(README.md, \"Backups\"), not with bankfeed backup")
			}
			path := args[0]
			if src, dst := absPath(sqliteFile(cfg)), absPath(path); src != "" && src == dst {
				return fmt.Errorf("backup: %s is the database itself", path)
			}
			ctx := cmd.Context()
			logger := newLogger(cfg.Log, a.stderr)
			st, err := openExistingStore(ctx, cfg, logger)
			if err != nil {
				return err
			}
			defer st.Close()
			n, err := st.BackupSQLite(ctx, path, force)
			if errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("backup: %s already exists; use --force to replace it", path)
			}
			if err != nil {
				return fmt.Errorf("backup: %w", err)
			}
			logger.InfoContext(ctx, "backup written", "file", path, "bytes", n)
			fmt.Fprintf(cmd.OutOrStdout(), "%s\t%d bytes\n", path, n)
			return nil
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "replace FILE if it exists")
	return cmd
}

// absPath is p made absolute, or "" if p is empty or cannot be.
func absPath(p string) string {
	if p == "" {
		return ""
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return ""
	}
	return abs
}

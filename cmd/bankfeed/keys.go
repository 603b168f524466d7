package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/bankfeed/bankfeed/authz"
	"github.com/bankfeed/bankfeed/config"
	"github.com/bankfeed/bankfeed/store/gormstore"
)

func (a *app) keysCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "The token signing keys: rotate, list",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "rotate",
		Short: "Add a new signing key and retire the current one; prints the new kid",
		Long: `Add a new ES256 signing key (its private part sealed with the key-encryption
key) and retire the current one. Every replica signs with the new key within
seconds; the JWKS keeps publishing the retired key for a day so that tokens it
signed keep verifying until they expire.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withStore(cmd, func(ctx context.Context, cfg config.Config, st *gormstore.Store, logger *slog.Logger) error {
				kek, err := a.keyEncryptionKey(ctx, cfg, st, logger)
				if err != nil {
					return err
				}
				kid, err := authz.RotateKey(ctx, st, kek, time.Now())
				if err != nil {
					return fmt.Errorf("keys rotate: %w", err)
				}
				logger.InfoContext(ctx, "signing key rotated", "kid", kid)
				fmt.Fprintln(cmd.OutOrStdout(), kid)
				return nil
			})
		},
	}, &cobra.Command{
		Use:   "list",
		Short: "List the signing keys, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withStore(cmd, func(ctx context.Context, _ config.Config, st *gormstore.Store, _ *slog.Logger) error {
				keys, err := st.ListSigningKeys(ctx)
				if err != nil {
					return fmt.Errorf("keys list: %w", err)
				}
				w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "KID\tALG\tCREATED\tRETIRED")
				for _, k := range keys {
					retired := "current"
					if !k.RetiredAt.IsZero() {
						retired = k.RetiredAt.UTC().Format(time.RFC3339)
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", k.ID, k.Algorithm, k.CreatedAt.UTC().Format(time.RFC3339), retired)
				}
				return w.Flush()
			})
		},
	})
	return cmd
}

// keyEncryptionKey gets the key that seals signing keys as serve does
// (EnsureSecrets, then Validate). It refuses to generate a new one for a
// database that already holds keys: they were sealed with another key (a
// wrong --data-dir, most likely) and serve could not open the new one.
func (a *app) keyEncryptionKey(ctx context.Context, cfg config.Config, st *gormstore.Store, logger *slog.Logger) ([]byte, error) {
	if cfg.Secrets.KeyEncryptionKey == "" && !cfg.IsPostgres() {
		path := filepath.Join(cfg.DataDir, config.KeyEncryptionKeyFile)
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			keys, err := st.ListSigningKeys(ctx)
			if err != nil {
				return nil, fmt.Errorf("keys rotate: %w", err)
			}
			if len(keys) > 0 {
				return nil, fmt.Errorf("keys rotate: %s does not exist, but the database already has signing keys sealed with a key-encryption key; "+
					"point --data-dir at the server's data directory or set BANKFEED_KEY_ENCRYPTION_KEY", path)
			}
		}
	}
	created, err := cfg.EnsureSecrets()
	if err != nil {
		return nil, err
	}
	for _, p := range created {
		logger.InfoContext(ctx, "generated a secret; keep it with the database", "file", p)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	kek, err := cfg.Secrets.KeyEncryptionKeyBytes()
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	return kek, nil
}

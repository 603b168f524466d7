package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

func (a *app) migrateCommand() *cobra.Command {
	up := func(cmd *cobra.Command, _ []string) error {
		cfg, err := a.loadConfig(cmd)
		if err != nil {
			return err
		}
		logger := newLogger(cfg.Log, a.stderr)
		st, err := openStore(cmd.Context(), cfg, logger)
		if err != nil {
			return err
		}
		defer st.Close()
		if err := st.Migrate(cmd.Context()); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		fmt.Fprintf(cmd.OutOrStdout(), "%s: every migration applied\n", cfg.RedactedDSN())
		return nil
	}
	cmd := &cobra.Command{
		Use:   "migrate [up|status]",
		Short: "Apply pending database migrations, or list them",
		Long: `Apply every pending migration to the configured database (the default, same
as "migrate up"), or list the migrations and whether each is applied
("migrate status"). Each migration runs in its own transaction: one that
fails leaves the database as it was before it.`,
		Args: cobra.NoArgs,
		RunE: up,
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "up",
		Short: "Apply every pending migration",
		Args:  cobra.NoArgs,
		RunE:  up,
	}, &cobra.Command{
		Use:   "status",
		Short: "List migrations and whether each is applied",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig(cmd)
			if err != nil {
				return err
			}
			st, err := openStore(cmd.Context(), cfg, newLogger(cfg.Log, a.stderr))
			if err != nil {
				return err
			}
			defer st.Close()
			ms, err := st.MigrationStatus(cmd.Context())
			if err != nil {
				return fmt.Errorf("migration status: %w", err)
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "VERSION\tNAME\tAPPLIED")
			pending := 0
			for _, m := range ms {
				applied := "pending"
				if !m.AppliedAt.IsZero() {
					applied = m.AppliedAt.UTC().Format("2006-01-02T15:04:05Z")
				} else {
					pending++
				}
				fmt.Fprintf(w, "%d\t%s\t%s\n", m.Version, m.Name, applied)
			}
			if err := w.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d migration(s), %d pending\n", len(ms), pending)
			return nil
		},
	})
	return cmd
}

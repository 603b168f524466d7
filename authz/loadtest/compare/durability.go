package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// commitSettings are the PostgreSQL settings that decide what a commit
// waits for. The same build beside the same Hydra measured 8.5× flows per
// second with all three off and 7.2× with all three on (8 Dec 2026,
// README): a run's figures mean little without them.
var commitSettings = []string{"fsync", "synchronous_commit", "full_page_writes"}

// databaseSettings reads the server's version and commitSettings as the
// connection to dsn sees them (synchronous_commit may be set per role,
// database or connection).
func databaseSettings(ctx context.Context, dsn string) (string, error) {
	var parts []string
	err := withConn(ctx, dsn, func(conn *pgx.Conn) error {
		var version string
		if err := conn.QueryRow(ctx, "SHOW server_version").Scan(&version); err != nil {
			return err
		}
		// Debian's build appends its package name: "15.18 (Debian 15.18-0+deb12u1)".
		version, _, _ = strings.Cut(version, " ")
		parts = append(parts, "PostgreSQL "+version)
		for _, name := range commitSettings {
			var v string
			if err := conn.QueryRow(ctx, "SELECT current_setting($1)", name).Scan(&v); err != nil {
				return err
			}
			parts = append(parts, name+" "+v)
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("database settings: %w", err)
	}
	return strings.Join(parts, ", "), nil
}

// databaseLine is the table's line naming the database's settings, with
// what they mean for the figures; empty when they were not read.
func (r *results) databaseLine() string {
	if r.database == "" {
		return ""
	}
	line := "\nDatabase: " + r.database
	if strings.Contains(r.database, "fsync off") || strings.Contains(r.database, "synchronous_commit off") {
		line += " (commits do not wait for the disk; with a durable database every figure is lower: README, \"Durable commits\")"
	}
	return line + ".\n"
}

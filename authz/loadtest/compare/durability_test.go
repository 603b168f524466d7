package main

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/internal/loadreport"
	"github.com/bankfeed/bankfeed/store/gormstore/gormtest"
)

// TestDatabaseSettingsAsTheConnectionSeesThem: the line names the
// server's version and each commit setting with the value the
// connection has, including one the DSN sets for itself.
func TestDatabaseSettingsAsTheConnectionSeesThem(t *testing.T) {
	dsn := gormtest.PostgresDSN(t, "cmpsettings")
	for _, v := range []string{"on", "off", "remote_write"} {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Set("synchronous_commit", v) // pgx: a runtime parameter of the connection
		u.RawQuery = q.Encode()
		got, err := databaseSettings(t.Context(), u.String())
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(got, "PostgreSQL 1") || strings.Contains(got, "(") {
			t.Errorf("synchronous_commit=%s: %q does not start with the bare version", v, got)
		}
		if !strings.Contains(got, ", synchronous_commit "+v+",") {
			t.Errorf("synchronous_commit=%s: %q does not name it", v, got)
		}
		for _, name := range []string{"fsync", "full_page_writes"} {
			if !strings.Contains(got, ", "+name+" on") && !strings.Contains(got, ", "+name+" off") {
				t.Errorf("%q does not name %s on or off", got, name)
			}
		}
	}
	if _, err := databaseSettings(t.Context(), "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2"); err == nil {
		t.Error("an unreachable database: no error")
	}
}

// TestMarkdownNamesTheDatabase: the table says which settings its figures
// were measured with, and warns when commits did not wait for the disk.
func TestMarkdownNamesTheDatabase(t *testing.T) {
	o := options{rounds: 1, workers: 32, duration: 15 * time.Second, warmup: 2 * time.Second, scenarios: []string{"refresh"}}
	const warning = "commits do not wait for the disk"
	for _, tc := range []struct {
		settings string
		warned   bool
	}{
		{"PostgreSQL 15.18, fsync off, synchronous_commit off, full_page_writes off", true},
		{"PostgreSQL 15.18, fsync on, synchronous_commit off, full_page_writes on", true},
		{"PostgreSQL 15.18, fsync off, synchronous_commit on, full_page_writes on", true},
		{"PostgreSQL 15.18, fsync on, synchronous_commit on, full_page_writes on", false},
		{"PostgreSQL 15.18, fsync on, synchronous_commit remote_apply, full_page_writes on", false},
	} {
		r := results{database: tc.settings}
		r.add(runResult{Figures: loadreport.Figures{Name: "refresh", RPS: 1600}, Server: "bankfeed", Round: 1})
		text := r.markdown(o)
		if !strings.Contains(text, "\nDatabase: "+tc.settings) {
			t.Errorf("%s: not in the table:\n%s", tc.settings, text)
		}
		if strings.Contains(text, warning) != tc.warned {
			t.Errorf("%s: warned %v, want %v:\n%s", tc.settings, !tc.warned, tc.warned, text)
		}
	}
	var none results
	none.add(runResult{Figures: loadreport.Figures{Name: "refresh", RPS: 1600}, Server: "bankfeed", Round: 1})
	if text := none.markdown(o); strings.Contains(text, "Database:") {
		t.Errorf("settings never read, yet a database line:\n%s", text)
	}
}

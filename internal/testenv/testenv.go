// Package testenv decides, for tests, whether an optional tool or server is
// there (PostgreSQL, xmllint, pdftotext, Chromium, the exports' importers), and says so when it is
// not — like the standard library's internal/testenv.
//
// A test that needs one calls Need or LookPath: without it the test is
// skipped, and the first skip of each group in a `go test` run is announced
// on one line. `go test ./...` hides everything a passing package prints, so
// that line goes to the terminal (/dev/tty) as well as to the test output
// (seen with -v and on failure). BANKFEED_TEST_REQUIRE turns skips into
// failures: a comma-separated list of groups, or "all", as .ci/run sets it,
// so that a missing tool can never make CI pass quietly.
//
// Only _test.go files and test-support packages import it.
package testenv

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// RequireEnv names the groups whose absence fails a test instead of
// skipping it ("all", or e.g. "postgres,xmllint").
const RequireEnv = "BANKFEED_TEST_REQUIRE"

// A Group is a set of tests that need the same optional tool or server.
type Group struct {
	Name   string // as in BANKFEED_TEST_REQUIRE
	What   string // what the group checks
	Unlock string // how to make it run
}

// The groups, as the README lists them.
var (
	Postgres = Group{"postgres", "the stores, conformance suite and servers on PostgreSQL",
		"set BANKFEED_TEST_POSTGRES_DSN to a PostgreSQL server's URL (.ci/run starts one)"}
	XMLLint = Group{"xmllint", "XSD validation of camt and OFX exports",
		"apt-get install libxml2-utils"}
	PDFToText = Group{"pdftotext", "the PDF statements' text read back by poppler",
		"apt-get install poppler-utils"}
	Chromium = Group{"chromium", "the bank's pages driven in a real browser",
		"apt-get install chromium"}
	PgStatStatements = Group{"pg_stat_statements", "compare's per-statement figures read from PostgreSQL's pg_stat_statements",
		"start the test server with shared_preload_libraries=pg_stat_statements (.ci/run does)"}
	// The importers that read the exports back (issue 13 §4).
	OFXParse = Group{"ofxparse", "OFX, QBO and QFX exports read back by Odoo's ofxparse",
		"apt-get install python3-ofxparse"}
	OFXDump = Group{"ofxdump", "OFX, QBO and QFX exports read back by libofx (GnuCash's reader)",
		"apt-get install ofx"}
	HLedger = Group{"hledger", "CSV exports read back by hledger's CSV rules",
		"apt-get install hledger"}
)

// Groups is every group, for documentation and tests.
var Groups = []Group{Postgres, PgStatStatements, XMLLint, PDFToText, Chromium, OFXParse, OFXDump, HLedger}

// Need skips t — or fails it, if the group is required — because the
// group's tool is missing; why says what was not found.
func Need(t testing.TB, g Group, why string) {
	t.Helper()
	msg := fmt.Sprintf("%s: %s tests skipped (%s)", why, g.Name, g.Unlock)
	if Required(g) {
		t.Fatalf("%s, but %s=%q requires them", msg, RequireEnv, os.Getenv(RequireEnv))
	}
	announce(g, why)
	t.Skip(msg)
}

// LookPath returns the path of the first of names found on PATH, or skips
// t through Need.
func LookPath(t testing.TB, g Group, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	Need(t, g, strings.Join(names, ", ")+" not found on PATH")
	return ""
}

// Has reports whether one of names is on PATH (for a test that runs its
// other checks first and calls LookPath last).
func Has(names ...string) bool {
	return slices.ContainsFunc(names, func(n string) bool {
		_, err := exec.LookPath(n)
		return err == nil
	})
}

// Required reports whether BANKFEED_TEST_REQUIRE names g (or "all").
func Required(g Group) bool {
	for _, n := range strings.Split(os.Getenv(RequireEnv), ",") {
		if n = strings.TrimSpace(n); n == "all" || n == g.Name {
			return true
		}
	}
	return false
}

var announced sync.Map // group name → struct{}

// announce prints one line the first time g is skipped in this process and,
// through a marker file named after the go command's process, only in the
// first of the test binaries that `go test ./...` runs side by side.
func announce(g Group, why string) {
	if _, dup := announced.LoadOrStore(g.Name, struct{}{}); dup {
		return
	}
	line := fmt.Sprintf("SKIPPED %s: %s (%s; %s)\n", g.Name, g.What, why, g.Unlock)
	fmt.Fprint(os.Stdout, "testenv: "+line)
	if testing.Verbose() || !firstInRun(g) {
		return
	}
	if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
		_, _ = io.WriteString(tty, line)
		_ = tty.Close()
	}
}

// firstInRun creates a marker for g and the parent go command's PID; a
// marker older than CI's limit is another run's with a reused PID.
func firstInRun(g Group) bool {
	name := filepath.Join(os.TempDir(), fmt.Sprintf("bankfeed-testenv-%d-%s", os.Getppid(), g.Name))
	if fi, err := os.Stat(name); err == nil && time.Since(fi.ModTime()) > 2*time.Hour {
		_ = os.Remove(name)
	}
	f, err := os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return !errors.Is(err, fs.ErrExist) // no marker to share: say it anyway
	}
	_ = f.Close()
	return true
}

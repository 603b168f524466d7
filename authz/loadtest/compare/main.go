// Command compare measures bankfeed beside Ory Hydra v2.3.0 on one machine
// and one PostgreSQL, with the same load program (authz/loadtest), and
// prints a Markdown table for the README's "Performance" section.
//
//	go run ./authz/loadtest/compare -pg 'postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable' \
//	    -rounds 3 -d 15s
//
// It builds bankfeed and the load programs from this repository, and Hydra
// v2.3.0 from its tagged source through the Go module proxy in a throwaway
// module under -work (never in this repository); creates two databases on
// -pg (dropped at the end unless -keep); migrates both servers, seeds
// bankfeed's demo data, runs Hydra (`serve all --dev`, a 32-connection
// pool, login and consent accepted through its admin API by
// authz/loadtest/hydraaccept) and bankfeed; then, in -rounds interleaved
// rounds (the order of the servers alternates), drives every scenario for
// -d against each server. Each run records operations/s, p50/p99, the
// server's CPU per operation over the measured window (/proc/PID/stat), its
// peak resident memory (VmHWM, reset before each run) and the load average;
// after each run it vacuums that server's database (-vacuum), untimed.
// With -data it also compares the data API's first pages (dataapi/loadtest)
// with pgbench driving the page's own statement on the same data: the
// database's ceiling. With -dpop (the default) bankfeed also runs the
// refresh scenario and the data API's first pages with DPoP-bound tokens
// (authz/loadtest -dpop, dataapi/loadtest -dpop), rows "refresh (DPoP)" and
// "pages (DPoP)" beside the bearer ones (Hydra v2.3 has no DPoP). The table gives medians of the rounds and the median
// of the per-round ratios. A last table splits each run's machine CPU per
// operation between the server, a local PostgreSQL (every process named
// postgres) and the load program, with the rate the machine could reach
// at that cost: on one shared box, what bounds a target. Before every round,
// before the data API's and at the end, with both servers idle, it probes
// the box's own speed (boxSpeed), so that runs on different days can be
// read against each other.
//
// With -baseline REV it is an A/B of two builds instead: bankfeed at the
// git revision REV, built from a copy of that revision's files, runs in
// Hydra's place, and a last table gives bankfeed ÷ the baseline per
// scenario (the data API's rounds, which compare with pgbench, are
// skipped). With -statements N each scenario runs once more against
// bankfeed, and its N statements with the most execution time in
// pg_stat_statements are listed per operation, with what the database's
// active backends waited on meanwhile (pg_stat_activity, sampled).
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bankfeed/bankfeed/internal/loadreport"
	"github.com/bankfeed/bankfeed/internal/procstat"
	"github.com/bankfeed/bankfeed/store/demo"
)

const hydraVersion = "v2.3.0"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

type options struct {
	pg               string
	work             string
	hydraBin         string
	rounds, workers  int
	duration, warmup time.Duration
	scenarios        []string
	data, keep, dpop bool
	vacuum           bool
	out              string
	// baseline is a git revision of bankfeed measured in Hydra's place (an
	// A/B of two builds); empty for the comparison with Hydra.
	baseline string
	// statements is how many statements statementRuns lists per scenario
	// (0: no statement runs).
	statements int
}

// against is the name of the server the working tree's bankfeed is
// measured against: Hydra, or the baseline build.
func (o options) against() string {
	if o.baseline != "" {
		return baselineName
	}
	return "Hydra"
}

const baselineName = "baseline"

var defaultScenarios = "refresh,flow,introspect,client_credentials,discovery,jwks"

func run(ctx context.Context, args []string, out io.Writer) error {
	var o options
	var scen string
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.StringVar(&o.pg, "pg", "", "PostgreSQL URL of a role that may create databases (required)")
	fs.StringVar(&o.work, "work", "", "working directory for builds, logs and results (default: a new temporary directory)")
	fs.StringVar(&o.hydraBin, "hydra", "", "a Hydra "+hydraVersion+" binary already built (default: build it)")
	fs.IntVar(&o.rounds, "rounds", 3, "interleaved rounds")
	fs.IntVar(&o.workers, "c", 32, "concurrent workers of the load program")
	fs.DurationVar(&o.duration, "d", 15*time.Second, "measured time of each run")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured warm-up of each run")
	fs.StringVar(&scen, "run", defaultScenarios, "scenarios, comma-separated")
	fs.BoolVar(&o.data, "data", true, "also compare the data API's first pages with pgbench on the page's statement")
	fs.BoolVar(&o.dpop, "dpop", true, "also run refresh and the data API's pages with DPoP-bound tokens (bankfeed only)")
	fs.BoolVar(&o.vacuum, "vacuum", true, "VACUUM (ANALYZE) a server's database after each of its runs, outside the measured time")
	fs.BoolVar(&o.keep, "keep", false, "keep the databases (and print their URLs)")
	fs.StringVar(&o.out, "out", "", "also write the Markdown table to this file (default: WORK/results.md)")
	fs.IntVar(&o.statements, "statements", 0, "after the rounds, run each scenario once more against bankfeed without warm-up and list its N statements with the most execution time, per operation (pg_stat_statements, preloaded on -pg's server), and what the database's active backends waited on meanwhile (pg_stat_activity)")
	fs.StringVar(&o.baseline, "baseline", "", "a git revision of this repository: measure its bankfeed in Hydra's place (an A/B of two builds; no data API rounds)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.pg == "" {
		return errors.New("give -pg, a PostgreSQL URL of a role that may create databases")
	}
	if o.rounds < 1 || o.workers < 1 || o.duration < time.Second {
		return errors.New("-rounds and -c must be positive, -d at least 1s")
	}
	if o.statements < 0 {
		return errors.New("-statements must not be negative (0: no statement runs)")
	}
	if o.baseline != "" && o.hydraBin != "" {
		return errors.New("give -baseline (bankfeed against a build of its own) or -hydra (against Hydra), not both")
	}
	for _, s := range strings.Split(scen, ",") {
		if s = strings.TrimSpace(s); s != "" {
			o.scenarios = append(o.scenarios, s)
		}
	}
	if o.work == "" {
		dir, err := os.MkdirTemp("", "bankfeed-compare-")
		if err != nil {
			return err
		}
		o.work = dir
	} else if err := os.MkdirAll(o.work, 0o755); err != nil {
		return err
	}
	if o.out == "" {
		o.out = filepath.Join(o.work, "results.md")
	}
	fmt.Fprintf(out, "working directory %s (logs: *.log, raw results: runs.jsonl)\n", o.work)
	c := &comparer{o: o, log: out}
	defer c.stopAll()
	return c.run(ctx)
}

type comparer struct {
	o     options
	log   io.Writer
	procs []*exec.Cmd
	bin   map[string]string
	// accountIDs are the demo's accounting software user's accounts.
	accountIDs []string
}

func (c *comparer) logf(format string, a ...any) {
	fmt.Fprintf(c.log, "%s  %s\n", time.Now().UTC().Format("15:04:05"), fmt.Sprintf(format, a...))
}

func (c *comparer) run(ctx context.Context) error {
	if err := c.build(ctx); err != nil {
		return err
	}
	dbs, err := c.createDatabases(ctx)
	if err != nil {
		return err
	}
	if !c.o.keep {
		defer c.dropDatabases(dbs)
	} else {
		c.logf("databases kept: %s and %s", dbs.against, dbs.bankfeed)
	}
	var h *server
	if c.o.baseline != "" {
		h, err = c.startBankfeed(ctx, baselineName, dbs.against)
	} else {
		h, err = c.startHydra(ctx, dbs.against)
	}
	if err != nil {
		return err
	}
	b, err := c.startBankfeed(ctx, "bankfeed", dbs.bankfeed)
	if err != nil {
		return err
	}
	results := newResults(filepath.Join(c.o.work, "runs.jsonl"))
	defer results.close()
	if results.database, err = databaseSettings(ctx, dbs.bankfeed); err != nil {
		return err
	}
	c.logf("database: %s", results.database)
	servers := []*server{h, b}
	for round := 1; round <= c.o.rounds; round++ {
		if err := c.probe(results, fmt.Sprintf("before round %d", round), round); err != nil {
			return err
		}
		for _, scen := range c.o.scenarios {
			order := servers
			if round%2 == 0 {
				order = []*server{b, h}
			}
			for _, s := range order {
				r, err := c.drive(ctx, s, scen, round)
				if err != nil {
					return fmt.Errorf("round %d, %s, %s: %w", round, scen, s.name, err)
				}
				results.add(r)
				c.logRun(round, s, r)
			}
			if c.o.dpop && scen == "refresh" {
				// Right after the bearer runs of the round: bankfeed's
				// servers only (Hydra v2.3 has no DPoP).
				for _, s := range order {
					if s == h && c.o.baseline == "" {
						continue
					}
					r, err := c.drive(ctx, s, scen, round, "-dpop")
					if err != nil {
						return fmt.Errorf("round %d, %s (DPoP), %s: %w", round, scen, s.name, err)
					}
					results.add(r)
					c.logRun(round, s, r)
				}
			}
		}
	}
	if c.o.statements > 0 {
		if err := c.statementRuns(ctx, b, results); err != nil {
			return fmt.Errorf("statements: %w", err)
		}
	}
	if c.o.data && c.o.baseline != "" {
		c.logf("the data API's rounds compare bankfeed with pgbench, not with a baseline: skipped")
	} else if c.o.data {
		if err := c.probe(results, "before the data API's rounds", 0); err != nil {
			return err
		}
		if err := c.dataRounds(ctx, b, dbs.bankfeed, results); err != nil {
			return fmt.Errorf("data API: %w", err)
		}
	}
	if err := c.probe(results, "at the end", 0); err != nil {
		return err
	}
	table := results.markdown(c.o)
	fmt.Fprint(c.log, "\n"+table)
	return os.WriteFile(c.o.out, []byte(table), 0o644)
}

func (c *comparer) logRun(round int, s *server, r runResult) {
	c.logf("round %d %-18s %-8s %8.0f/s p50 %6.1f ms p99 %7.1f ms cpu %.3f ms/op rss %d MiB load %.2f errors %d",
		round, r.Name, s.name, r.RPS, r.P50, r.P99, r.ServerCPU, r.PeakRSS>>20, r.LoadAvg, r.Errors)
}

// probe measures the box's speed (boxSpeed) while both servers idle and
// keeps it as a run of the "box" named by when it was taken.
func (c *comparer) probe(results *results, when string, round int) error {
	time.Sleep(time.Second) // the run before winds down
	speed, err := boxSpeed(3 * time.Second)
	if err != nil {
		return err
	}
	results.add(runResult{Figures: loadreport.Figures{Name: when, RPS: speed, LoadAvg: procstat.LoadAvg()}, Server: "box", Round: round})
	c.logf("box speed %s: %s iterations/s (load %.2f)", when, num(speed), procstat.LoadAvg())
	return nil
}

// build compiles bankfeed, the load programs and, with -baseline, the
// baseline's bankfeed, else (unless -hydra) Hydra.
func (c *comparer) build(ctx context.Context) error {
	root, err := output(ctx, "", nil, "go", "env", "GOMOD")
	if err != nil || strings.TrimSpace(root) == "" || strings.TrimSpace(root) == os.DevNull {
		return fmt.Errorf("run compare inside the bankfeed module (go env GOMOD: %q, %v)", root, err)
	}
	dir := filepath.Dir(strings.TrimSpace(root))
	c.bin = map[string]string{}
	for name, pkg := range map[string]string{
		"bankfeed": "./cmd/bankfeed", "loadtest": "./authz/loadtest", "hydraaccept": "./authz/loadtest/hydraaccept",
		"dataload": "./dataapi/loadtest",
	} {
		c.bin[name] = filepath.Join(c.o.work, name)
		c.logf("building %s", pkg)
		if _, err := output(ctx, dir, nil, "go", "build", "-o", c.bin[name], pkg); err != nil {
			return err
		}
	}
	if c.o.baseline != "" {
		c.bin[baselineName] = filepath.Join(c.o.work, "bankfeed-"+baselineName)
		c.logf("building bankfeed at %s", c.o.baseline)
		return buildRevision(ctx, dir, c.o.baseline, filepath.Join(c.o.work, baselineName+"-src"), c.bin[baselineName])
	}
	if c.o.hydraBin != "" {
		c.bin["hydra"] = c.o.hydraBin
		return nil
	}
	c.bin["hydra"] = filepath.Join(c.o.work, "hydra-"+hydraVersion)
	if _, err := os.Stat(c.bin["hydra"]); err == nil {
		c.logf("reusing %s", c.bin["hydra"])
		return nil
	}
	// A throwaway module requiring Hydra's tagged release: its go.mod's
	// replace directives do not apply to a dependency, so its one non-local
	// replacement is repeated here (the other points at a directory the
	// module's zip does not hold and is served by the proxy as a module).
	src := filepath.Join(c.o.work, "hydra-build")
	if err := os.MkdirAll(src, 0o755); err != nil {
		return err
	}
	env := []string{"GOWORK=off", "GOFLAGS=-mod=mod"}
	c.logf("building Hydra %s from its tagged source in %s (the first build takes minutes)", hydraVersion, src)
	steps := [][]string{
		{"go", "mod", "init", "hydrabuild"},
		{"go", "mod", "edit", "-replace", "github.com/gobuffalo/pop/v6=github.com/ory/pop/v6@v6.2.1-0.20241121111754-e5dfc0f3344b"},
		{"go", "get", "github.com/ory/hydra/v2@" + hydraVersion},
		{"go", "build", "-ldflags", "-X github.com/ory/hydra/v2/driver/config.Version=" + hydraVersion, "-o", c.bin["hydra"], "github.com/ory/hydra/v2"},
	}
	if _, err := os.Stat(filepath.Join(src, "go.mod")); err == nil {
		steps = steps[1:]
	}
	for _, s := range steps {
		if _, err := output(ctx, src, env, s[0], s[1:]...); err != nil {
			return fmt.Errorf("build Hydra: %w", err)
		}
	}
	return nil
}

// buildRevision builds ./cmd/bankfeed as the repository in dir has it at
// rev into bin, from a copy of that revision's files in src (git archive):
// the working tree and its checkout are left as they are.
func buildRevision(ctx context.Context, dir, rev, src, bin string) error {
	commit, err := output(ctx, dir, nil, "git", "rev-parse", "--verify", "--end-of-options", rev+"^{commit}")
	if err != nil {
		return fmt.Errorf("-baseline %q: %w", rev, err)
	}
	commit = strings.TrimSpace(commit)
	if err := os.RemoveAll(src); err != nil {
		return err
	}
	if err := os.MkdirAll(src, 0o755); err != nil {
		return err
	}
	tarball := src + ".tar"
	defer os.Remove(tarball)
	if _, err := output(ctx, dir, nil, "git", "archive", "--format=tar", "-o", tarball, commit); err != nil {
		return fmt.Errorf("-baseline %q: %w", rev, err)
	}
	if _, err := output(ctx, src, nil, "tar", "-xf", tarball); err != nil {
		return fmt.Errorf("-baseline %q: %w", rev, err)
	}
	if _, err := output(ctx, src, []string{"GOWORK=off"}, "go", "build", "-o", bin, "./cmd/bankfeed"); err != nil {
		return fmt.Errorf("-baseline %q: build: %w", rev, err)
	}
	return nil
}

// databases: the one of the server bankfeed is measured against (Hydra or
// the baseline) and bankfeed's.
type databases struct{ against, bankfeed string }

// createDatabases makes hydra_cmp_N (baseline_cmp_N with -baseline) and
// bankfeed_cmp_N on -pg.
func (c *comparer) createDatabases(ctx context.Context) (databases, error) {
	conn, err := pgx.Connect(ctx, c.o.pg)
	if err != nil {
		return databases{}, fmt.Errorf("connect to -pg: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	suffix := strconv.FormatInt(time.Now().Unix(), 10)
	against := strings.ToLower(c.o.against()) + "_cmp_" + suffix
	var dbs databases
	for _, d := range []struct {
		name string
		dsn  *string
	}{{against, &dbs.against}, {"bankfeed_cmp_" + suffix, &dbs.bankfeed}} {
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+d.name); err != nil {
			return dbs, fmt.Errorf("create database %s: %w", d.name, err)
		}
		u, err := url.Parse(c.o.pg)
		if err != nil {
			return dbs, fmt.Errorf("-pg: %w", err)
		}
		u.Path = "/" + d.name
		*d.dsn = u.String()
	}
	c.logf("databases %s and %s created", against, "bankfeed_cmp_"+suffix)
	return dbs, nil
}

func (c *comparer) dropDatabases(dbs databases) {
	c.stopAll() // their connections first
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.o.pg)
	if err != nil {
		c.logf("drop databases: %v", err)
		return
	}
	defer conn.Close(ctx)
	for _, dsn := range []string{dbs.against, dbs.bankfeed} {
		if dsn == "" {
			continue
		}
		u, _ := url.Parse(dsn)
		name := strings.TrimPrefix(u.Path, "/")
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			c.logf("drop database %s: %v", name, err)
		}
	}
}

// server is one running server the load program drives.
type server struct {
	name string
	pid  int
	dsn  string   // its database
	args []string // the load program's arguments for this server
}

func (c *comparer) startHydra(ctx context.Context, dsn string) (*server, error) {
	public, admin, accept := freePort(), freePort(), freePort()
	issuer := "http://" + public
	u, _ := url.Parse(dsn)
	q := u.Query()
	q.Set("max_conns", "32")
	q.Set("max_idle_conns", "32")
	u.RawQuery = q.Encode()
	env := []string{
		"DSN=" + u.String(),
		"URLS_SELF_ISSUER=" + issuer,
		"URLS_LOGIN=http://" + accept + "/login",
		"URLS_CONSENT=http://" + accept + "/consent",
		"SECRETS_SYSTEM=" + randomText(32),
		"LOG_LEVEL=warn",
		"TTL_ACCESS_TOKEN=1h",
		"SERVE_PUBLIC_HOST=127.0.0.1", "SERVE_PUBLIC_PORT=" + port(public),
		"SERVE_ADMIN_HOST=127.0.0.1", "SERVE_ADMIN_PORT=" + port(admin),
	}
	c.logf("migrating Hydra's database")
	if _, err := output(ctx, "", env, c.bin["hydra"], "migrate", "sql", "up", "--read-from-env", "--yes"); err != nil {
		return nil, fmt.Errorf("migrate Hydra: %w", err)
	}
	p, err := c.start(ctx, "hydra", env, c.bin["hydra"], "serve", "all", "--dev")
	if err != nil {
		return nil, err
	}
	if err := waitOK(ctx, "http://"+admin+"/health/ready"); err != nil {
		return nil, fmt.Errorf("Hydra not ready (see hydra.log): %w", err)
	}
	// Hydra makes its signing keys on the first request for them (seconds
	// of RSA key generation): not inside a measured run.
	if err := waitOK(ctx, issuer+"/.well-known/jwks.json"); err != nil {
		return nil, fmt.Errorf("Hydra's key set (see hydra.log): %w", err)
	}
	if _, err := c.start(ctx, "hydraaccept", nil, c.bin["hydraaccept"], "-addr", accept, "-admin", "http://"+admin); err != nil {
		return nil, err
	}
	if err := waitListening(ctx, accept); err != nil {
		return nil, fmt.Errorf("hydraaccept (see hydraaccept.log): %w", err)
	}
	return &server{name: "Hydra", pid: p.Process.Pid, dsn: dsn, args: []string{"-target", "hydra", "-url", issuer, "-hydra-admin", "http://" + admin}}, nil
}

// startBankfeed migrates, seeds the demo data, serves, and signs the
// accounting software user in once (its first sign-in sets a password).
// name is the build's, in c.bin: "bankfeed" (the working tree's) or the
// baseline's; it names the server in the results and its log.
func (c *comparer) startBankfeed(ctx context.Context, name, dsn string) (*server, error) {
	bin := c.bin[name]
	addr := freePort()
	issuer := "http://" + addr
	env := []string{
		"BANKFEED_DATABASE_URL=" + dsn,
		"BANKFEED_KEY_ENCRYPTION_KEY=" + base64.StdEncoding.EncodeToString(randomBytes(32)),
		"BANKFEED_TOKEN_SECRET=" + base64.StdEncoding.EncodeToString(randomBytes(48)),
		"BANKFEED_ISSUER=" + issuer, "BANKFEED_ADDR=" + addr,
		"BANKFEED_LOG_LEVEL=warn",
		"BANKFEED_DATAAPI_RATE_LIMIT_PER_MINUTE=0",
		"BANKFEED_SIGNIN_RATE_LIMIT_PER_ADDRESS=0", "BANKFEED_SIGNIN_RATE_LIMIT_PER_LOGIN_ID=0",
		"BANKFEED_OAUTH_ACCESS_TOKEN_LIFESPAN=1h",
		"BANKFEED_DATABASE_MAX_OPEN_CONNS=32", // Hydra's pool
	}
	c.logf("migrating and seeding %s's database", name)
	if _, err := output(ctx, "", env, bin, "migrate", "up"); err != nil {
		return nil, err
	}
	seeded, err := output(ctx, "", env, bin, "demo", "seed", "--json")
	if err != nil {
		return nil, err
	}
	var creds demo.Credentials
	if err := json.Unmarshal([]byte(seeded), &creds); err != nil || len(creds.BusinessGroups) == 0 {
		return nil, fmt.Errorf("demo seed --json: %v", err)
	}
	g := creds.BusinessGroups[0]
	p, err := c.start(ctx, name, env, bin, "serve")
	if err != nil {
		return nil, err
	}
	if err := waitOK(ctx, issuer+"/readyz"); err != nil {
		return nil, fmt.Errorf("%s not ready (see %s.log): %w", name, name, err)
	}
	newPassword := "Cmp-" + randomText(18)
	s := &server{name: name, pid: p.Process.Pid, dsn: dsn, args: []string{"-url", issuer, "-dsn", dsn,
		"-login", g.AccountingSoftware.LoginID, "-password", newPassword}}
	if g.AccountingSoftware.TemporaryPassword {
		// The first sign-in replaces the temporary password.
		if _, err := output(ctx, "", nil, c.bin["loadtest"], "-url", issuer, "-dsn", dsn, "-login", g.AccountingSoftware.LoginID,
			"-password", g.AccountingSoftware.Password, "-new-password", newPassword,
			"-security-question", creds.SecurityQuestion, "-security-answer", creds.SecurityAnswer, "-print-token"); err != nil {
			return nil, fmt.Errorf("first sign-in: %w", err)
		}
	} else {
		s.args[len(s.args)-1] = g.AccountingSoftware.Password
	}
	c.accountIDs = g.AccountGroup.AccountIDs
	return s, nil
}

// drive runs the load program once: one scenario against one server.
func (c *comparer) drive(ctx context.Context, s *server, scen string, round int, extra ...string) (runResult, error) {
	r, err := c.measure(ctx, s, scen, round, extra...)
	if err != nil {
		return r, err
	}
	if c.o.vacuum {
		if err := vacuum(ctx, s.dsn); err != nil {
			return runResult{}, err
		}
	}
	return r, nil
}

// measure is drive without the vacuum after the run.
func (c *comparer) measure(ctx context.Context, s *server, scen string, round int, extra ...string) (runResult, error) {
	if err := procstat.ResetPeak(s.pid); err != nil {
		return runResult{}, fmt.Errorf("reset peak RSS: %w", err)
	}
	args := append(slices.Clone(s.args), "-run", scen, "-json", "-server-pid", strconv.Itoa(s.pid),
		"-c", strconv.Itoa(c.o.workers), "-d", c.o.duration.String(), "-warmup", c.o.warmup.String())
	args = append(args, extra...)
	text, err := output(ctx, "", nil, c.bin["loadtest"], args...)
	if err != nil {
		return runResult{}, err
	}
	r, err := lastJSON(text)
	if err != nil {
		return runResult{}, err
	}
	r.Server, r.Round = s.name, round
	if r.PeakRSS, err = procstat.PeakRSS(s.pid); err != nil {
		return runResult{}, err
	}
	return r, nil
}

// vacuum cleans up after a run, outside the measured time, what autovacuum
// would otherwise clean up within a minute: during the next run, which may
// be the other server's. Each server's runs then start from a database
// without the dead rows of the run before, and what autovacuum does during
// a run still counts against the server whose writes woke it.
func vacuum(ctx context.Context, dsn string) error {
	err := withConn(ctx, dsn, func(conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, "VACUUM (ANALYZE)")
		return err
	})
	if err != nil {
		return fmt.Errorf("vacuum: %w", err)
	}
	return nil
}

// runResult is one measured run, as the load programs print it with -json.
type runResult struct {
	loadreport.Figures
	Server   string   `json:"server"`
	Round    int      `json:"round"`
	PeakRSS  int64    `json:"peak_rss_bytes"`
	FirstErr []string `json:"first_errors,omitempty"`
}

func lastJSON(text string) (runResult, error) {
	lines := strings.Split(strings.TrimSpace(text), "\n")
	var r runResult
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
		return r, fmt.Errorf("load program's output: %w: %q", err, text)
	}
	return r, nil
}

func (c *comparer) start(ctx context.Context, name string, env []string, bin string, args ...string) (*exec.Cmd, error) {
	logf, err := os.Create(filepath.Join(c.o.work, name+".log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	c.procs = append(c.procs, cmd)
	c.logf("%s started (pid %d)", name, cmd.Process.Pid)
	return cmd, nil
}

// stopAll ends the processes compare started, each by its own pid.
func (c *comparer) stopAll() {
	for _, p := range slices.Backward(c.procs) {
		_ = p.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = p.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = p.Process.Kill()
			<-done
		}
	}
	c.procs = nil
}

// output runs a command to its end and returns its standard output; its
// standard error goes into the error.
func output(ctx context.Context, dir string, env []string, bin string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s %s: %w: %s", filepath.Base(bin), strings.Join(redact(args), " "), err, tail(stderr.String(), 2000))
	}
	return stdout.String(), nil
}

// redact hides the values of password flags in error messages.
func redact(args []string) []string {
	out := slices.Clone(args)
	for i := 1; i < len(out); i++ {
		if strings.Contains(out[i-1], "password") || strings.Contains(out[i-1], "answer") {
			out[i] = "…"
		}
	}
	return out
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

func freePort() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func port(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

func waitOK(ctx context.Context, u string) error {
	var last error
	for range 120 {
		res, err := http.Get(u)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %d", res.StatusCode)
		}
		last = err
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	return fmt.Errorf("GET %s: %w", u, last)
}

func waitListening(ctx context.Context, addr string) error {
	var last error
	for range 60 {
		conn, err := net.Dial("tcp", addr)
		if err == nil {
			return conn.Close()
		}
		last = err
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	return last
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func randomText(n int) string { return base64.RawURLEncoding.EncodeToString(randomBytes(n))[:n] }

// pageStatement is the data API's first page of an account's transactions
// (GET …/transactions?status=all&limit=100), as gormstore's ListTransactions
// writes it: visibleWhere with the page's snapshot sequence, 101 rows (one
// more tells whether a next page exists). The account comes from the array
// of the accounting software user's accounts, the same the load program
// picks from.
func pageStatement(accountIDs []string, maxSeq int64) string {
	quoted := make([]string, len(accountIDs))
	for i, id := range accountIDs {
		quoted[i] = "'" + strings.ReplaceAll(id, "'", "''") + "'"
	}
	return fmt.Sprintf(`\set i random(1, %d)
SELECT id, account_id, external_id, status, transaction_at, posted_at, business_date, value_date, amount, direction, description, memo, payee, counterparty, check_number, bank_reference, customer_reference, bai_code, iso_domain, iso_family, iso_sub_family, running_balance, pending_id, replaced_by_id, removed_at, seq, created_seq, created_at, updated_at FROM transactions WHERE account_id = (ARRAY[%s])[:i] AND created_seq <= %d AND (seq > %d OR NOT (replaced_by_id <> '' OR removed_at <> 0)) ORDER BY business_date, id LIMIT 101;
`, len(accountIDs), strings.Join(quoted, ","), maxSeq, maxSeq)
}

var tpsLine = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)
var pgbenchLatency = regexp.MustCompile(`latency average = ([0-9.]+) ms`)

// dataRounds interleaves the data API's first pages (dataapi/loadtest -walk
// 0, 32 clients) with pgbench running the page's statement with as many
// clients on the same database.
func (c *comparer) dataRounds(ctx context.Context, b *server, dsn string, results *results) error {
	if len(c.accountIDs) == 0 {
		return errors.New("the demo's accounting software user sees no account")
	}
	// The planner's statistics, as autovacuum gathers them within a minute
	// of a bulk load in production: without them a fresh table's page may
	// be planned as a sort of every row (both sides of the comparison
	// would measure that plan). The same vacuum as after every run.
	if err := vacuum(ctx, dsn); err != nil {
		return fmt.Errorf("after the data load: %w", err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	var maxSeq int64
	err = conn.QueryRow(ctx, `SELECT value FROM seq_counters WHERE name = 'transactions'`).Scan(&maxSeq)
	conn.Close(ctx)
	if err != nil {
		return fmt.Errorf("max seq: %w", err)
	}
	script := filepath.Join(c.o.work, "page.sql")
	if err := os.WriteFile(script, []byte(pageStatement(c.accountIDs, maxSeq)), 0o644); err != nil {
		return err
	}
	i := slices.Index(b.args, "-password")
	token, err := output(ctx, "", nil, c.bin["loadtest"], append(slices.Clone(b.args[:i+2]), "-print-token")...)
	if err != nil {
		return err
	}
	token = strings.TrimSpace(token)
	var dpopToken, dpopKey string
	if c.o.dpop {
		// A DPoP-bound token and its key (the second line), in a file.
		text, err := output(ctx, "", nil, c.bin["loadtest"], append(slices.Clone(b.args[:i+2]), "-print-token", "-dpop")...)
		if err != nil {
			return err
		}
		lines := strings.Split(strings.TrimSpace(text), "\n")
		if len(lines) != 2 {
			return fmt.Errorf("-print-token -dpop: want a token and a key, got %d lines", len(lines))
		}
		dpopToken, dpopKey = strings.TrimSpace(lines[0]), filepath.Join(c.o.work, "dpop.jwk")
		if err := os.WriteFile(dpopKey, []byte(lines[1]), 0o600); err != nil {
			return err
		}
	}
	secs := strconv.Itoa(max(1, int(c.o.duration.Seconds())))
	for round := 1; round <= c.o.rounds; round++ {
		steps := []string{"pgbench", "pages"}
		if round%2 == 0 {
			steps = []string{"pages", "pgbench"}
		}
		if c.o.dpop {
			steps = append(steps, "pages (DPoP)")
		}
		for _, step := range steps {
			var r runResult
			switch step {
			case "pgbench":
				text, err := output(ctx, "", nil, "pgbench", "-n", "-M", "prepared", "-c", strconv.Itoa(c.o.workers), "-j", "2",
					"-T", secs, "-f", script, dsn)
				if err != nil {
					return err
				}
				m := tpsLine.FindStringSubmatch(text)
				if m == nil {
					return fmt.Errorf("pgbench: no tps in %q", tail(text, 500))
				}
				r.RPS, _ = strconv.ParseFloat(m[1], 64)
				if m := pgbenchLatency.FindStringSubmatch(text); m != nil {
					r.P50, _ = strconv.ParseFloat(m[1], 64) // pgbench's mean, not a median
				}
				r.Server, r.Name, r.LoadAvg = "pgbench", "pages", procstat.LoadAvg()
			case "pages", "pages (DPoP)":
				if err := procstat.ResetPeak(b.pid); err != nil {
					return err
				}
				args := []string{"-url", b.args[1], "-token", token, "-c", strconv.Itoa(c.o.workers),
					"-d", c.o.duration.String(), "-walk", "0", "-light", "-json", "-server-pid", strconv.Itoa(b.pid)}
				if step != "pages" {
					args[3] = dpopToken
					args = append(args, "-dpop", "-dpop-key", dpopKey)
				}
				text, err := output(ctx, "", nil, c.bin["dataload"], args...)
				if err != nil {
					return err
				}
				if r, err = lastJSON(text); err != nil {
					return err
				}
				r.Server = "bankfeed"
				if r.PeakRSS, err = procstat.PeakRSS(b.pid); err != nil {
					return err
				}
			}
			r.Round = round
			results.add(r)
			c.logf("round %d data API %-8s %-12s %8.0f pages/s p50 %6.1f ms p99 %7.1f ms cpu %.3f ms/page load %.2f errors %d",
				round, r.Server, r.Name, r.RPS, r.P50, r.P99, r.ServerCPU, r.LoadAvg, r.Errors)
		}
	}
	return nil
}

// results keeps every run and writes each to a JSON-lines file as it comes.
type results struct {
	runs []runResult
	// statements are statementRuns' figures, by scenario.
	statements []statementStat
	// waits are the statement runs' samples of the database's backends.
	waits []waitStat
	// database is the database's version and commit settings
	// (databaseSettings).
	database string
	f        *os.File
	w        *bufio.Writer
}

func newResults(path string) *results {
	f, err := os.Create(path)
	if err != nil {
		return &results{}
	}
	return &results{f: f, w: bufio.NewWriter(f)}
}

func (r *results) add(x runResult) {
	r.runs = append(r.runs, x)
	if r.w != nil {
		data, _ := json.Marshal(x)
		r.w.Write(append(data, '\n'))
		r.w.Flush()
	}
}

func (r *results) close() {
	if r.f != nil {
		r.f.Close()
	}
}

func (r *results) of(server, scenario string) []runResult {
	var out []runResult
	for _, x := range r.runs {
		if x.Server == server && x.Name == scenario {
			out = append(out, x)
		}
	}
	return out
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Sorted(slices.Values(v))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func field(rs []runResult, f func(runResult) float64) []float64 {
	out := make([]float64, len(rs))
	for i, x := range rs {
		out[i] = f(x)
	}
	return out
}

// ratios divides b's operations/s by a's, round by round.
func ratios(a, b []runResult) []float64 { return perRound(a, b, rps) }

func num(v float64) string {
	switch {
	case math.IsNaN(v):
		return "—"
	case v >= 100:
		return formatThousands(int64(math.Round(v)))
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

func formatThousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func list(v []float64, f func(float64) string) string {
	if len(v) == 0 {
		return "—"
	}
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = f(x)
	}
	return strings.Join(parts, ", ")
}

// ratio prints v as a ratio: to a tenth beside Hydra, to a thousandth
// beside a baseline, where differences are of a few per cent.
func (o options) ratio(v float64) string {
	if math.IsNaN(v) {
		return "—"
	}
	prec := 1
	if o.baseline != "" {
		prec = 3
	}
	return strconv.FormatFloat(v, 'f', prec, 64) + "×"
}

// markdown is the README's table: medians of the rounds, the per-round
// ratios (bankfeed ÷ Hydra, or ÷ the baseline) and their median.
func (r *results) markdown(o options) string {
	var b strings.Builder
	a := o.against()
	fmt.Fprintf(&b, "%d interleaved rounds, %d workers, %s measured per run after %s of warm-up; medians of the rounds.\n",
		o.rounds, o.workers, o.duration, o.warmup)
	if o.baseline != "" {
		fmt.Fprintf(&b, "The %s is bankfeed at %s; bankfeed is the working tree's.\n", a, o.baseline)
	}
	fmt.Fprintf(&b, "\n| scenario | %[1]s /s (p50 / p99 ms) | bankfeed /s (p50 / p99 ms) | ratio per round | median ratio | server CPU ms per op, %[1]s : bankfeed | peak RSS MiB, %[1]s / bankfeed | load average at start | errors |\n", a)
	b.WriteString("|---|---|---|---|---|---|---|---|---|\n")
	var peakH, peakB int64
	var scenarios []string
	for _, scen := range o.scenarios {
		// A DPoP row (bankfeed only) follows its bearer row.
		scenarios = append(scenarios, scen, scen+" (DPoP)")
	}
	for _, scen := range scenarios {
		h, bf := r.of(a, scen), r.of("bankfeed", scen)
		if len(h) == 0 && len(bf) == 0 {
			continue
		}
		rs := ratios(h, bf)
		for _, x := range h {
			peakH = max(peakH, x.PeakRSS)
		}
		for _, x := range bf {
			peakB = max(peakB, x.PeakRSS)
		}
		loads := append(field(h, func(x runResult) float64 { return x.LoadAvg }), field(bf, func(x runResult) float64 { return x.LoadAvg })...)
		fmt.Fprintf(&b, "| %s | %s (%s / %s) | %s (%s / %s) | %s | **%s** | %s : %s | %s / %s | %s–%s | %d / %d |\n", scen,
			num(median(field(h, rps))), num(median(field(h, p50))), num(median(field(h, p99))),
			num(median(field(bf, rps))), num(median(field(bf, p50))), num(median(field(bf, p99))),
			list(rs, o.ratio), o.ratio(median(rs)),
			num(median(field(h, cpu))), num(median(field(bf, cpu))),
			num(median(field(h, rss))), num(median(field(bf, rss))),
			num(slices.Min(append(loads, math.Inf(1)))), num(slices.Max(append(loads, math.Inf(-1)))),
			sumErrors(h), sumErrors(bf))
	}
	fmt.Fprintf(&b, "\nPeak resident memory over all runs: %s %d MiB, bankfeed %d MiB.\n", a, peakH>>20, peakB>>20)
	b.WriteString(r.databaseLine())
	b.WriteString(r.boxSpeeds())
	pg, header := r.of("pgbench", "pages"), false
	for _, scen := range []string{"pages", "pages (DPoP)"} {
		pages := r.of("bankfeed", scen)
		if len(pg) == 0 || len(pages) == 0 {
			continue
		}
		rs := ratios(pg, pages)
		if !header {
			header = true
			fmt.Fprintf(&b, "\n| data API, first pages of 100 | pgbench, the page's statement (mean latency ms) | bankfeed pages/s (p50 / p99 ms) | share of the ceiling per round | median | server CPU ms per page | peak RSS MiB |\n")
			b.WriteString("|---|---|---|---|---|---|---|\n")
		}
		label := fmt.Sprintf("%d clients", o.workers)
		if scen != "pages" {
			label += ", DPoP"
		}
		fmt.Fprintf(&b, "| %s | %s (%s) | %s (%s / %s) | %s | **%s %%** | %s | %s |\n", label,
			num(median(field(pg, rps))), num(median(field(pg, p50))),
			num(median(field(pages, rps))), num(median(field(pages, p50))), num(median(field(pages, p99))),
			list(rs, func(v float64) string { return strconv.Itoa(int(math.Round(v*100))) + " %" }),
			strconv.Itoa(int(math.Round(median(rs)*100))),
			num(median(field(pages, cpu))), num(median(field(pages, rss))))
	}
	b.WriteString(r.split(a, scenarios))
	if o.baseline != "" {
		b.WriteString(r.versus(o, scenarios))
	}
	b.WriteString(r.statementTable())
	b.WriteString(r.waitTable())
	return b.String()
}

// versus is the A/B's summary, bankfeed ÷ the baseline per scenario: the
// geometric mean of the per-round throughput ratios (the rounds' order
// alternates, so a box that favours the second run of a round cancels out
// in pairs of rounds) and the median of the per-round ratios of the
// machine's CPU per operation (below 1: cheaper).
func (r *results) versus(o options, scenarios []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n| bankfeed ÷ %s | throughput, geometric mean of the rounds | machine CPU per operation per round | median |\n", o.against())
	b.WriteString("|---|---|---|---|\n")
	for _, scen := range scenarios {
		a, bf := r.of(o.against(), scen), r.of("bankfeed", scen)
		if len(a) == 0 || len(bf) == 0 {
			continue
		}
		machine := perRound(a, bf, func(x runResult) float64 { return x.MachineCPU })
		fmt.Fprintf(&b, "| %s | **%s** | %s | **%s** |\n", scen, o.ratio(geomean(ratios(a, bf))),
			list(machine, o.ratio), o.ratio(median(machine)))
	}
	return b.String()
}

// perRound divides b's figure f by a's, round by round.
func perRound(a, b []runResult, f func(runResult) float64) []float64 {
	var out []float64
	for _, x := range a {
		for _, y := range b {
			if x.Round == y.Round && f(x) > 0 {
				out = append(out, f(y)/f(x))
			}
		}
	}
	return out
}

func geomean(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	sum := 0.0
	for _, x := range v {
		sum += math.Log(x)
	}
	return math.Exp(sum / float64(len(v)))
}

// boxSpeeds is the line of the box's speed as probed during the run
// (compare's probe), or nothing when it was not.
func (r *results) boxSpeeds() string {
	var parts []string
	for _, x := range r.runs {
		if x.Server == "box" {
			parts = append(parts, x.Name+" "+num(x.RPS))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "\nBox speed (one goroutine's JSON round trips of a token-like record per second, the median of nine " +
		"third-of-a-second slices with both servers idle; higher is faster, compare runs by it): " + strings.Join(parts, ", ") + ".\n"
}

// split is where the machine's CPU went per operation (medians of the
// rounds), and the rate the machine could reach at that cost with every
// CPU busy: what bounds a target on a box the server shares with its
// database and its load program.
func (r *results) split(against string, scenarios []string) string {
	var b strings.Builder
	ncpu := runtime.NumCPU()
	fmt.Fprintf(&b, "\n| CPU ms per operation (medians) | server | PostgreSQL | load program | whole machine | the machine's ceiling at this cost, %d CPUs |\n", ncpu)
	b.WriteString("|---|---|---|---|---|---|\n")
	for _, scen := range append(scenarios, "pages", "pages (DPoP)") {
		for _, name := range []string{against, "bankfeed"} {
			rs := r.of(name, scen)
			if len(rs) == 0 {
				continue
			}
			machine := median(field(rs, func(x runResult) float64 { return x.MachineCPU }))
			ceiling := "—"
			if machine > 0 {
				ceiling = num(float64(ncpu)*1000/machine) + " /s"
			}
			fmt.Fprintf(&b, "| %s, %s | %s | %s | %s | %s | %s |\n", scen, name,
				num(median(field(rs, cpu))), num(median(field(rs, func(x runResult) float64 { return x.DatabaseCPU }))),
				num(median(field(rs, func(x runResult) float64 { return x.ClientCPU }))), num(machine), ceiling)
		}
	}
	return b.String()
}

func sumErrors(rs []runResult) int {
	n := 0
	for _, x := range rs {
		n += x.Errors
	}
	return n
}

func rps(x runResult) float64 { return x.RPS }
func p50(x runResult) float64 { return x.P50 }
func p99(x runResult) float64 { return x.P99 }
func cpu(x runResult) float64 { return x.ServerCPU }
func rss(x runResult) float64 { return float64(x.PeakRSS) / (1 << 20) }

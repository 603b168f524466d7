package main

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/internal/loadreport"
	"github.com/bankfeed/bankfeed/internal/procstat"
)

// TestMarkdownAgainstTheBaseline: with -baseline the tables name the
// baseline where they name Hydra, its DPoP rows included, print ratios to a
// thousandth, and end with the A/B's summary: the geometric mean of the
// rounds' throughput ratios and the machine's CPU per operation.
func TestMarkdownAgainstTheBaseline(t *testing.T) {
	o := options{rounds: 2, workers: 32, duration: 8 * time.Second, warmup: 2 * time.Second,
		scenarios: []string{"refresh", "flow"}, baseline: "main~2"}
	run := func(server, scen string, round int, rps, machine float64) runResult {
		return runResult{Figures: loadreport.Figures{Name: scen, RPS: rps, N: int(rps * 8), PerOp: procstat.PerOp{MachineCPU: machine}},
			Server: server, Round: round}
	}
	var r results
	for _, x := range []runResult{
		run(baselineName, "flow", 1, 500, 3.0), run("bankfeed", "flow", 1, 550, 2.7),
		run("bankfeed", "flow", 2, 480, 2.9), run(baselineName, "flow", 2, 600, 2.9),
		run(baselineName, "refresh (DPoP)", 1, 1000, 1), run("bankfeed", "refresh (DPoP)", 1, 1200, 0.9),
	} {
		r.add(x)
	}
	text := r.markdown(o)
	for _, want := range []string{
		"The baseline is bankfeed at main~2",
		"| scenario | baseline /s (p50 / p99 ms) | bankfeed /s",
		// flow: 550/500 = 1.100, 480/600 = 0.800; median 0.950.
		"| flow | 550 (", "| 1.100×, 0.800× | **0.950×** |",
		"| refresh (DPoP) | 1,000 (", "| 1.200× | **1.200×** |",
		"| flow, baseline | ", "| refresh (DPoP), baseline | ",
		// geometric mean sqrt(1.1 × 0.8) = 0.938; machine 2.7/3.0 = 0.900, 2.9/2.9 = 1.000.
		"| bankfeed ÷ baseline |",
		"| flow | **0.938×** | 0.900×, 1.000× | **0.950×** |",
		"| refresh (DPoP) | **1.200×** | 0.900× | **0.900×** |",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the A/B's tables lack %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "Hydra") {
		t.Errorf("an A/B's tables name Hydra:\n%s", text)
	}

	o.baseline = ""
	r = results{}
	r.add(run("Hydra", "flow", 1, 60, 27))
	r.add(run("bankfeed", "flow", 1, 600, 2.9))
	text = r.markdown(o)
	if !strings.Contains(text, "| 10.0× | **10.0×** |") || strings.Contains(text, "baseline") {
		t.Errorf("beside Hydra, the table changed:\n%s", text)
	}
}

// TestBuildRevision: -baseline's build is the bankfeed of the revision
// named, built from a copy of its files; a revision that does not exist is
// an error naming it, and builds nothing.
func TestBuildRevision(t *testing.T) {
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	if err := exec.Command("git", "-C", root, "rev-parse", "--verify", "HEAD").Run(); err != nil {
		t.Skipf("not a git checkout with a commit (%v): -baseline needs one", err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bankfeed-baseline")
	if err := buildRevision(t.Context(), root, "HEAD", filepath.Join(dir, "src"), bin); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "bankfeed ") {
		t.Fatalf("the baseline's build: `version` answered %q, %v", out, err)
	}
	missing := filepath.Join(dir, "never-built")
	err = buildRevision(t.Context(), root, "no-such-revision-xyz", filepath.Join(dir, "src2"), missing)
	if err == nil || !strings.Contains(err.Error(), "no-such-revision-xyz") {
		t.Errorf("an unknown revision: %v, want an error naming it", err)
	}
	if err := exec.Command(missing, "version").Run(); err == nil {
		t.Error("an unknown revision left a binary")
	}
}

// TestConflictingOptionsAreRefused: options that cannot go together, or a
// negative count, are refused before anything is built or created.
func TestConflictingOptionsAreRefused(t *testing.T) {
	work := filepath.Join(t.TempDir(), "work")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-baseline", "HEAD", "-hydra", "/usr/local/bin/hydra"}, "not both"},
		{[]string{"-statements", "-1"}, "-statements"},
	} {
		args := append([]string{"-pg", "postgres://nobody@127.0.0.1:1/none", "-work", work}, tc.args...)
		if err := run(t.Context(), args, io.Discard); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("compare %v: %v, want an error with %q", tc.args, err, tc.want)
		}
		if _, err := os.Stat(work); err == nil {
			t.Errorf("compare %v created its working directory before refusing", tc.args)
		}
	}
}

package statementtest

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/bankfeed/bankfeed/internal/testenv"
	"github.com/bankfeed/bankfeed/store"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden files")

// Golden compares got with testdata/name.golden (rewriting it with -update).
func Golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it)\n--- got ---\n%s", path, got)
	}
}

// SchemasDir is <module root>/testdata/schemas, where the repository keeps
// the public XSDs the export tests validate against (see its README.md).
func SchemasDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
	s := filepath.Join(dir, "testdata", "schemas")
	if _, err := os.Stat(s); err != nil {
		t.Fatalf("schemas not found at %s: %v", s, err)
	}
	return s
}

// XMLLint validates data against the XSD at schema (relative to
// SchemasDir). Without xmllint (Debian package libxml2-utils) it skips t
// through testenv, so call it after every check that needs no tool — or
// with defer.
func XMLLint(t testing.TB, schema string, data []byte) {
	t.Helper()
	path := filepath.Join(SchemasDir(t), schema)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("schema %s: %v", schema, err)
	}
	bin := testenv.LookPath(t, testenv.XMLLint, "xmllint")
	f := filepath.Join(t.TempDir(), "doc.xml")
	if err := os.WriteFile(f, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "--noout", "--nonet", "--schema", path, f).CombinedOutput()
	if err != nil {
		t.Fatalf("xmllint %s: %v\n%s", schema, err, out)
	}
}

// PDFText is the text of a PDF as poppler's pdftotext reads it (-layout,
// UTF-8): an independent reader, so a check on it sees what a person would,
// which the compressed file's bytes never show. Without pdftotext (Debian
// package poppler-utils) it skips t through testenv, so call it after every
// check that needs no tool, or in a subtest of its own.
func PDFText(t testing.TB, data []byte) string {
	t.Helper()
	bin := testenv.LookPath(t, testenv.PDFToText, "pdftotext")
	f := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(f, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-layout", "-enc", "UTF-8", f, "-").Output()
	if err != nil {
		var stderr []byte
		if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
			stderr = ee.Stderr
		}
		t.Fatalf("pdftotext: %v\n%s", err, stderr)
	}
	return string(out)
}

// Entry is one entry as an independent parser read it back.
type Entry struct {
	ID    string
	Date  store.Date
	Cents int64 // signed: credits positive
}

// Parsed is a file as an independent parser read it back.
type Parsed struct {
	Opening, Closing int64
	Entries          []Entry
	// Stated summary figures, when the format has them (-1: absent).
	Count           int
	Credits, Debits int64
}

// Reconcile checks what an importer would: opening + Σ entries = closing,
// stated counts and sums, unique IDs, dates inside [from, to].
func Reconcile(t *testing.T, p Parsed, from, to store.Date) {
	t.Helper()
	if err := reconcile(p, from, to); err != nil {
		t.Error(err)
	}
}

func reconcile(p Parsed, from, to store.Date) error {
	var errs []error
	sum, credits, debits := p.Opening, int64(0), int64(0)
	seen := map[string]bool{}
	for _, e := range p.Entries {
		sum += e.Cents
		if e.Cents >= 0 {
			credits += e.Cents
		} else {
			debits -= e.Cents
		}
		if e.ID != "" {
			if seen[e.ID] {
				errs = append(errs, errors.New("repeated entry ID "+e.ID))
			}
			seen[e.ID] = true
		}
		if e.Date != "" && (e.Date < from || e.Date > to) {
			errs = append(errs, errors.New("entry "+e.ID+" dated "+string(e.Date)+" outside the period"))
		}
	}
	if sum != p.Closing {
		errs = append(errs, errorf("opening %d + entries = %d, closing states %d (cents)", p.Opening, sum, p.Closing))
	}
	if p.Count >= 0 && p.Count != len(p.Entries) {
		errs = append(errs, errorf("summary states %d entries, file has %d", p.Count, len(p.Entries)))
	}
	if p.Credits >= 0 && p.Credits != credits {
		errs = append(errs, errorf("summary states credits %d, entries sum to %d", p.Credits, credits))
	}
	if p.Debits >= 0 && p.Debits != debits {
		errs = append(errs, errorf("summary states debits %d, entries sum to %d", p.Debits, debits))
	}
	return errors.Join(errs...)
}

package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/ops/importer"
	"github.com/bankfeed/bankfeed/store"
)

// importDir is a migrated data directory with one open account, acc1.
func importDir(t *testing.T) string {
	t.Helper()
	dir := migratedDir(t)
	st := dirStore(t, dir)
	ctx := t.Context()
	if _, err := st.CreateBusinessGroup(ctx, store.BusinessGroup{ID: "bg", Name: "Maple Holdings"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateLegalEntity(ctx, store.LegalEntity{ID: "le", BusinessGroupID: "bg", Name: "Maple Ltd"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateAccount(ctx, store.Account{ID: "acc1", BusinessGroupID: "bg", LegalEntityID: "le", Number: "1234567",
		Type: store.AccountChecking, Currency: "CAD", Status: store.AccountOpen, OpenedOn: "2024-01-01"}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func externalIDs(t *testing.T, dir string) []string {
	t.Helper()
	txs, _, err := dirStore(t, dir).ListTransactions(t.Context(), store.TransactionFilter{AccountID: "acc1", IncludeRemoved: true}, nil, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, tx := range txs {
		ids = append(ids, tx.ExternalID)
	}
	slices.Sort(ids)
	return ids
}

func TestImport(t *testing.T) {
	jsonl := strings.Join([]string{
		`{"accountId":"acc1","externalId":"j1","status":"POSTED","amount":"10.00","debitCreditMemo":"CREDIT","postedTimestamp":"2025-03-03T15:00:00Z"}`,
		`{"accountId":"acc1","externalId":"j2","status":"POSTED","amount":"2.50","debitCreditMemo":"DEBIT","postedTimestamp":"2025-03-03T16:00:00Z"}`,
		`{"accountId":"acc1","externalId":"j3","status":"POSTED","amount":"ten","debitCreditMemo":"DEBIT","postedTimestamp":"2025-03-03T16:00:00Z"}`,
		`{"accountId":"acc1","externalId":"j4","status":"PENDING","amount":"3.10","debitCreditMemo":"DEBIT","transactionTimestamp":"2025-03-03T17:00:00Z"}`,
	}, "\n") + "\n"
	csv := "accountId,externalId,status,amount,debitCreditMemo,postedTimestamp,description\n" +
		"acc1,c1,POSTED,10.00,CREDIT,2025-03-04T15:00:00Z,Deposit\n" +
		"acc1,c2,POSTED,1.00,DEBIT,yesterday,Fee\n" +
		"acc1,c3,POSTED,4.00,DEBIT,2025-03-04T16:00:00Z,Cheque\n"
	tests := []struct {
		name, file, content string
		args                []string
		wantIDs             []string
		badLine             string
		lines               int
	}{
		{"JSON lines by extension", "feed.jsonl", jsonl, nil, []string{"j1", "j2", "j4"}, "line 3: ", 4},
		{"CSV by --format", "feed.txt", csv, []string{"--format", "csv", "--batch-size", "2"}, []string{"c1", "c3"}, "line 3: ", 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := importDir(t)
			path := filepath.Join(t.TempDir(), tt.file)
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			args := append([]string{"import", path}, tt.args...)

			out, stderr, err := cli(t, dir, args...)
			if err == nil || !strings.Contains(err.Error(), "1 row(s) of "+path+" failed") {
				t.Errorf("import with a bad row: err = %v; want a failure naming the count", err)
			}
			for _, want := range []string{path + ": ", " line(s), ", " created, ", " failed in "} {
				if !strings.Contains(out, want) {
					t.Errorf("summary lacks %q:\n%s", want, out)
				}
			}
			if want := fmt.Sprintf("%d line(s), %d created, 0 replayed, 1 failed", tt.lines, len(tt.wantIDs)); !strings.Contains(out, want) {
				t.Errorf("summary lacks %q:\n%s", want, out)
			}
			if !strings.Contains(out, "\n  "+tt.badLine) {
				t.Errorf("summary does not name %q:\n%s", tt.badLine, out)
			}
			if strings.Contains(stderr, "\r") {
				t.Errorf("a progress bar was drawn on a non-terminal:\n%q", stderr)
			}
			if got := externalIDs(t, dir); !slices.Equal(got, tt.wantIDs) {
				t.Errorf("stored %v; want %v", got, tt.wantIDs)
			}

			// Again: nothing new, the good rows replayed, the bad one still named.
			out, _, err = cli(t, dir, args...)
			if err == nil {
				t.Error("re-import with the same bad row succeeded")
			}
			if want := fmt.Sprintf("0 created, %d replayed, 1 failed", len(tt.wantIDs)); !strings.Contains(out, want) || !strings.Contains(out, tt.badLine) {
				t.Errorf("re-import summary lacks %q or the bad line:\n%s", want, out)
			}
			if got := externalIDs(t, dir); !slices.Equal(got, tt.wantIDs) {
				t.Errorf("after re-import stored %v; want %v", got, tt.wantIDs)
			}
		})
	}

	t.Run("exit status and clean file", func(t *testing.T) {
		dir := importDir(t)
		bad := filepath.Join(t.TempDir(), "bad.jsonl")
		if err := os.WriteFile(bad, []byte(jsonl), 0o600); err != nil {
			t.Fatal(err)
		}
		code, stdout, stderr := runMain(t, nil, "import", bad, "--data-dir", dir)
		if code == 0 || !strings.Contains(stdout, "line 3: ") || !strings.Contains(stderr, "failed") {
			t.Errorf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
		}
		good := filepath.Join(t.TempDir(), "good.jsonl")
		if err := os.WriteFile(good, []byte(strings.ReplaceAll(jsonl, `"ten"`, `"10"`)), 0o600); err != nil {
			t.Fatal(err)
		}
		code, stdout, stderr = runMain(t, nil, "import", good, "--data-dir", dir)
		if code != 0 || !strings.Contains(stdout, "1 created, 3 replayed, 0 failed") {
			t.Errorf("clean import: exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
		}
	})

	t.Run("usage errors", func(t *testing.T) {
		dir := importDir(t)
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"import", "x.jsonl", "--format", "xml"}, `--format "xml": use jsonl or csv`},
			{[]string{"import", filepath.Join(dir, "missing.jsonl")}, "no such file"},
			{[]string{"import"}, "accepts 1 arg(s)"},
		} {
			if _, _, err := cli(t, dir, tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%v: %v; want %q", tc.args, err, tc.want)
			}
		}
	})
}

func TestProgressPrinter(t *testing.T) {
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	pr := importer.Progress{Lines: 50, Created: 40, Failed: 1, BytesRead: 500, TotalBytes: 1000}

	t.Run("plain lines, at most one per interval", func(t *testing.T) {
		var b bytes.Buffer
		p := &progressPrinter{w: &b, interval: 5 * time.Second, now: now, last: clock}
		p.update(pr)
		clock = clock.Add(6 * time.Second)
		p.update(pr)
		p.update(pr)
		p.done()
		if got := b.String(); got != "import: 50%, 50 lines, 40 created, 0 replayed, 1 failed\n" {
			t.Errorf("plain output %q", got)
		}
	})
	t.Run("terminal bar redrawn in place", func(t *testing.T) {
		var b bytes.Buffer
		p := &progressPrinter{w: &b, tty: true, interval: 0, now: now, last: clock}
		p.update(pr)
		p.update(importer.Progress{Lines: 100, Created: 99, Failed: 1, BytesRead: 1000, TotalBytes: 1000})
		p.done()
		got := b.String()
		if !strings.HasPrefix(got, "\r[###############---------------]  50% 50 lines") ||
			!strings.Contains(got, "\r[##############################] 100% 100 lines, 99 created") || !strings.HasSuffix(got, "\n") {
			t.Errorf("bar output %q", got)
		}
	})
	t.Run("a non-terminal writer gets plain lines", func(t *testing.T) {
		f, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if newProgressPrinter(f).tty || newProgressPrinter(&bytes.Buffer{}).tty {
			t.Error("a file or a buffer taken for a terminal")
		}
	})
}

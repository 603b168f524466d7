package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/bankfeed/bankfeed/authz"
	"github.com/bankfeed/bankfeed/store"
)

// faultRows are a batch's rows on account, external IDs prefix-r0… .
func faultRows(account, prefix string, rows int) []map[string]any {
	at := time.Now().UTC().Format(time.RFC3339)
	out := make([]map[string]any, rows)
	for r := range out {
		out[r] = map[string]any{"accountId": account, "externalId": fmt.Sprintf("%s-r%d", prefix, r),
			"status": "POSTED", "amount": "1.25", "debitCreditMemo": "CREDIT", "transactionTimestamp": at,
			"postedTimestamp": at, "description": "fault test"}
	}
	return out
}

// externalIDCounts reads every transaction of account and counts each
// external ID starting with prefix (a count above 1 would be a duplicate).
func externalIDCounts(t *testing.T, st store.Store, account, prefix string) map[string]int {
	t.Helper()
	counts := map[string]int{}
	var after *store.TxCursor
	for {
		txs, more, err := st.ListTransactions(t.Context(), store.TransactionFilter{AccountID: account}, after, 1000)
		if err != nil {
			t.Fatalf("list transactions: %v", err)
		}
		for _, tx := range txs {
			if strings.HasPrefix(tx.ExternalID, prefix) {
				counts[tx.ExternalID]++
			}
		}
		if !more || len(txs) == 0 {
			return counts
		}
		last := txs[len(txs)-1]
		after = &store.TxCursor{BusinessDate: last.BusinessDate, ID: last.ID}
	}
}

// operatorToken registers a first-party client and gets an operator token
// from srv with client_credentials.
func operatorToken(t *testing.T, st store.Store, srvURL string) string {
	t.Helper()
	c, secret, err := authz.CreateClient(t.Context(), st, authz.ClientSpec{Name: "Core banking feed " + srvURL, FirstParty: true, Secret: true})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := (&clientcredentials.Config{ClientID: c.ID, ClientSecret: secret, TokenURL: srvURL + "/oauth2/token",
		Scopes: []string{"operator"}}).Token(t.Context())
	if err != nil {
		t.Fatalf("operator token: %v", err)
	}
	return tok.AccessToken
}

// batchAnswer is what POST /ops/v1/transactions answered.
type batchAnswer struct {
	status            int
	created, replayed int
	err               error // transport or decoding
}

func postBatch(ctx context.Context, base, token string, body []byte) batchAnswer {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/ops/v1/transactions", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
	if err != nil {
		return batchAnswer{err: err}
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	a := batchAnswer{status: res.StatusCode, err: err}
	if err == nil && res.StatusCode/100 == 2 {
		var out struct{ Created, Replayed int }
		if err := json.Unmarshal(data, &out); err != nil {
			a.err = fmt.Errorf("%w: %s", err, data)
		}
		a.created, a.replayed = out.Created, out.Replayed
	}
	return a
}

// TestFaultSQLiteKilledDuringBatches: operators post 10-row transaction
// batches to `serve` on SQLite, which is killed with SIGKILL mid-load
// (issue 11, "SQLite killed during operator batches"). Right after the kill
// every batch is in the database whole or not at all, and every
// acknowledged one is there; after a restart the batches the kill left
// unanswered are posted again (a batch is idempotent by its rows'
// (accountId, externalId), the API's Idempotency-Key) and each is created
// or replayed whole; acknowledged batches posted again replay, creating
// nothing; in the end every batch is present exactly once.
func TestFaultSQLiteKilledDuringBatches(t *testing.T) {
	requireFaults(t)
	db := seedFaultDB(t, false)
	bin := buildServe(t)
	srv := startChild(t, "serve", bin, faultEnv(db.DSN))
	ctx := t.Context()
	token := operatorToken(t, db.St, srv.URL)
	account := db.Creds.BusinessGroups[0].AccountGroup.AccountIDs[0]

	const (
		workers = 4
		rows    = 10
	)
	type batch struct {
		id    string
		acked bool
		first batchAnswer // its answer from the killed process
	}
	var (
		mu      sync.Mutex
		batches []*batch
		wg      sync.WaitGroup
	)
	for w := range workers {
		wg.Go(func() {
			for n := 0; ; n++ {
				b := &batch{id: fmt.Sprintf("kill-w%d-b%d", w, n)}
				body, _ := json.Marshal(map[string]any{"transactions": faultRows(account, b.id, rows)})
				a := postBatch(ctx, srv.URL, token, body)
				mu.Lock()
				b.first, b.acked = a, a.err == nil && a.status/100 == 2
				batches = append(batches, b)
				mu.Unlock()
				if a.err != nil {
					return // the process is gone
				}
			}
		})
	}
	time.Sleep(3 * time.Second)
	srv.signal(syscall.SIGKILL)
	srv.wait(30 * time.Second)
	wg.Wait()

	var bad []string
	acked, unanswered, wrote := 0, 0, 0
	statuses := map[int]int{}
	present := externalIDCounts(t, db.St, account, "kill-")
	countOf := func(b *batch) int {
		n := 0
		for r := range rows {
			c := present[fmt.Sprintf("%s-r%d", b.id, r)]
			if c > 1 {
				bad = append(bad, fmt.Sprintf("%s-r%d stored %d times", b.id, r, c))
			}
			n += min(c, 1)
		}
		return n
	}
	for _, b := range batches {
		statuses[b.first.status]++
		switch {
		case b.acked:
			acked++
			if b.first.created != rows {
				bad = append(bad, fmt.Sprintf("%s: acknowledged with created %d, replayed %d of %d", b.id, b.first.created, b.first.replayed, rows))
			}
		case b.first.err != nil:
			unanswered++
		default:
			bad = append(bad, fmt.Sprintf("%s: answered %d before the kill", b.id, b.first.status))
		}
		n := countOf(b)
		if n != 0 && n != rows || b.acked && n != rows {
			bad = append(bad, fmt.Sprintf("%s: %d of %d rows in the database after the kill (acknowledged %t)", b.id, n, rows, b.acked))
		}
		if !b.acked && n == rows {
			wrote++
		}
	}
	if acked == 0 {
		t.Fatal("no batch was acknowledged before the kill: no load")
	}

	// Restart on the same file: the unanswered batches again, then some
	// acknowledged ones.
	srv2 := startChild(t, "serve again", bin, faultEnv(db.DSN))
	token2 := operatorToken(t, db.St, srv2.URL)
	replayedAfter, createdAfter := 0, 0
	for _, b := range batches {
		if b.acked {
			continue
		}
		body, _ := json.Marshal(map[string]any{"transactions": faultRows(account, b.id, rows)})
		a := postBatch(ctx, srv2.URL, token2, body)
		switch {
		case a.err != nil || a.status/100 != 2:
			bad = append(bad, fmt.Sprintf("%s posted again: %d (%v)", b.id, a.status, a.err))
		case a.replayed == rows:
			replayedAfter++
		case a.created == rows:
			createdAfter++
		default:
			bad = append(bad, fmt.Sprintf("%s posted again: created %d, replayed %d of %d: a partial batch", b.id, a.created, a.replayed, rows))
		}
	}
	replays := 0
	for _, b := range batches {
		if !b.acked || replays == 20 {
			continue
		}
		replays++
		body, _ := json.Marshal(map[string]any{"transactions": faultRows(account, b.id, rows)})
		if a := postBatch(ctx, srv2.URL, token2, body); a.err != nil || a.status != http.StatusOK || a.created != 0 || a.replayed != rows {
			bad = append(bad, fmt.Sprintf("%s (acknowledged) posted again: %d created %d replayed %d (%v); want 200, all replayed",
				b.id, a.status, a.created, a.replayed, a.err))
		}
	}
	present = externalIDCounts(t, db.St, account, "kill-")
	for _, b := range batches {
		if n := countOf(b); n != rows {
			bad = append(bad, fmt.Sprintf("%s: %d of %d rows in the end", b.id, n, rows))
		}
	}
	if len(present) != len(batches)*rows {
		bad = append(bad, fmt.Sprintf("%d rows of the test in the database, want %d", len(present), len(batches)*rows))
	}
	t.Logf("SQLite serve killed (SIGKILL) under %d batch posters (%d rows each) after 3 s: %d batches, %d acknowledged, "+
		"%d unanswered (%d of them committed before the kill: replayed %d, created %d when posted again after the restart); "+
		"%d acknowledged batches posted again all replayed; answers before the kill by status %v",
		workers, rows, len(batches), acked, unanswered, wrote, replayedAfter, createdAfter, replays, statuses)
	if replayedAfter != wrote {
		bad = append(bad, fmt.Sprintf("%d unanswered batches were committed but %d replayed when posted again", wrote, replayedAfter))
	}
	if len(bad) > 0 {
		t.Errorf("%d problems:\n%s", len(bad), joinLines(bad, 40))
	}
}

var importSummary = regexp.MustCompile(`(\d+) line\(s\), (\d+) created, (\d+) replayed, (\d+) failed`)

// TestFaultSQLiteKilledDuringImport: `bankfeed import` of a large JSON
// lines file into SQLite is killed with SIGKILL mid-import (issue 11,
// "SQLite killed during bankfeed import"). Its promise: each batch
// (--batch-size rows) is written all or nothing, in the file's order, and a
// rerun is idempotent. After the kill the rows present are whole batches,
// a prefix of the file, none twice; the rerun exits 0, replays exactly
// those and creates the rest; in the end every row is present once.
func TestFaultSQLiteKilledDuringImport(t *testing.T) {
	requireFaults(t)
	db := seedFaultDB(t, false)
	bin := buildServe(t)
	account := db.Creds.BusinessGroups[0].AccountGroup.AccountIDs[1]

	const (
		total     = 20000
		batchSize = 250
	)
	path := filepath.Join(t.TempDir(), "feed.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	at := time.Now().UTC().Format(time.RFC3339)
	for i := range total {
		line, _ := json.Marshal(map[string]any{"accountId": account, "externalId": fmt.Sprintf("imp-%06d", i),
			"status": "POSTED", "amount": "2.50", "debitCreditMemo": "DEBIT", "transactionTimestamp": at,
			"postedTimestamp": at, "description": "fault import"})
		w.Write(line)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()

	run := func() *exec.Cmd {
		home := t.TempDir()
		cmd := exec.Command(bin, "import", path, "--batch-size", strconv.Itoa(batchSize))
		cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + home}, faultEnv(db.DSN)...)
		return cmd
	}
	cmd := run()
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	// Kill once the third batch is in: mid-import, with batches behind it.
	started := time.Now()
	for {
		if _, err := db.St.GetTransactionByExternalID(t.Context(), account, fmt.Sprintf("imp-%06d", 3*batchSize-1)); err == nil {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("import ended before it was killed: %v\n%s", err, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Since(started) > 40*time.Second {
			_ = cmd.Process.Kill()
			t.Fatalf("the import's third batch not in after 40 s:\n%s", stderr.String())
		}
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	killedAfter := time.Since(started)
	if err := <-done; err == nil {
		t.Fatal("the import finished before the kill landed: make the file larger")
	}

	counts := externalIDCounts(t, db.St, account, "imp-")
	var bad []string
	batchesIn, prefixEnded := 0, false
	for b := 0; b*batchSize < total; b++ {
		n := 0
		for i := b * batchSize; i < min(total, (b+1)*batchSize); i++ {
			c := counts[fmt.Sprintf("imp-%06d", i)]
			if c > 1 {
				bad = append(bad, fmt.Sprintf("imp-%06d stored %d times", i, c))
			}
			n += min(c, 1)
		}
		switch {
		case n == 0:
			prefixEnded = true
		case n != batchSize:
			bad = append(bad, fmt.Sprintf("batch %d: %d of %d rows after the kill: a partial batch", b, n, batchSize))
		case prefixEnded:
			bad = append(bad, fmt.Sprintf("batch %d is in but an earlier one is not", b))
		default:
			batchesIn++
		}
	}
	if batchesIn*batchSize >= total {
		t.Fatal("every batch was in before the kill landed: make the file larger")
	}

	// The rerun completes, replaying exactly what the killed run wrote.
	rerun := run()
	out, err := rerun.Output()
	if err != nil {
		t.Fatalf("rerun: %v\n%s", err, out)
	}
	m := importSummary.FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("rerun: no summary in\n%s", out)
	}
	lines, _ := strconv.Atoi(m[1])
	created, _ := strconv.Atoi(m[2])
	replayed, _ := strconv.Atoi(m[3])
	failed, _ := strconv.Atoi(m[4])
	if lines != total || failed != 0 || replayed != batchesIn*batchSize || created != total-replayed {
		bad = append(bad, fmt.Sprintf("rerun: %s; want %d lines, %d replayed, %d created, 0 failed",
			m[0], total, batchesIn*batchSize, total-batchesIn*batchSize))
	}
	counts = externalIDCounts(t, db.St, account, "imp-")
	if len(counts) != total {
		bad = append(bad, fmt.Sprintf("%d of %d rows in the end", len(counts), total))
	}
	for id, c := range counts {
		if c != 1 {
			bad = append(bad, fmt.Sprintf("%s stored %d times in the end", id, c))
		}
	}
	t.Logf("bankfeed import of %d rows (batches of %d) killed (SIGKILL) after %s with %d whole batches in (%d rows), no partial one; "+
		"rerun: %s", total, batchSize, killedAfter.Round(time.Millisecond), batchesIn, batchesIn*batchSize, strings.TrimSpace(m[0]))
	if len(bad) > 0 {
		t.Errorf("%d problems:\n%s", len(bad), joinLines(bad, 40))
	}
}

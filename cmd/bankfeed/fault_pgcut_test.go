package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/bankfeed/bankfeed/authz"
	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/store/gormstore"
	"github.com/bankfeed/bankfeed/store/gormstore/gormtest"
)

// TestFaultPostgresCutUnderBatches: several operators post transaction
// batches to `serve` while its PostgreSQL connections are cut (every pooled
// connection closed, new ones refused: gormtest's outage proxy) for 5 s and
// then restored (issue 11, "a PostgreSQL restart under load"). A batch that
// was not acknowledged is posted again, same rows, until it is. Afterwards
// every batch is in the database exactly once and whole (never some of its
// rows), every acknowledged batch was created or replayed as a whole, every
// answer during the cut was a 503 with Retry-After, and posting an
// acknowledged batch again replays it without creating anything.
func TestFaultPostgresCutUnderBatches(t *testing.T) {
	requireFaults(t)
	db := seedFaultDB(t, true)
	o := gormtest.OpenOutage(t, "", gormstore.Config{DSN: db.DSN})
	bin := buildServe(t)
	srv := startChild(t, "serve", bin, faultEnv(o.DSN))
	ctx := t.Context()

	c, secret, err := authz.CreateClient(ctx, db.St, authz.ClientSpec{Name: "Core banking feed", FirstParty: true, Secret: true})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := (&clientcredentials.Config{ClientID: c.ID, ClientSecret: secret, TokenURL: srv.URL + "/oauth2/token",
		Scopes: []string{"operator"}}).Token(ctx)
	if err != nil {
		t.Fatalf("operator token: %v", err)
	}
	account := db.Creds.BusinessGroups[0].AccountGroup.AccountIDs[0]

	const (
		workers = 4
		rows    = 10
	)
	type answer struct {
		status            int
		created, replayed int
		retryAfter        string
		err               error
	}
	type batch struct {
		worker, n int
		answers   []answer
		acked     bool
	}
	rowsOf := func(b *batch) []map[string]any {
		at := time.Now().UTC().Format(time.RFC3339)
		out := make([]map[string]any, rows)
		for r := range out {
			out[r] = map[string]any{"accountId": account, "externalId": fmt.Sprintf("fault-w%d-b%d-r%d", b.worker, b.n, r),
				"status": "POSTED", "amount": "1.25", "debitCreditMemo": "CREDIT", "transactionTimestamp": at,
				"postedTimestamp": at, "description": "fault test"}
		}
		return out
	}
	client := &http.Client{Timeout: 20 * time.Second}
	post := func(body []byte) answer {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/ops/v1/transactions", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		req.Header.Set("Content-Type", "application/json")
		res, err := client.Do(req)
		if err != nil {
			return answer{err: err}
		}
		defer res.Body.Close()
		data, err := io.ReadAll(res.Body)
		a := answer{status: res.StatusCode, retryAfter: res.Header.Get("Retry-After"), err: err}
		if res.StatusCode/100 == 2 {
			var out struct{ Created, Replayed int }
			if err := json.Unmarshal(data, &out); err != nil {
				a.err = fmt.Errorf("%w: %s", err, data)
			}
			a.created, a.replayed = out.Created, out.Replayed
		}
		return a
	}

	var (
		mu      sync.Mutex
		batches []*batch
		stopNew = make(chan struct{})
		wg      sync.WaitGroup
	)
	giveUp := time.Now().Add(90 * time.Second)
	for w := range workers {
		wg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-stopNew:
					return
				default:
				}
				b := &batch{worker: w, n: n}
				mu.Lock()
				batches = append(batches, b)
				mu.Unlock()
				body, _ := json.Marshal(map[string]any{"transactions": rowsOf(b)})
				for !b.acked && time.Now().Before(giveUp) {
					a := post(body)
					mu.Lock()
					b.answers = append(b.answers, a)
					mu.Unlock()
					if a.err == nil && a.status/100 == 2 {
						b.acked = true
					} else {
						time.Sleep(200 * time.Millisecond)
					}
				}
			}
		})
	}

	time.Sleep(2 * time.Second)
	o.Cut(t)
	cutAt := time.Now()
	time.Sleep(5 * time.Second)
	o.Restore(t)
	restoredAt := time.Now()
	time.Sleep(4 * time.Second)
	close(stopNew)
	wg.Wait()

	// The figures, then the checks against the database.
	var acked, retried, replayedAfterFailure, answers503 int
	statuses := map[int]int{}
	var bad []string
	for _, b := range batches {
		for i, a := range b.answers {
			switch {
			case a.err != nil:
				bad = append(bad, fmt.Sprintf("w%d-b%d attempt %d: %v", b.worker, b.n, i+1, a.err))
				continue
			case a.status == http.StatusServiceUnavailable:
				answers503++
				if a.retryAfter == "" {
					bad = append(bad, fmt.Sprintf("w%d-b%d attempt %d: 503 without Retry-After", b.worker, b.n, i+1))
				}
			case a.status/100 == 2:
				if a.created+a.replayed != rows || (a.created != rows && a.replayed != rows) {
					bad = append(bad, fmt.Sprintf("w%d-b%d attempt %d: created %d, replayed %d of %d: a partial batch",
						b.worker, b.n, i+1, a.created, a.replayed, rows))
				}
				if i == 0 && a.created != rows {
					bad = append(bad, fmt.Sprintf("w%d-b%d: first attempt replayed %d rows nobody posted before", b.worker, b.n, a.replayed))
				}
				if i > 0 && a.replayed == rows {
					replayedAfterFailure++
				}
			default:
				bad = append(bad, fmt.Sprintf("w%d-b%d attempt %d: answered %d", b.worker, b.n, i+1, a.status))
			}
			statuses[a.status]++
		}
		if len(b.answers) > 1 {
			retried++
		}
		if b.acked {
			acked++
		}
	}
	for _, b := range batches {
		if !b.acked {
			bad = append(bad, fmt.Sprintf("w%d-b%d never acknowledged (%d attempts)", b.worker, b.n, len(b.answers)))
		}
		present := 0
		for r := range rows {
			_, err := db.St.GetTransactionByExternalID(ctx, account, fmt.Sprintf("fault-w%d-b%d-r%d", b.worker, b.n, r))
			switch {
			case err == nil:
				present++
			case !errors.Is(err, store.ErrNotFound):
				t.Fatalf("read back: %v", err)
			}
		}
		if present != 0 && present != rows || b.acked && present != rows {
			bad = append(bad, fmt.Sprintf("w%d-b%d: %d of %d rows in the database (acknowledged %t)", b.worker, b.n, present, rows, b.acked))
		}
	}
	t.Logf("PostgreSQL cut for %s under %d batch posters (%d rows each): %d batches, %d acknowledged, %d retried "+
		"(%d of them replayed: an earlier attempt had committed), %d answers 503 during the cut; answers by status %v",
		restoredAt.Sub(cutAt).Round(time.Millisecond), workers, rows, len(batches), acked, retried, replayedAfterFailure, answers503, statuses)
	if answers503 == 0 {
		t.Error("no batch was refused during the cut: the cut did not reach the server")
	}
	if len(bad) > 0 {
		t.Errorf("%d problems:\n%s", len(bad), joinLines(bad, 40))
	}

	// Posting acknowledged batches again replays them, creating nothing.
	for _, b := range batches[:min(3, len(batches))] {
		body, _ := json.Marshal(map[string]any{"transactions": rowsOf(b)})
		if a := post(body); a.err != nil || a.status != http.StatusOK || a.created != 0 || a.replayed != rows {
			t.Errorf("w%d-b%d posted again: %d created %d replayed %d (%v); want 200, all replayed", b.worker, b.n, a.status, a.created, a.replayed, a.err)
		}
	}
}

func joinLines(lines []string, max int) string {
	out := ""
	for i, l := range lines {
		if i == max {
			return out + fmt.Sprintf("… and %d more", len(lines)-max)
		}
		out += l + "\n"
	}
	return out
}

package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// TestFaultClientsGoneDoNotPoisonThePool: data-API clients on PostgreSQL
// that go away mid-request — before the answer, at the headers, mid-body —
// cancel the server's queries; the connections those queries were on must
// never answer a later request with an error (issue 15, finding 1: one
// request was answered 500 "read access: timeout: read tcp …: i/o timeout"
// in 125 µs right after a load client disconnected). After the
// disconnections every request is a 200, and the log has no 5xx.
func TestFaultClientsGoneDoNotPoisonThePool(t *testing.T) {
	requireFaults(t)
	db := seedFaultDB(t, true)
	bin := buildServe(t)
	// A small pool, so that every connection has had cancelled queries.
	srv := startChild(t, "serve", bin, faultEnv(db.DSN, "BANKFEED_DATABASE_MAX_OPEN_CONNS=4"))
	ctx := t.Context()
	g0 := db.Creds.BusinessGroups[0]
	vendor := oauth2.Config{ClientID: db.Creds.Vendor.ClientID, ClientSecret: db.Creds.Vendor.ClientSecret,
		RedirectURL: db.Creds.Vendor.RedirectURI, Scopes: []string{"openid", "offline_access", "accounts.read"}}
	password := firstSignIn(t, srv.URL, vendor, g0.AccountingSoftware)
	tok, err := flow(ctx, srv.URL, vendor, g0.AccountingSoftware.LoginID, password)
	if err != nil {
		t.Fatalf("data-API token: %v", err)
	}
	accounts := g0.AccountGroup.AccountIDs
	get := func(ctx context.Context, i int, readBody bool) (int, error) {
		u := srv.URL + "/fdx/v6/accounts/" + accounts[i%len(accounts)] + "/transactions?limit=100"
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		// A connection of its own: going away closes it, as a load
		// client that disconnects does.
		res, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
		if err != nil {
			return 0, err
		}
		defer res.Body.Close()
		if readBody {
			_, err = io.Copy(io.Discard, res.Body)
		}
		return res.StatusCode, err
	}

	// Phase 1: clients that go away at spread points.
	var gone atomic.Int64
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			for n := range 40 {
				rctx, cancel := context.WithCancel(ctx)
				at := time.Duration((w*40+n)%40) * 5 * time.Millisecond
				timer := time.AfterFunc(at, cancel)
				if _, err := get(rctx, w+n, n%2 == 0); err != nil {
					gone.Add(1)
				}
				timer.Stop()
				cancel()
			}
		})
	}
	wg.Wait()

	// Phase 2: every request is answered in full with a 200.
	var ok, failed atomic.Int64
	var mu sync.Mutex
	var failures []string
	for w := range 8 {
		wg.Go(func() {
			for n := range 25 {
				status, err := get(ctx, w+n, true)
				if err == nil && status == http.StatusOK {
					ok.Add(1)
					continue
				}
				failed.Add(1)
				mu.Lock()
				failures = append(failures, http.StatusText(status)+" "+errString(err))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	var errLines []string
	cut := 0 // abandoned requests whose query's write was cut short
	for line := range strings.SplitSeq(srv.Log.String(), "\n") {
		// A request whose client went away may see its own query cut
		// short: pgx interrupts a cancelled query by a deadline in the
		// past, which reads "i/o timeout" when it lands during the write.
		// That request is logged as abandoned (no answer, no 5xx), and the
		// connection it was on is closed and dropped from the pool: only
		// the other requests' lines count.
		if strings.Contains(line, "request abandoned: client gone") {
			if strings.Contains(line, "i/o timeout") {
				cut++
			}
			continue
		}
		if strings.Contains(line, `"status":5`) || strings.Contains(line, "i/o timeout") {
			errLines = append(errLines, line)
		}
	}
	t.Logf("clients gone mid-request: %d of 640 (%d logged with their query cut short); afterwards %d × 200, %d failed; other log lines with a 5xx or an i/o timeout: %d",
		gone.Load(), cut, ok.Load(), failed.Load(), len(errLines))
	if gone.Load() == 0 {
		t.Error("no client went away mid-request: the test cancelled too late")
	}
	if failed.Load() > 0 {
		t.Errorf("requests after the disconnections failed: %v", failures)
	}
	if len(errLines) > 0 {
		t.Errorf("the log has 5xx answers or i/o timeouts:\n%s", joinLines(errLines, 10))
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

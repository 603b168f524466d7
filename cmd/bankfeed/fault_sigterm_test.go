package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/bankfeed/bankfeed/store/demo"
)

// TestFaultSIGTERMUnderLoad: `serve` gets SIGTERM while data-API readers
// and refresh-token chains run against it as fast as they can (issue 11,
// "SIGTERM under load"). It must exit 0; every request that got a response
// got a complete one (the status line, and a body that reads to its end
// and decodes); requests only fail at the transport after the signal (the
// listener closed); the requests in flight at the signal finish within the
// drain, or are cut and counted in the log (cut=N).
func TestFaultSIGTERMUnderLoad(t *testing.T) {
	requireFaults(t)
	db := seedFaultDB(t, false)
	bin := buildServe(t)
	srv := startChild(t, "serve", bin, faultEnv(db.DSN, "BANKFEED_HTTP_SHUTDOWN_TIMEOUT=3s"))
	ctx := t.Context()

	g0, g1 := db.Creds.BusinessGroups[0], db.Creds.BusinessGroups[1]
	vendor := oauth2.Config{ClientID: db.Creds.Vendor.ClientID, ClientSecret: db.Creds.Vendor.ClientSecret,
		RedirectURL: db.Creds.Vendor.RedirectURI, Scopes: []string{"openid", "offline_access", "accounts.read"}}
	users := map[string]string{} // login → password
	for _, g := range []demo.GroupCredentials{g0, g1} {
		users[g.AccountingSoftware.LoginID] = firstSignIn(t, srv.URL, vendor, g.AccountingSoftware)
	}
	data, err := flow(ctx, srv.URL, vendor, g0.AccountingSoftware.LoginID, users[g0.AccountingSoftware.LoginID])
	if err != nil {
		t.Fatalf("data-API token: %v", err)
	}
	// The refresh chains are another vendor's, so rotating them leaves the
	// readers' token alone.
	other := vendorClient(t, db.St, "Refreshing vendor")
	var chains []*oauth2.Token
	for _, l := range []string{g0.AccountingSoftware.LoginID, g1.AccountingSoftware.LoginID} {
		tok, err := flow(ctx, srv.URL, other, l, users[l])
		if err != nil || tok.RefreshToken == "" {
			t.Fatalf("refresh chain for %s: %v (refresh token %t)", l, err, tok != nil && tok.RefreshToken != "")
		}
		chains = append(chains, tok)
	}
	accounts := g0.AccountGroup.AccountIDs

	var (
		signalled  atomic.Bool
		mu         sync.Mutex
		before     = map[int]int{} // status → answers before SIGTERM
		after      = map[int]int{} // … after it
		incomplete []string
		early      []string // transport errors before SIGTERM
		late       int      // transport errors after it (listener closed, connection cut)
	)
	record := func(status int, complete bool, what string, err error) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err != nil && !signalled.Load():
			early = append(early, what+": "+err.Error())
		case err != nil:
			late++
		case !complete:
			incomplete = append(incomplete, what)
		case signalled.Load():
			after[status]++
		default:
			before[status]++
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 30 * time.Second}
	for i := range 6 {
		wg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				u := srv.URL + "/fdx/v6/accounts/" + accounts[(i+n)%len(accounts)] + "/transactions?limit=100"
				req, _ := http.NewRequestWithContext(context.WithoutCancel(ctx), http.MethodGet, u, nil)
				req.Header.Set("Authorization", "Bearer "+data.AccessToken)
				res, err := client.Do(req)
				if err != nil {
					record(0, false, "data API", err)
					if signalled.Load() {
						return // the listener is closed: the process is going
					}
					continue
				}
				body, rerr := io.ReadAll(res.Body)
				res.Body.Close()
				var page struct {
					Transactions []json.RawMessage `json:"transactions"`
				}
				complete := rerr == nil && json.Unmarshal(body, &page) == nil &&
					(res.StatusCode != http.StatusOK || len(page.Transactions) > 0)
				record(res.StatusCode, complete, "data API "+res.Status, nil)
			}
		})
	}
	for _, tok := range chains {
		wg.Go(func() {
			rt := tok.RefreshToken
			for {
				select {
				case <-stop:
					return
				default:
				}
				next, err := refresh(context.WithoutCancel(ctx), srv.URL, other, rt)
				var re *oauth2.RetrieveError
				switch {
				case err == nil:
					record(http.StatusOK, next.AccessToken != "" && next.RefreshToken != "", "refresh", nil)
					rt = next.RefreshToken
				case asRetrieve(err, &re):
					record(re.Response.StatusCode, json.Valid(re.Body), "refresh "+re.Response.Status, nil)
					if re.Response.StatusCode == http.StatusBadRequest { // the chain is over (its token used or cut)
						<-stop
						return
					}
				default:
					record(0, false, "refresh", err)
					if signalled.Load() {
						return
					}
				}
			}
		})
	}

	time.Sleep(4 * time.Second) // load before the signal
	signalled.Store(true)
	sent := time.Now()
	srv.signal(syscall.SIGTERM)
	code := srv.wait(time.Minute)
	exited := time.Since(sent)
	close(stop)
	wg.Wait()

	cut := 0
	for _, m := range srv.logLines("shutdown timeout: cut requests still running") {
		n, _ := m["cut"].(float64)
		cut += int(n)
	}
	t.Logf("SIGTERM under load: answers before it by status %v, after it %v; requests refused at the transport after it %d (listener closed); "+
		"exit %d after %s; cut=%d", before, after, late, code, exited.Round(time.Millisecond), cut)
	if code != 0 {
		t.Errorf("serve exited %d after SIGTERM; want 0", code)
	}
	if len(srv.logLines("stopped")) != 1 {
		t.Error("no \"stopped\" line: the drain did not finish")
	}
	if len(incomplete) > 0 {
		t.Errorf("%d responses were incomplete: %v", len(incomplete), incomplete)
	}
	if len(early) > 0 {
		t.Errorf("%d requests failed at the transport before SIGTERM: %v", len(early), early)
	}
	if before[http.StatusOK] == 0 {
		t.Error("no request succeeded before SIGTERM: no load")
	}
	for _, m := range []map[int]int{before, after} {
		for status, n := range m {
			if status != http.StatusOK {
				t.Errorf("%d answers %d", n, status)
			}
		}
	}
}

func asRetrieve(err error, re **oauth2.RetrieveError) bool {
	e, ok := err.(*oauth2.RetrieveError)
	if ok {
		*re = e
	}
	return ok
}

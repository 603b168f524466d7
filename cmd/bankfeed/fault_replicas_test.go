package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/bankfeed/bankfeed/store/demo"
)

// TestFaultReplicaKilledMidFlow: two `serve` replicas on one PostgreSQL
// database; vendors' authorization flows alternate between them, each
// flow's refresh token is then used on the other replica, and replica A is
// killed with SIGKILL mid-flow (issue 11, "two replicas with one killed").
// Flows on the survivor all complete, before and after the kill; every
// completed flow has its consent and no flow has two (per vendor and user:
// completed ≤ consents ≤ completed + interrupted, exactly one active); a
// refresh cut by the kill, retried on the survivor, continues its family —
// and every vendor's last refresh token still works at the end: no family
// was revoked for what the kill did.
func TestFaultReplicaKilledMidFlow(t *testing.T) {
	requireFaults(t)
	db := seedFaultDB(t, true)
	bin := buildServe(t)
	// The replicas share one issuer, as behind a load balancer: a front
	// proxy at the issuer's address sends each request to the replica its
	// X-Fault-Replica header names (B without one). Sign-ins wait for a
	// hashing slot rather than answer 503 busy on this loaded machine.
	var backends sync.Map // "a", "b" → *url.URL
	front := httptest.NewServer(&httputil.ReverseProxy{ErrorLog: log.New(io.Discard, "", 0), Rewrite: func(r *httputil.ProxyRequest) {
		name := r.In.Header.Get("X-Fault-Replica")
		if name == "" {
			name = "b"
		}
		u, _ := backends.Load(name)
		r.SetURL(u.(*url.URL))
		r.Out.Host = r.In.Host
	}})
	t.Cleanup(front.Close)
	// Every flow signs in the vendors' few users from one address: the
	// sign-in rate limits (tested on their own) would refuse a fast machine's
	// flows with 429 and hide what this test is about.
	env := faultEnv(db.DSN, "BANKFEED_ISSUER="+front.URL, "BANKFEED_SIGNIN_HASH_QUEUE_TIMEOUT=30s",
		"BANKFEED_SIGNIN_RATE_LIMIT_PER_LOGIN_ID=0", "BANKFEED_SIGNIN_RATE_LIMIT_PER_ADDRESS=0")
	a := startChild(t, "replica-a", bin, env)
	b := startChild(t, "replica-b", bin, env)
	for name, c := range map[string]*child{"a": a, "b": b} {
		u, _ := url.Parse(c.URL)
		backends.Store(name, u)
	}
	via := map[*child]http.RoundTripper{a: replicaTransport("a"), b: replicaTransport("b")}
	ctx := t.Context()

	groups := []demo.GroupCredentials{db.Creds.BusinessGroups[0], db.Creds.BusinessGroups[1]}
	vendor := oauth2.Config{ClientID: db.Creds.Vendor.ClientID, ClientSecret: db.Creds.Vendor.ClientSecret,
		RedirectURL: db.Creds.Vendor.RedirectURI, Scopes: []string{"openid", "offline_access", "accounts.read"}}
	passwords := make([]string, len(groups))
	for i, g := range groups {
		passwords[i] = firstSignIn(t, front.URL, vendor, g.AccountingSoftware)
	}

	const workers = 4
	type tally struct {
		conf                 oauth2.Config
		user                 demo.Login
		password             string
		completed, cut       int // flows
		survivorFailed       []string
		refreshes, refreshOK int
		cutRefreshRetried    int
		cutRefreshFailed     []string
		refreshFailed        []string // on the survivor, or before the kill
		lastRefresh          string
	}
	tallies := make([]*tally, workers)
	for w := range tallies {
		g := w % len(groups)
		tallies[w] = &tally{conf: vendorClient(t, db.St, fmt.Sprintf("Vendor %d", w)), user: groups[g].AccountingSoftware, password: passwords[g]}
	}
	var (
		mu     sync.Mutex
		killed bool
	)
	alive := func(n int) (flowAt, refreshAt *child) {
		mu.Lock()
		defer mu.Unlock()
		if killed {
			return b, b
		}
		if n%2 == 0 {
			return a, b
		}
		return b, a
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, tl := range tallies {
		wg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				fa, ra := alive(n)
				tok, err := flowVia(context.WithoutCancel(ctx), via[fa], front.URL, tl.conf, tl.user.LoginID, tl.password)
				if err != nil {
					mu.Lock()
					if fa == b {
						tl.survivorFailed = append(tl.survivorFailed, err.Error())
					} else {
						tl.cut++
					}
					mu.Unlock()
					continue
				}
				mu.Lock()
				tl.completed++
				mu.Unlock()
				// The refresh on the other replica; cut by the kill, it is
				// retried on the survivor with the same refresh token.
				next, err := refreshVia(context.WithoutCancel(ctx), via[ra], front.URL, tl.conf, tok.RefreshToken)
				mu.Lock()
				tl.refreshes++
				mu.Unlock()
				if err != nil && ra == a {
					next, err = refreshVia(context.WithoutCancel(ctx), via[b], front.URL, tl.conf, tok.RefreshToken)
					mu.Lock()
					tl.cutRefreshRetried++
					if err != nil {
						tl.cutRefreshFailed = append(tl.cutRefreshFailed, err.Error())
					}
					mu.Unlock()
				}
				if err != nil && ra == b {
					mu.Lock()
					tl.refreshFailed = append(tl.refreshFailed, err.Error())
					mu.Unlock()
				}
				if err == nil {
					mu.Lock()
					tl.refreshOK++
					tl.lastRefresh = next.RefreshToken
					mu.Unlock()
				}
			}
		})
	}

	time.Sleep(5 * time.Second)
	mu.Lock()
	killed = true
	mu.Unlock()
	a.signal(syscall.SIGKILL)
	killedAt := time.Now()
	a.wait(30 * time.Second)
	time.Sleep(5 * time.Second)
	close(stop)
	wg.Wait()
	after := time.Since(killedAt)

	var completed, cut, consents, refreshes, refreshOK, retried int
	for w, tl := range tallies {
		cs, err := db.St.ListConsents(ctx, tl.user.UserID)
		if err != nil {
			t.Fatal(err)
		}
		mine, active := 0, 0
		for _, c := range cs {
			if c.ClientID == tl.conf.ClientID {
				mine++
				if c.RevokedAt.IsZero() {
					active++
				}
			}
		}
		completed, cut, consents = completed+tl.completed, cut+tl.cut, consents+mine
		refreshes, refreshOK, retried = refreshes+tl.refreshes, refreshOK+tl.refreshOK, retried+tl.cutRefreshRetried
		if mine < tl.completed || mine > tl.completed+tl.cut {
			t.Errorf("vendor %d: %d flows completed, %d cut by the kill, but %d consents", w, tl.completed, tl.cut, mine)
		}
		if tl.completed > 0 && active != 1 {
			t.Errorf("vendor %d: %d active consents, want 1", w, active)
		}
		if len(tl.survivorFailed) > 0 {
			t.Errorf("vendor %d: flows on the survivor failed: %v", w, tl.survivorFailed)
		}
		if len(tl.refreshFailed) > 0 {
			t.Errorf("vendor %d: refreshes failed: %v", w, tl.refreshFailed)
		}
		if len(tl.cutRefreshFailed) > 0 {
			t.Errorf("vendor %d: refreshes cut by the kill failed on the survivor: %v", w, tl.cutRefreshFailed)
		}
		if tl.lastRefresh == "" {
			t.Errorf("vendor %d: no refresh succeeded", w)
			continue
		}
		if _, err := refreshVia(ctx, via[b], front.URL, tl.conf, tl.lastRefresh); err != nil {
			t.Errorf("vendor %d: its last refresh token no longer works: %v", w, err)
		}
	}
	t.Logf("replica A killed (SIGKILL) after 5 s of %d vendors' flows over two replicas, %s more on B: %d flows completed, %d cut by the kill, "+
		"%d consents; %d refreshes, %d succeeded, %d cut by the kill and retried on B", workers, after.Round(time.Millisecond),
		completed, cut, consents, refreshes, refreshOK, retried)
	if completed == 0 {
		t.Error("no flow completed")
	}
}

// replicaTransport sends requests to the front proxy's replica name.
func replicaTransport(name string) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		req = req.Clone(req.Context())
		req.Header.Set("X-Fault-Replica", name)
		return http.DefaultTransport.RoundTrip(req)
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

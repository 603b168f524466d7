// Command loadtest drives the data API's transactions endpoint with many
// concurrent clients and reports pages per second and latency percentiles.
//
// Self-contained (default): it opens a database (-dsn: a SQLite file or a
// postgres:// URL), seeds the demo data set in scale mode if the database is
// empty (-accounts, -tx), starts the API in process on a loopback port with
// a verifier that accepts one token per accounting software user, and
// drives it over real HTTP:
//
//	go run ./dataapi/loadtest -dsn /tmp/scale.db -accounts 1000 -tx 10000 -c 32 -d 30s
//	go run ./dataapi/loadtest -dsn 'postgres://postgres@127.0.0.1:5432/bankfeed_scale?sslmode=disable' -c 32 -d 30s
//
// Against a running server (the accounts come from GET /fdx/v6/accounts):
//
//	go run ./dataapi/loadtest -url https://bank.example -token "$ACCESS_TOKEN" -c 32 -d 30s
//
// With -dpop the token is DPoP-bound (authz/loadtest -print-token -dpop
// prints it and, on a second line, its private key as a JWK: give that file
// as -dpop-key): every request sends Authorization: DPoP and a fresh proof
// (htm, htu, iat, jti, ath), retried once with the server's nonce when it
// answers use_dpop_nonce; the result is named "pages (DPoP)".
//
// Each request is a first page (limit -limit) of a random account, or with
// -walk the next page of the client's current walk, so both the first page
// and deep keyset pages are measured.
//
// A client answered 429 or 503 with Retry-After waits that long before its
// next request, as a vendor's client should; -retry-after=false asks again
// at once (a client that ignores it).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/authz/loadtest/dpopkey"
	"github.com/bankfeed/bankfeed/dataapi"
	"github.com/bankfeed/bankfeed/internal/loadreport"
	"github.com/bankfeed/bankfeed/internal/procstat"
	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/store/demo"
	"github.com/bankfeed/bankfeed/store/gormstore"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

type options struct {
	dsn      string
	accounts int
	tx       int
	target   string
	token    string
	clients  int
	duration time.Duration
	limit    int
	walk     float64
	maxConns int
	light    bool
	jsonOut  bool
	pid      int
	dpop     bool
	dpopKey  string
	// retryAfter: after a 429 or 503 carrying Retry-After, the client waits
	// that long before its next request, as a vendor's client should.
	retryAfter bool
}

func run(ctx context.Context, args []string, out io.Writer) error {
	var o options
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.StringVar(&o.dsn, "dsn", "", "database: SQLite file or postgres:// URL (self-contained mode)")
	fs.IntVar(&o.accounts, "accounts", 1000, "accounts to seed when the database is empty")
	fs.IntVar(&o.tx, "tx", 10000, "about how many transactions per seeded account")
	fs.StringVar(&o.target, "url", "", "drive a running server at this base URL instead")
	fs.StringVar(&o.token, "token", "", "access token for -url (or env BANKFEED_LOADTEST_TOKEN)")
	fs.IntVar(&o.clients, "c", 32, "concurrent clients")
	fs.DurationVar(&o.duration, "d", 20*time.Second, "duration")
	fs.IntVar(&o.limit, "limit", 100, "page size")
	fs.Float64Var(&o.walk, "walk", 0.5, "share of requests that follow the client's page key (deep pages)")
	fs.IntVar(&o.maxConns, "db-conns", 0, "database pool size (0: the store's default)")
	fs.BoolVar(&o.light, "light", false, "do not JSON-decode pages: find the page key and count transactions by a byte search "+
		"(the client's own CPU; decoding costs about as much as serving when both share the machine)")
	fs.BoolVar(&o.jsonOut, "json", false, "print the result as one JSON object")
	fs.BoolVar(&o.retryAfter, "retry-after", true, "after a 429 or 503 with Retry-After, a client waits that long before its next request "+
		"(false: at once, as a client that ignores it)")
	fs.IntVar(&o.pid, "server-pid", 0, "the server's process ID (-url): report its CPU time per page (/proc)")
	fs.BoolVar(&o.dpop, "dpop", false, "the token (-url) is DPoP-bound: send a fresh proof with every request (needs -dpop-key)")
	fs.StringVar(&o.dpopKey, "dpop-key", "", "file of the token's private key as a JWK (authz/loadtest -print-token -dpop's second line)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.token == "" {
		o.token = os.Getenv("BANKFEED_LOADTEST_TOKEN")
	}
	var key *dpopkey.Key
	if o.dpop {
		// The in-process verifier checks no proof: DPoP needs the real server.
		if o.target == "" || o.dpopKey == "" {
			return errors.New("-dpop needs -url, -token and -dpop-key")
		}
		data, err := os.ReadFile(o.dpopKey)
		if err != nil {
			return err
		}
		if key, err = dpopkey.Parse(bytes.TrimSpace(data)); err != nil {
			return err
		}
	}
	var tokens []cred
	base := strings.TrimRight(o.target, "/")
	if base == "" {
		if o.dsn == "" {
			return errors.New("give -dsn (self-contained) or -url and -token")
		}
		srv, toks, err := serve(ctx, o, out)
		if err != nil {
			return err
		}
		defer srv.Close()
		base = "http://" + srv.Addr
		for _, t := range toks {
			tokens = append(tokens, cred{token: t})
		}
	} else {
		if o.token == "" {
			return errors.New("-url needs -token")
		}
		tokens = []cred{{token: o.token, key: key}}
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.clients * 2, MaxConnsPerHost: o.clients * 2}, Timeout: 30 * time.Second}
	work := make([]workload, 0, len(tokens))
	for _, tok := range tokens {
		ids, err := accountIDs(ctx, client, base, tok)
		if err != nil {
			return err
		}
		if len(ids) > 0 {
			work = append(work, workload{cred: tok, accounts: ids})
		}
	}
	if len(work) == 0 {
		return errors.New("no account is visible to the token(s)")
	}
	n := 0
	for _, w := range work {
		n += len(w.accounts)
	}
	if !o.jsonOut {
		fmt.Fprintf(out, "driving %s: %d clients for %s over %d accounts, limit=%d, walk=%.0f%%\n", base, o.clients, o.duration, n, o.limit, o.walk*100)
	}
	load := procstat.LoadAvg()
	var cpu0 procstat.Sample
	if o.pid > 0 {
		var err error
		if cpu0, err = procstat.Take(o.pid); err != nil {
			return fmt.Errorf("server CPU: %w", err)
		}
	}
	res := drive(ctx, client, base, work, o)
	res.load, res.dpop = load, key != nil
	if o.pid > 0 {
		cpu1, err := procstat.Take(o.pid)
		if err != nil {
			return fmt.Errorf("server CPU: %w", err)
		}
		res.cpu = cpu1.Sub(cpu0)
	}
	if o.jsonOut {
		return json.NewEncoder(out).Encode(res.summary())
	}
	res.print(out)
	return nil
}

type workload struct {
	cred
	accounts []string
}

// cred is an access token and, when DPoP-bound, its key.
type cred struct {
	token string
	key   *dpopkey.Key
}

// authorize sets the request's Authorization header, and a fresh DPoP proof
// for a bound token.
func (c cred) authorize(req *http.Request) error {
	if c.key == nil {
		req.Header.Set("Authorization", "Bearer "+c.token)
		return nil
	}
	proof, err := c.key.Proof(req.Method, req.URL.String(), c.token)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "DPoP "+c.token)
	req.Header.Set("DPoP", proof)
	return nil
}

// serve opens the database, seeds it if empty, and starts the API on a
// loopback port; it returns one token per accounting software user.
func serve(ctx context.Context, o options, out io.Writer) (*http.Server, []string, error) {
	st, err := gormstore.Open(ctx, gormstore.Config{DSN: o.dsn, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), MaxOpenConns: o.maxConns})
	if err != nil {
		return nil, nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		return nil, nil, err
	}
	groups, err := st.ListBusinessGroups(ctx)
	if err != nil {
		return nil, nil, err
	}
	if len(groups) == 0 {
		fmt.Fprintf(out, "seeding %d accounts × ~%d transactions (once; reuse the database afterwards)\n", o.accounts, o.tx)
		start := time.Now()
		if _, err := demo.Seed(ctx, st, demo.Options{Accounts: o.accounts, TransactionsPerAccount: o.tx, Progress: out}); err != nil {
			return nil, nil, fmt.Errorf("seed: %w", err)
		}
		fmt.Fprintf(out, "seeded in %s\n", time.Since(start).Round(time.Second))
		if groups, err = st.ListBusinessGroups(ctx); err != nil {
			return nil, nil, err
		}
	}
	v := &verifier{grants: map[string]store.Grant{}}
	clients, err := st.ListClients(ctx)
	if err != nil || len(clients) == 0 {
		return nil, nil, fmt.Errorf("no OAuth client in the database (%v)", err)
	}
	for _, g := range groups {
		yes := true
		users, _, err := st.ListUsers(ctx, store.UserFilter{BusinessGroupID: g.ID, AccountingSoftware: &yes}, store.Page{Limit: 10})
		if err != nil {
			return nil, nil, err
		}
		for _, u := range users {
			if u.Status != store.UserActive {
				if u, err = st.UpdateUser(ctx, u.ID, func(u store.User) (store.User, error) { u.Status = store.UserActive; return u, nil }); err != nil {
					return nil, nil, err
				}
			}
			scopes := []string{store.ScopeAccountsRead, store.ScopeStatementsRead}
			c, err := st.CreateConsent(ctx, store.Consent{UserID: u.ID, ClientID: clients[0].ID, Scopes: scopes, GrantedAt: time.Now()})
			if err != nil {
				return nil, nil, err
			}
			tok := store.RandomToken(24)
			// The API reads the token's record with the records it re-checks.
			if err := st.CreateToken(ctx, store.TokenRecord{Kind: store.TokenAccess, Signature: store.HashToken(tok), RequestID: c.ID,
				ClientID: c.ClientID, Subject: u.ID, Active: true, RequestedAt: time.Now(), ExpiresAt: time.Now().AddDate(1, 0, 0)}); err != nil {
				return nil, nil, err
			}
			v.grants[tok] = store.Grant{RequestID: c.ID, ClientID: c.ClientID, UserID: u.ID, Scopes: scopes}
		}
	}
	api, err := dataapi.New(dataapi.Config{Store: st, Verifier: v, PageKeySecret: bytes.Repeat([]byte("l"), 32)})
	if err != nil {
		return nil, nil, err
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	api.Mount(e)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	srv := &http.Server{Handler: e, Addr: ln.Addr().String(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	var toks []string
	for t := range v.grants {
		toks = append(toks, t)
	}
	slices.Sort(toks)
	return srv, toks, nil
}

// verifier accepts the tokens serve minted (the OAuth server is not part of
// this measurement; the API still reads the token's record and re-reads
// user, consent, role and group).
type verifier struct{ grants map[string]store.Grant }

func (v *verifier) VerifyRequestWith(r *http.Request, read func(context.Context, string) (store.TokenRecord, error)) (store.Grant, error) {
	ctx := r.Context()
	_, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	g, ok := v.grants[token]
	if !ok {
		return store.Grant{}, errors.New("unknown token")
	}
	rec, err := read(ctx, store.HashToken(token))
	if err != nil {
		return store.Grant{}, err
	}
	if !rec.Active {
		return store.Grant{}, errors.New("inactive token")
	}
	return g, nil
}

func accountIDs(ctx context.Context, c *http.Client, base string, token cred) ([]string, error) {
	var ids []string
	key := ""
	for {
		u := base + dataapi.BasePath + "/accounts?limit=1000"
		if key != "" {
			u += "&pageKey=" + url.QueryEscape(key)
		}
		var page struct {
			Page     struct{ NextPageKey string }
			Accounts []struct{ AccountID string }
		}
		if err := getJSON(ctx, c, u, token, &page); err != nil {
			return nil, err
		}
		for _, a := range page.Accounts {
			ids = append(ids, a.AccountID)
		}
		if key = page.Page.NextPageKey; key == "" {
			return ids, nil
		}
	}
}

func getJSON(ctx context.Context, c *http.Client, u string, token cred, v any) error {
	status, body, err := getBodyInto(ctx, c, u, token, nil)
	if err != nil {
		return fmt.Errorf("GET %s: %d: %w", u, status, err)
	}
	return json.Unmarshal(body, v)
}

type result struct {
	latencies []time.Duration
	errors    int
	statuses  map[int]int
	elapsed   time.Duration
	txs       int
	cpu       procstat.Sample // over the run (-server-pid)
	load      float64         // 1-minute load average at the start
	dpop      bool
}

// summary is the result as -json prints it (the fields authz/loadtest -json
// prints for its scenarios).
type summary struct {
	loadreport.Figures
	Statuses map[int]int `json:"statuses"`
}

func (r result) summary() summary {
	slices.Sort(r.latencies)
	ms := func(p float64) float64 {
		if len(r.latencies) == 0 {
			return 0
		}
		d := r.latencies[min(len(r.latencies)-1, int(p*float64(len(r.latencies))))]
		return math.Round(float64(d.Microseconds())/10) / 100
	}
	name := "pages"
	if r.dpop {
		name += " (DPoP)"
	}
	s := summary{Figures: loadreport.Figures{Name: name, Seconds: math.Round(r.elapsed.Seconds()*100) / 100, N: len(r.latencies),
		Errors: r.errors, RPS: float64(len(r.latencies)) / r.elapsed.Seconds(), P50: ms(0.5), P99: ms(0.99), Max: ms(1), LoadAvg: r.load},
		Statuses: r.statuses}
	if r.cpu.Server > 0 {
		s.PerOp = r.cpu.PerOp(s.N)
	}
	return s
}

func drive(ctx context.Context, c *http.Client, base string, work []workload, o options) result {
	ctx, cancel := context.WithTimeout(ctx, o.duration)
	defer cancel()
	var mu sync.Mutex
	total := result{statuses: map[int]int{}}
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < o.clients; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(i), 42))
			w := work[i%len(work)]
			local := result{statuses: map[int]int{}}
			account, key := "", ""
			var buf bytes.Buffer
			for ctx.Err() == nil {
				if key == "" || r.Float64() >= o.walk {
					account, key = w.accounts[r.IntN(len(w.accounts))], ""
				}
				u := fmt.Sprintf("%s%s/accounts/%s/transactions?status=all&limit=%d", base, dataapi.BasePath, account, o.limit)
				if key != "" {
					u += "&pageKey=" + url.QueryEscape(key)
				}
				var page struct {
					Page         struct{ NextPageKey string }
					Transactions []json.RawMessage
				}
				t0 := time.Now()
				lightCount := 0
				var status int
				var err error
				if o.light {
					var body []byte
					status, body, err = getBodyInto(ctx, c, u, w.cred, &buf)
					page.Page.NextPageKey = lightPageKey(body)
					lightCount = bytes.Count(body, []byte(`"transactionId":`))
				} else {
					status, err = get(ctx, c, u, w.cred, &page)
				}
				d := time.Since(t0)
				if ctx.Err() != nil {
					break
				}
				local.statuses[status]++
				if err != nil {
					local.errors++
					key = ""
					var later retryLater
					if o.retryAfter && errors.As(err, &later) {
						select {
						case <-ctx.Done():
						case <-time.After(later.after):
						}
					}
					continue
				}
				local.latencies = append(local.latencies, d)
				local.txs += len(page.Transactions) + lightCount
				key = page.Page.NextPageKey
			}
			mu.Lock()
			total.latencies = append(total.latencies, local.latencies...)
			total.errors += local.errors
			total.txs += local.txs
			for k, v := range local.statuses {
				total.statuses[k] += v
			}
			mu.Unlock()
		}(i)
	}
	wg.Wait()
	total.elapsed = time.Since(start)
	return total
}

func get(ctx context.Context, c *http.Client, u string, token cred, v any) (int, error) {
	status, body, err := getBody(ctx, c, u, token)
	if err != nil {
		return status, err
	}
	return status, json.Unmarshal(body, v)
}

func getBody(ctx context.Context, c *http.Client, u string, token cred) (int, []byte, error) {
	return getBodyInto(ctx, c, u, token, nil)
}

// retryLater is a 429 or 503 answered with Retry-After.
type retryLater struct {
	err   error
	after time.Duration
}

func (r retryLater) Error() string { return r.err.Error() }
func (r retryLater) Unwrap() error { return r.err }

// getBodyInto reads the body into buf's storage (reused by a worker: the
// load program shares the CPU with the server it measures). A DPoP
// request the server answers use_dpop_nonce is sent again, once, with a
// new proof carrying the nonce.
func getBodyInto(ctx context.Context, c *http.Client, u string, token cred, buf *bytes.Buffer) (int, []byte, error) {
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return 0, nil, err
		}
		if err := token.authorize(req); err != nil {
			return 0, nil, err
		}
		res, err := c.Do(req)
		if err != nil {
			return 0, nil, err
		}
		buf.Reset()
		_, err = buf.ReadFrom(res.Body)
		res.Body.Close()
		if err != nil {
			return res.StatusCode, nil, err
		}
		body := buf.Bytes()
		if token.key != nil && attempt == 0 && token.key.UseNonce(res, body) {
			continue
		}
		if res.StatusCode != http.StatusOK {
			err := fmt.Errorf("status %d: %.200s", res.StatusCode, body)
			if secs, perr := strconv.Atoi(res.Header.Get("Retry-After")); perr == nil && secs > 0 &&
				(res.StatusCode == http.StatusTooManyRequests || res.StatusCode == http.StatusServiceUnavailable) {
				err = retryLater{err: err, after: time.Duration(secs) * time.Second}
			}
			return res.StatusCode, nil, err
		}
		return res.StatusCode, body, nil
	}
}

// lightPageKey finds "nextPageKey":"…" in a page (keys are base64url and a
// dot: no escapes) without decoding the page.
func lightPageKey(body []byte) string {
	const k = `"nextPageKey":"`
	i := bytes.Index(body, []byte(k))
	if i < 0 {
		return ""
	}
	rest := body[i+len(k):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return ""
	}
	return string(rest[:j])
}

func (r result) print(w io.Writer) {
	slices.Sort(r.latencies)
	pct := func(p float64) time.Duration {
		if len(r.latencies) == 0 {
			return 0
		}
		return r.latencies[min(len(r.latencies)-1, int(p*float64(len(r.latencies))))]
	}
	secs := r.elapsed.Seconds()
	name := "pages"
	if r.dpop {
		name += " (DPoP)"
	}
	fmt.Fprintf(w, "%s: %d in %.1fs = %.0f pages/s (%.0f transactions/s), errors: %d, statuses: %v\n",
		name, len(r.latencies), secs, float64(len(r.latencies))/secs, float64(r.txs)/secs, r.errors, r.statuses)
	fmt.Fprintf(w, "latency: p50 %s  p90 %s  p99 %s  max %s\n",
		pct(0.50).Round(10*time.Microsecond), pct(0.90).Round(10*time.Microsecond), pct(0.99).Round(10*time.Microsecond), pct(1).Round(10*time.Microsecond))
	if r.cpu.Server > 0 && len(r.latencies) > 0 {
		p := r.cpu.PerOp(len(r.latencies))
		fmt.Fprintf(w, "CPU ms per page: server %.3f, PostgreSQL %.3f, this program %.3f, machine %.3f\n",
			p.ServerCPU, p.DatabaseCPU, p.ClientCPU, p.MachineCPU)
	}
}

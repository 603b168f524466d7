package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/shopspring/decimal"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/bankfeed/bankfeed/store"
)

// freeAddr is a loopback address with a port free a moment ago, for a
// server whose issuer must name its own address before it listens.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// scrape reads the metrics listener's exposition with the Prometheus text
// parser; it returns the families and the raw text.
func scrape(t *testing.T, base string) (map[string]*dto.MetricFamily, string) {
	t.Helper()
	res := get(t, base+"/metrics")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics = %d", res.StatusCode)
	}
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("parse /metrics: %v\n%s", err, body)
	}
	return mfs, string(body)
}

// sample is the value of the sample of family name with exactly labels (a
// counter's, gauge's or a histogram's count); ok is false when there is none.
func sample(mfs map[string]*dto.MetricFamily, name string, labels map[string]string) (v float64, ok bool) {
	mf := mfs[name]
	if mf == nil {
		return 0, false
	}
next:
	for _, m := range mf.GetMetric() {
		if len(m.GetLabel()) != len(labels) {
			continue
		}
		for _, l := range m.GetLabel() {
			if want, ok := labels[l.GetName()]; !ok || want != l.GetValue() {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		}
	}
	return 0, false
}

// delta is what moved a sample between two scrapes.
func delta(before, after map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	a, _ := sample(after, name, labels)
	b, _ := sample(before, name, labels)
	return a - b
}

func labels(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// TestMetricsEndToEnd runs the real serve with --metrics-addr on loopback
// and drives a client_credentials grant and a refused one, a failed and
// successful sign-ins, code exchanges, an approval, data API pages, an
// export and rate-limited requests; a scrape parsed with the Prometheus
// text parser shows each counter moved by exactly that, under bounded
// labels (route templates, never a path with an ID), and no user, account,
// business, client or token ID, login ID or token anywhere. /metrics is
// not on the public port.
func TestMetricsEndToEnd(t *testing.T) {
	dir := migratedDir(t)
	clientOut := func(args ...string) clientJSON {
		t.Helper()
		out, stderr, err := cli(t, dir, append([]string{"clients", "create", "--secret"}, args...)...)
		if err != nil {
			t.Fatalf("clients create: %v\n%s", err, stderr)
		}
		c, _ := decodeClient(t, out)
		return c
	}
	ops := clientOut("--name", "Core banking feed", "--first-party", "--scope", "operator")
	ob := clientOut("--name", "Online banking", "--first-party", "--redirect-uri", "http://127.0.0.1:7001/cb")
	const vendorCB = "http://127.0.0.1:9999/callback"
	vendor := clientOut("--name", "Ledgerly", "--redirect-uri", vendorCB)
	st := dirStore(t, dir)
	login, acct := seedSoftwareUser(t, st)
	seedDay(t, st, acct)

	addr, maddr := freeAddr(t), freeAddr(t)
	const rateLimit = 12
	s := startServe(t, env(fmt.Sprintf("BANKFEED_DATAAPI_RATE_LIMIT_PER_MINUTE=%d", rateLimit)), dir,
		"--addr", addr, "--issuer", "http://"+addr, "--metrics-addr", maddr)
	b := &bank{t: t, URL: s.URL, st: st}
	mURL := "http://" + maddr
	if !strings.Contains(s.Stderr.String(), "metrics listening") {
		t.Errorf("no metrics listener in the log:\n%s", s.Stderr)
	}
	before, _ := scrape(t, mURL)

	// Tokens: the operator's client_credentials grant, and one refused.
	ctx := t.Context()
	cc := clientcredentials.Config{ClientID: ops.ClientID, ClientSecret: ops.ClientSecret, TokenURL: b.URL + "/oauth2/token", Scopes: []string{"operator"}}
	opTok, err := cc.Token(ctx)
	if err != nil {
		t.Fatalf("operator token: %v", err)
	}
	bad := cc
	bad.ClientSecret += "x"
	if _, err := bad.Token(ctx); err == nil {
		t.Fatal("a wrong secret got a token")
	}
	op := opTok.AccessToken

	// An approval: the operator onboards a business with two
	// administrators; A submits, B approves.
	bg := b.api(op, http.MethodPost, "/ops/v1/business-groups", map[string]any{"id": "bg_metrics", "name": "Metrics Ltd", "legalName": "Metrics Ltd."}, http.StatusCreated)["id"].(string)
	tokens := map[string]string{}
	var secrets []string // every value that must not reach the scrape
	for _, a := range []string{"admin-a", "admin-b"} {
		added := b.api(op, http.MethodPost, "/ops/v1/business-groups/"+bg+"/administrators",
			map[string]any{"loginId": a, "displayName": a, "email": a + "@metrics.example"}, http.StatusCreated)
		temp, _ := added["temporaryPassword"].(string)
		user, _ := added["user"].(map[string]any)
		id, _ := user["id"].(string)
		tokens[a] = b.firstSignInToken(ob.ClientID, ob.ClientSecret, "http://127.0.0.1:7001/cb", a, temp, "Metrics-Ledger-2026-"+strings.ToUpper(a[len(a)-1:]))
		secrets = append(secrets, id, temp, tokens[a])
	}
	req := b.api(tokens["admin-a"], http.MethodPost, "/admin/v1/users", map[string]any{"loginId": "clerk-1", "displayName": "Clerk"}, http.StatusAccepted)["id"].(string)
	mid, _ := scrape(t, mURL)
	if v, _ := sample(mid, "bankfeed_approvals_pending", nil); v != 1 {
		t.Errorf("bankfeed_approvals_pending = %v with one request submitted", v)
	}
	b.api(tokens["admin-b"], http.MethodPost, "/admin/v1/approvals/"+req+"/approve", map[string]any{}, http.StatusOK)

	// Sign-in: a wrong password on the bank's page, then the vendor's flow.
	conf := oauth2.Config{ClientID: vendor.ClientID, ClientSecret: vendor.ClientSecret, RedirectURL: vendorCB,
		Scopes:   []string{"openid", "offline_access", "accounts.read", "statements.read"},
		Endpoint: oauth2.Endpoint{AuthURL: b.URL + "/oauth2/authorize", TokenURL: b.URL + "/oauth2/token", AuthStyle: oauth2.AuthStyleInHeader}}
	v := oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL("metrics-state", oauth2.S256ChallengeOption(v))
	br := b.browser()
	res, page := b.do(br, http.MethodGet, authURL, nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("authorize: %d\n%s", res.StatusCode, page)
	}
	form := url.Values{"csrf": {find(t, csrfField, page)}, "user_id": {login}, "password": {"not-the-password"}}
	action := strings.ReplaceAll(find(t, formAction, lastForm(page)), "&amp;", "&")
	if res, page = b.do(br, http.MethodPost, b.URL+action, strings.NewReader(form.Encode())); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d\n%s", res.StatusCode, page)
	}
	cb := b.authorize(b.browser(), authURL, login, softwarePassword, "")
	tok, err := conf.Exchange(ctx, cb.Query().Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	at := tok.AccessToken
	u, err := st.GetUserByLogin(ctx, login)
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, op, at, tok.RefreshToken, cb.Query().Get("code"), u.ID, acct, bg, "bg_books",
		ops.ClientID, ob.ClientID, vendor.ClientID, ops.ClientSecret, vendor.ClientSecret, login, "admin-a", "clerk-1", req)

	// The data API: a page, an export, then requests until the rate limit
	// refuses some.
	b.api(at, http.MethodGet, "/fdx/v6/accounts", nil, http.StatusOK)
	exp, err := http.NewRequestWithContext(ctx, http.MethodGet, b.URL+"/fdx/v6/accounts/"+acct+"/exports?format=csv&startDate=2026-11-02&endDate=2026-11-02", nil)
	if err != nil {
		t.Fatal(err)
	}
	exp.Header.Set("Authorization", "Bearer "+at)
	res, err = http.DefaultClient.Do(exp)
	if err != nil {
		t.Fatal(err)
	}
	file, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("export: %d\n%s", res.StatusCode, file)
	}
	limited, pages := 0, 0
	for range 2 * rateLimit {
		res := get(t, b.URL+"/fdx/v6/accounts/"+acct, "Authorization", "Bearer "+at)
		io.Copy(io.Discard, res.Body)
		switch res.StatusCode {
		case http.StatusOK:
			pages++
		case http.StatusTooManyRequests:
			limited++
		default:
			t.Fatalf("GET an account: %d", res.StatusCode)
		}
	}
	if limited == 0 {
		t.Fatalf("no request was rate-limited in %d", 2*rateLimit)
	}

	after, text := scrape(t, mURL)
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"bankfeed_oauth_tokens_issued_total", labels("grant_type", "client_credentials"), 1},
		{"bankfeed_oauth_token_errors_total", labels("grant_type", "client_credentials", "error", "invalid_client"), 1},
		{"bankfeed_oauth_tokens_issued_total", labels("grant_type", "authorization_code"), 3}, // two administrators, the vendor
		{"bankfeed_signin_attempts_total", labels("outcome", "failure"), 1},
		{"bankfeed_signin_attempts_total", labels("outcome", "success"), 3},
		{"bankfeed_approvals_submitted_total", nil, 1},
		{"bankfeed_approvals_decided_total", labels("decision", "approved"), 1},
		{"bankfeed_exports_total", labels("format", "csv"), 1},
		{"bankfeed_export_entries_total", labels("format", "csv"), 3},
		{"bankfeed_export_bytes_total", labels("format", "csv"), float64(len(file))},
		{"bankfeed_dataapi_rate_limited_total", nil, float64(limited)},
		{"bankfeed_http_requests_total", labels("route", "/fdx/v6/accounts/:accountId", "method", "GET", "code", "200"), float64(pages)},
		{"bankfeed_http_requests_total", labels("route", "/fdx/v6/accounts/:accountId", "method", "GET", "code", "429"), float64(limited)},
		{"bankfeed_http_requests_total", labels("route", "/oauth2/token", "method", "POST", "code", "401"), 1},
		{"bankfeed_http_request_duration_seconds", labels("route", "/fdx/v6/accounts", "method", "GET"), 1},
		{"bankfeed_http_requests_total", labels("route", "/admin/v1/approvals/:id/approve", "method", "POST", "code", "200"), 1},
	} {
		if got := delta(before, after, c.name, c.labels); got != c.want {
			t.Errorf("%s%v moved by %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	for name, want := range map[string]float64{"bankfeed_approvals_pending": 0, "bankfeed_signin_sessions_active": 3, "bankfeed_signin_locked_logins": 0,
		"bankfeed_admission_active_requests": 0, "bankfeed_admission_waiting_requests": 0,
		"bankfeed_admission_refused_requests_total": 0} { // the scrape runs between requests; nothing turned away
		if got, ok := sample(after, name, nil); !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", name, got, ok, want)
		}
	}
	for _, name := range []string{"bankfeed_db_query_duration_seconds", "go_sql_open_connections", "go_goroutines", "process_resident_memory_bytes"} {
		if after[name] == nil {
			t.Errorf("no %s in the scrape", name)
		}
	}
	if v, _ := sample(after, "bankfeed_db_query_duration_seconds", labels("operation", "select")); v == 0 {
		t.Error("no select statement timed")
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("the scrape contains %q", s)
		}
	}
	for _, p := range []string{"/metrics", "/debug/pprof/"} {
		if res := get(t, b.URL+p); res.StatusCode != http.StatusNotFound {
			t.Errorf("public GET %s = %d, want 404", p, res.StatusCode)
		}
	}
	if res := get(t, mURL+"/debug/pprof/"); res.StatusCode != http.StatusNotFound {
		t.Errorf("pprof served without metrics.pprof: %d", res.StatusCode)
	}
}

// seedDay gives the account three posted credits on 2026-11-02 and that
// day's closed balance, so an export of the day reconciles.
func seedDay(t *testing.T, st store.Store, acct string) {
	t.Helper()
	day := store.Date("2026-11-02")
	bal := store.Money{}
	var txs []store.Transaction
	for i, amt := range []string{"10.00", "20.50", "3.25"} {
		m := decimal.RequireFromString(amt)
		bal = bal.Add(m)
		at := day.Time().Add(time.Duration(9+i) * time.Hour)
		txs = append(txs, store.Transaction{ID: fmt.Sprintf("txn_metrics_%d", i), AccountID: acct, ExternalID: fmt.Sprintf("m-%d", i),
			Status: store.Posted, TransactionAt: at, PostedAt: at, BusinessDate: day, ValueDate: day, Amount: m, Direction: store.Credit,
			Description: "Deposit", RunningBalance: bal, HasRunning: true})
	}
	if _, err := st.CreateTransactions(t.Context(), txs); err != nil {
		t.Fatal(err)
	}
	if err := st.PutDailyBalance(t.Context(), store.DailyBalance{AccountID: acct, BusinessDate: day, OpeningLedger: store.Money{},
		ClosingLedger: bal, OpeningAvailable: store.Money{}, ClosingAvailable: bal, Closed: true}); err != nil {
		t.Fatal(err)
	}
}

// TestMetricsListenerOptions: without metrics.addr there is no metrics
// listener; BANKFEED_METRICS_PPROF=true serves pprof on it; with
// BANKFEED_LOG_FORMAT=json each request is one JSON log line carrying its
// X-Request-ID.
func TestMetricsListenerOptions(t *testing.T) {
	off := startServe(t, env(), "")
	get(t, off.URL+"/healthz")
	if log := off.Stderr.String(); strings.Contains(log, "metrics listening") {
		t.Errorf("a metrics listener without metrics.addr:\n%s", log)
	}
	if res := get(t, off.URL+"/metrics"); res.StatusCode != http.StatusNotFound {
		t.Errorf("public /metrics = %d, want 404", res.StatusCode)
	}
	off.Stop()

	maddr := freeAddr(t)
	s := startServe(t, env("BANKFEED_METRICS_ADDR="+maddr, "BANKFEED_METRICS_PPROF=true", "BANKFEED_LOG_FORMAT=json"), "")
	for _, p := range []string{"/debug/pprof/", "/debug/pprof/cmdline", "/metrics"} {
		if res := get(t, "http://"+maddr+p); res.StatusCode != http.StatusOK {
			t.Errorf("GET %s on the metrics listener = %d", p, res.StatusCode)
		}
	}
	if res := get(t, s.URL+"/debug/pprof/"); res.StatusCode != http.StatusNotFound {
		t.Errorf("public /debug/pprof/ = %d, want 404", res.StatusCode)
	}
	for _, id := range []string{"json-log-1", "json-log-2"} {
		get(t, s.URL+"/healthz", "X-Request-ID", id)
	}
	get(t, s.URL+"/nope", "X-Request-ID", "json-log-3")
	s.Stop()
	lines := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(s.Stderr.String()))
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Errorf("log line is not JSON: %v: %s", err, sc.Text())
			continue
		}
		if rec["msg"] == "request" {
			id, _ := rec["request_id"].(string)
			lines[id]++
			for _, k := range []string{"time", "level", "method", "path", "status", "duration"} {
				if _, ok := rec[k]; !ok {
					t.Errorf("request line lacks %s: %s", k, sc.Text())
				}
			}
		}
	}
	for _, id := range []string{"json-log-1", "json-log-2", "json-log-3"} {
		if lines[id] != 1 {
			t.Errorf("%d request lines for X-Request-ID %s, want 1", lines[id], id)
		}
	}
}

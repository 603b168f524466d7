package metrics

import (
	"context"
	"database/sql"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics owns one registry and every bankfeed metric. A nil *Metrics is
// valid: each method is then a no-op, so packages built without metrics
// (tests, commands other than serve) pay one nil check.
type Metrics struct {
	reg *prometheus.Registry

	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec

	tokensIssued *prometheus.CounterVec
	tokenErrors  *prometheus.CounterVec

	signIns  *prometheus.CounterVec
	lockouts prometheus.Counter

	approvalsSubmitted prometheus.Counter
	approvalsDecided   *prometheus.CounterVec

	rateLimited   prometheus.Counter
	exports       *prometheus.CounterVec
	exportEntries *prometheus.CounterVec
	exportBytes   *prometheus.CounterVec

	queryDuration *prometheus.HistogramVec
	queryErrors   *prometheus.CounterVec

	webhookDeliveries *prometheus.CounterVec
	emailDeliveries   *prometheus.CounterVec
}

// New builds the metrics on a registry of their own (never the process-wide
// default, so tests in one binary do not see each other's counts), with the
// Go runtime and process collectors.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help}, labels)
		m.reg.MustRegister(c)
		return c
	}
	m.httpRequests = counter("http_requests_total", "HTTP requests answered, by route template, method and status code.", "route", "method", "code")
	m.httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "http_request_duration_seconds",
		Help: "Time to answer an HTTP request, by route template and method.", Buckets: prometheus.DefBuckets}, []string{"route", "method"})
	m.tokensIssued = counter("oauth_tokens_issued_total", "Successful token endpoint requests, by grant type.", "grant_type")
	m.tokenErrors = counter("oauth_token_errors_total", "Refused or failed token endpoint requests, by grant type and RFC 6749 error code.", "grant_type", "error")
	m.signIns = counter("signin_attempts_total", "Sign-ins on the bank's pages, by outcome (success, failure, locked, rate_limited, busy).", "outcome")
	m.lockouts = counter("signin_lockouts_total", "Login IDs locked by a run of failed sign-ins.").WithLabelValues()
	m.approvalsSubmitted = counter("approvals_submitted_total", "Maker-checker requests submitted.").WithLabelValues()
	m.approvalsDecided = counter("approvals_decided_total", "Maker-checker requests that left pending, by decision (approved, rejected, cancelled).", "decision")
	m.rateLimited = counter("dataapi_rate_limited_total", "Data API requests refused by the per-client rate limit (429).").WithLabelValues()
	m.exports = counter("exports_total", "Statement exports written, by format.", "format")
	m.exportEntries = counter("export_entries_total", "Transactions written into exports, by format.", "format")
	m.exportBytes = counter("export_bytes_total", "Bytes of export files written, by format.", "format")
	m.queryDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "db_query_duration_seconds",
		Help:    "Time of a database statement, by operation (select, insert, update, delete, other).",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10}}, []string{"operation"})
	m.queryErrors = counter("db_query_errors_total", "Database statements that failed (not counting no rows), by operation.", "operation")
	m.webhookDeliveries = counter("webhook_deliveries_total", "Webhook delivery attempts, by outcome (delivered, retry, failed).", "outcome")
	m.emailDeliveries = counter("email_deliveries_total", "E-mail delivery attempts, by outcome (delivered, retry, failed).", "outcome")
	m.reg.MustRegister(m.httpDuration, m.queryDuration,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

const namespace = "bankfeed"

// Registry is where callers add collectors of their own (and tests gather).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus exposition formats.
func (m *Metrics) Handler(logger *slog.Logger) http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:          slog.NewLogLogger(orDiscard(logger).Handler(), slog.LevelWarn),
		ErrorHandling:     promhttp.ContinueOnError, // one failing collector must not hide the rest
		EnableOpenMetrics: true,
	})
}

// InternalMux is the internal listener's handler: /metrics, and
// net/http/pprof under /debug/pprof/ only when pprof is set. It is never
// mounted on the public router.
func (m *Metrics) InternalMux(logger *slog.Logger, withPprof bool) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler(logger))
	if withPprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index) // named profiles: heap, goroutine, allocs, ...
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return mux
}

// AddDBPool exports a connection pool's sql.DBStats as go_sql_* with
// db_name=name (e.g. "writer", "reader").
func (m *Metrics) AddDBPool(name string, db *sql.DB) error {
	if m == nil {
		return nil
	}
	return m.reg.Register(collectors.NewDBStatsCollector(db, name))
}

// AddAdmission exports the admission gate's occupancy (package admission):
// bankfeed_admission_active_requests, the requests holding a slot, and
// bankfeed_admission_waiting_requests, those queued for one. A queue that
// stays long says the gate (http.max_active_requests), the database or the
// CPUs are too small for the load. bankfeed_admission_refused_requests_total
// counts the requests turned away with 503 (http.max_waiting_requests,
// http.max_wait): the load is more than the replica takes.
func (m *Metrics) AddAdmission(active, waiting func() int, refused func() int64) error {
	return m.addGate("admission", "the gated routes", active, waiting, refused)
}

// AddIntrospectionAdmission exports introspection's own gate
// (http.max_active_introspections) as AddAdmission exports the shared one.
func (m *Metrics) AddIntrospectionAdmission(active, waiting func() int, refused func() int64) error {
	return m.addGate("introspection_admission", "introspection", active, waiting, refused)
}

// addGate registers a gate's gauges and counter under prefix.
func (m *Metrics) addGate(prefix, whose string, active, waiting func() int, refused func() int64) error {
	if m == nil {
		return nil
	}
	for _, g := range []struct {
		name, help string
		f          func() int
	}{
		{prefix + "_active_requests", "Requests of " + whose + " holding an admission slot.", active},
		{prefix + "_waiting_requests", "Requests of " + whose + " waiting, in arrival order, for an admission slot.", waiting},
	} {
		f := g.f
		if err := m.reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: namespace, Name: g.name, Help: g.help},
			func() float64 { return float64(f()) })); err != nil {
			return err
		}
	}
	return m.reg.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: namespace, Name: prefix + "_refused_requests_total",
		Help: "Requests of " + whose + " turned away with 503: too many waiting, or waited the longest."},
		func() float64 { return float64(refused()) }))
}

// TokenIssued counts a token endpoint request that issued tokens.
func (m *Metrics) TokenIssued(grantType string) {
	if m == nil {
		return
	}
	m.tokensIssued.WithLabelValues(grantTypeLabel(grantType)).Inc()
}

// TokenFailed counts a token endpoint request answered with an RFC 6749
// error (errCode, e.g. invalid_grant).
func (m *Metrics) TokenFailed(grantType, errCode string) {
	if m == nil {
		return
	}
	m.tokenErrors.WithLabelValues(grantTypeLabel(grantType), oauthErrorLabel(errCode)).Inc()
}

// Sign-in outcomes.
const (
	SignInSuccess = "success"
	SignInFailure = "failure" // wrong credentials or unknown login ID
	SignInLocked  = "locked"  // refused because the login ID is locked
	// Refused before any password was checked (429, 503): no failure counted.
	SignInRateLimited = "rate_limited" // the login ID's or address's rate limit
	SignInBusy        = "busy"         // password hashing at its concurrency bound
)

// SignIn counts one sign-in attempt by outcome.
func (m *Metrics) SignIn(outcome string) {
	if m == nil {
		return
	}
	switch outcome {
	case SignInSuccess, SignInFailure, SignInLocked, SignInRateLimited, SignInBusy:
	default:
		outcome = other
	}
	m.signIns.WithLabelValues(outcome).Inc()
}

// LockedOut counts a failure that started a lockout.
func (m *Metrics) LockedOut() {
	if m != nil {
		m.lockouts.Inc()
	}
}

// ApprovalSubmitted counts a maker-checker request submitted.
func (m *Metrics) ApprovalSubmitted() {
	if m != nil {
		m.approvalsSubmitted.Inc()
	}
}

// ApprovalDecided counts a request that left pending: decision is
// approved, rejected or cancelled (withdrawn by its maker).
func (m *Metrics) ApprovalDecided(decision string) {
	if m == nil {
		return
	}
	switch decision {
	case "approved", "rejected", "cancelled":
	default:
		decision = other
	}
	m.approvalsDecided.WithLabelValues(decision).Inc()
}

// RateLimited counts a data API request refused by the rate limit.
func (m *Metrics) RateLimited() {
	if m != nil {
		m.rateLimited.Inc()
	}
}

// Export counts one export written in format with its entries and bytes.
func (m *Metrics) Export(format string, entries int, bytes int64) {
	if m == nil {
		return
	}
	f := formatLabel(format)
	m.exports.WithLabelValues(f).Inc()
	m.exportEntries.WithLabelValues(f).Add(float64(entries))
	m.exportBytes.WithLabelValues(f).Add(float64(bytes))
}

// Webhook delivery outcomes.
const (
	WebhookDelivered = "delivered" // the receiver answered 2xx
	WebhookRetry     = "retry"     // failed; another attempt is scheduled
	WebhookFailed    = "failed"    // failed for good: no attempt left
)

// WebhookDelivery counts one delivery attempt by outcome.
func (m *Metrics) WebhookDelivery(outcome string) {
	if m == nil {
		return
	}
	switch outcome {
	case WebhookDelivered, WebhookRetry, WebhookFailed:
	default:
		outcome = other
	}
	m.webhookDeliveries.WithLabelValues(outcome).Inc()
}

// E-mail delivery outcomes: as a webhook's.
const (
	EmailDelivered = WebhookDelivered
	EmailRetry     = WebhookRetry
	EmailFailed    = WebhookFailed
)

// EmailDelivery counts one e-mail delivery attempt by outcome.
func (m *Metrics) EmailDelivery(outcome string) {
	if m == nil {
		return
	}
	switch outcome {
	case EmailDelivered, EmailRetry, EmailFailed:
	default:
		outcome = other
	}
	m.emailDeliveries.WithLabelValues(outcome).Inc()
}

// ObserveQuery records one database statement's time; operation is a
// statement verb (select, insert, update, delete), anything else is "other".
func (m *Metrics) ObserveQuery(operation string, d time.Duration, failed bool) {
	if m == nil {
		return
	}
	switch operation {
	case "select", "insert", "update", "delete":
	default:
		operation = other
	}
	m.queryDuration.WithLabelValues(operation).Observe(d.Seconds())
	if failed {
		m.queryErrors.WithLabelValues(operation).Inc()
	}
}

// State is what the database says at scrape time, the same on every
// replica: gauges a single process could not count.
type State struct {
	ActiveSessions   int64 // browser sessions not expired
	LockedLogins     int64 // login IDs (users and unknown IDs) locked now
	PendingApprovals int64 // maker-checker requests awaiting a decision
	// Outbox counts notification deliveries by channel and status; pending
	// and dead ones are exported (delivered ones only grow).
	Outbox []OutboxCount
}

// OutboxCount is how many deliveries of a channel (webhook, email) stand in
// a status (pending, delivered, dead).
type OutboxCount struct {
	Channel, Status string
	Count           int64
}

// AddState exports read's State as gauges, read once per scrape with a
// bounded time; a failed read leaves the gauges out of that scrape and is
// logged.
func (m *Metrics) AddState(read func(context.Context) (State, error), logger *slog.Logger) error {
	if m == nil {
		return nil
	}
	return m.reg.Register(&stateCollector{read: read, log: orDiscard(logger)})
}

type stateCollector struct {
	read func(context.Context) (State, error)
	log  *slog.Logger
}

var (
	descSessions = prometheus.NewDesc(namespace+"_signin_sessions_active", "Browser sessions on the bank's pages that have not expired.", nil, nil)
	descLocked   = prometheus.NewDesc(namespace+"_signin_locked_logins", "Login IDs locked now by failed sign-ins.", nil, nil)
	descPending  = prometheus.NewDesc(namespace+"_approvals_pending", "Maker-checker requests awaiting a decision.", nil, nil)
	descOutbox   = prometheus.NewDesc(namespace+"_outbox_deliveries", "Notification deliveries waiting (pending) or given up (dead) in the outbox, by channel.", []string{"channel", "status"}, nil)
)

func (s *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descSessions
	ch <- descLocked
	ch <- descPending
	ch <- descOutbox
}

func (s *stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := s.read(ctx)
	if err != nil {
		s.log.WarnContext(ctx, "metrics: reading the database's state failed", "err", err)
		return
	}
	ch <- prometheus.MustNewConstMetric(descSessions, prometheus.GaugeValue, float64(st.ActiveSessions))
	ch <- prometheus.MustNewConstMetric(descLocked, prometheus.GaugeValue, float64(st.LockedLogins))
	ch <- prometheus.MustNewConstMetric(descPending, prometheus.GaugeValue, float64(st.PendingApprovals))
	outbox := map[[2]string]int64{}
	for _, c := range st.Outbox {
		if c.Status != "pending" && c.Status != "dead" {
			continue
		}
		channel := c.Channel
		if channel != "webhook" && channel != "email" {
			channel = other
		}
		outbox[[2]string{channel, c.Status}] += c.Count
	}
	for k, n := range outbox {
		ch <- prometheus.MustNewConstMetric(descOutbox, prometheus.GaugeValue, float64(n), k[0], k[1])
	}
}

// other stands for any label value outside a metric's known set, so a
// caller's input can never create series.
const other = "other"

func grantTypeLabel(g string) string {
	switch g {
	case "authorization_code", "refresh_token", "client_credentials",
		"urn:ietf:params:oauth:grant-type:jwt-bearer", "urn:ietf:params:oauth:grant-type:token-exchange":
		return g
	case "":
		return "none"
	}
	return other
}

func oauthErrorLabel(e string) string {
	switch e {
	case "invalid_request", "invalid_client", "invalid_grant", "unauthorized_client", "unsupported_grant_type",
		"invalid_scope", "server_error", "temporarily_unavailable", "access_denied", "request_unauthorized",
		"invalid_dpop_proof", "use_dpop_nonce":
		return e
	}
	return other
}

// formatLabel keeps an export format's registered name (a fixed list the
// caller looked the request up in) and refuses anything unlike one.
func formatLabel(f string) string {
	if f == "" || len(f) > 32 {
		return other
	}
	for _, r := range f {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
			return other
		}
	}
	return f
}

// statusText is the code label of each status, made once: strconv.Itoa
// allocates for numbers of three digits.
var statusText = func() (s [600]string) {
	for i := range s {
		s[i] = strconv.Itoa(i)
	}
	return s
}()

// Middleware counts and times every request by its route template (echo's
// c.Path(), never the raw path: an ID in a path must not become a series),
// method and final status. Place it outside the access log, which turns a
// handler's error into the response whose status this reads. A nil
// *Metrics gives a pass-through.
func (m *Metrics) Middleware() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		if m == nil {
			return next
		}
		return func(c echo.Context) error {
			start := time.Now()
			if err := next(c); err != nil {
				c.Error(err) // write the status we count
			}
			route := c.Path()
			if route == "" {
				route = "unmatched" // no route: the raw path stays out
			}
			method := methodLabel(c.Request().Method)
			code := c.Response().Status
			if code < 0 || code >= len(statusText) {
				code = 0
			}
			m.httpRequests.WithLabelValues(route, method, statusText[code]).Inc()
			m.httpDuration.WithLabelValues(route, method).Observe(time.Since(start).Seconds())
			return nil
		}
	}
}

// methodLabel bounds the method label: a client may send any token.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "OTHER"
}

func orDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

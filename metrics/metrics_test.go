package metrics

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	dto "github.com/prometheus/client_model/go"
)

// value is the current value of the counter (or the sample count of the
// histogram) name with exactly labels, 0 when there is none.
func value(t *testing.T, m *Metrics, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, s := range mf.GetMetric() {
			if match(s.GetLabel(), labels) {
				if h := s.GetHistogram(); h != nil {
					return float64(h.GetSampleCount())
				}
				return s.GetCounter().GetValue() + s.GetGauge().GetValue()
			}
		}
	}
	return 0
}

func match(got []*dto.LabelPair, want map[string]string) bool {
	if len(got) != len(want) {
		return false
	}
	for _, l := range got {
		if v, ok := want[l.GetName()]; !ok || v != l.GetValue() {
			return false
		}
	}
	return true
}

func newServer(t *testing.T, m *Metrics) *httptest.Server {
	e := echo.New()
	e.Use(m.Middleware())
	e.GET("/fdx/v6/accounts/:accountId", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	e.GET("/boom", func(c echo.Context) error { return echo.NewHTTPError(http.StatusServiceUnavailable) })
	ts := httptest.NewServer(e)
	t.Cleanup(ts.Close)
	return ts
}

func do(t *testing.T, method, url string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), method, url, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
}

// TestMiddlewareLabels: requests are counted by route template, bounded
// method and final status (a handler's error included); a path no route
// matches, and an ID in a path, never become a label value.
func TestMiddlewareLabels(t *testing.T) {
	m := New()
	ts := newServer(t, m)
	do(t, http.MethodGet, ts.URL+"/fdx/v6/accounts/acc_SECRET1")
	do(t, http.MethodGet, ts.URL+"/fdx/v6/accounts/acc_SECRET2")
	do(t, http.MethodGet, ts.URL+"/boom")
	do(t, http.MethodGet, ts.URL+"/no/such/SECRET3")
	do(t, "BREW", ts.URL+"/fdx/v6/accounts/acc_SECRET4")

	for _, c := range []struct {
		labels map[string]string
		want   float64
	}{
		{map[string]string{"route": "/fdx/v6/accounts/:accountId", "method": "GET", "code": "200"}, 2},
		{map[string]string{"route": "/boom", "method": "GET", "code": "503"}, 1},
		{map[string]string{"route": "unmatched", "method": "GET", "code": "404"}, 1},
		{map[string]string{"route": "/fdx/v6/accounts/:accountId", "method": "OTHER", "code": "405"}, 1},
	} {
		if got := value(t, m, "bankfeed_http_requests_total", c.labels); got != c.want {
			t.Errorf("bankfeed_http_requests_total%v = %v, want %v", c.labels, got, c.want)
		}
	}
	if got := value(t, m, "bankfeed_http_request_duration_seconds", map[string]string{"route": "/fdx/v6/accounts/:accountId", "method": "GET"}); got != 2 {
		t.Errorf("latency histogram has %v samples, want 2", got)
	}
	rec := httptest.NewRecorder()
	m.Handler(nil).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if strings.Contains(rec.Body.String(), "SECRET") {
		t.Errorf("a raw path reached the exposition:\n%s", rec.Body)
	}
	for _, want := range []string{"go_goroutines", "process_cpu_seconds_total"} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("no %s in the exposition", want)
		}
	}
}

// TestLabelsAreBounded: values from requests outside each metric's known
// set are "other", so no caller can create series.
func TestLabelsAreBounded(t *testing.T) {
	m := New()
	m.TokenIssued("authorization_code")
	m.TokenFailed("urn:x:SECRET", "invalid_grant")
	m.TokenFailed("refresh_token", "SECRET error")
	m.SignIn("SECRET")
	m.SignIn(SignInRateLimited)
	m.SignIn(SignInBusy)
	m.Export("camt053", 3, 100)
	m.Export("../SECRET", 1, 1)
	m.WebhookDelivery("SECRET")
	m.EmailDelivery("SECRET")
	m.EmailDelivery(EmailDelivered)
	m.ObserveQuery("SECRET", 0, true)
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"bankfeed_oauth_tokens_issued_total", map[string]string{"grant_type": "authorization_code"}, 1},
		{"bankfeed_oauth_token_errors_total", map[string]string{"grant_type": "other", "error": "invalid_grant"}, 1},
		{"bankfeed_oauth_token_errors_total", map[string]string{"grant_type": "refresh_token", "error": "other"}, 1},
		{"bankfeed_signin_attempts_total", map[string]string{"outcome": "other"}, 1},
		{"bankfeed_signin_attempts_total", map[string]string{"outcome": "rate_limited"}, 1},
		{"bankfeed_signin_attempts_total", map[string]string{"outcome": "busy"}, 1},
		{"bankfeed_export_entries_total", map[string]string{"format": "camt053"}, 3},
		{"bankfeed_export_bytes_total", map[string]string{"format": "camt053"}, 100},
		{"bankfeed_exports_total", map[string]string{"format": "other"}, 1},
		{"bankfeed_webhook_deliveries_total", map[string]string{"outcome": "other"}, 1},
		{"bankfeed_email_deliveries_total", map[string]string{"outcome": "other"}, 1},
		{"bankfeed_email_deliveries_total", map[string]string{"outcome": "delivered"}, 1},
		{"bankfeed_db_query_errors_total", map[string]string{"operation": "other"}, 1},
	} {
		if got := value(t, m, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	rec := httptest.NewRecorder()
	m.Handler(nil).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if strings.Contains(rec.Body.String(), "SECRET") {
		t.Errorf("an unbounded value reached the exposition:\n%s", rec.Body)
	}
}

// TestNilMetrics: packages hold a nil *Metrics when metrics are off; every
// helper is then a no-op and the middleware passes requests through.
func TestNilMetrics(t *testing.T) {
	var m *Metrics
	m.TokenIssued("refresh_token")
	m.TokenFailed("refresh_token", "invalid_grant")
	m.SignIn(SignInSuccess)
	m.LockedOut()
	m.ApprovalSubmitted()
	m.ApprovalDecided("approved")
	m.RateLimited()
	m.Export("csv", 1, 1)
	m.WebhookDelivery(WebhookDelivered)
	m.ObserveQuery("select", 0, false)
	if err := m.AddDBPool("x", nil); err != nil {
		t.Error(err)
	}
	if err := m.AddAdmission(func() int { return 1 }, func() int { return 2 }, func() int64 { return 3 }); err != nil {
		t.Error(err)
	}
	ts := newServer(t, m)
	res, err := http.Get(ts.URL + "/fdx/v6/accounts/a")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("status %d through a nil middleware", res.StatusCode)
	}
}

// BenchmarkMiddleware compares a data-API-like route with and without the
// middleware (go test -bench Middleware -benchmem ./metrics/).
func BenchmarkMiddleware(b *testing.B) {
	for _, bc := range []struct {
		name string
		m    *Metrics
	}{{"off", nil}, {"on", New()}} {
		b.Run(bc.name, func(b *testing.B) {
			e := echo.New()
			e.Use(bc.m.Middleware())
			e.GET("/fdx/v6/accounts/:accountId/transactions", func(c echo.Context) error { return c.NoContent(http.StatusOK) })
			req := httptest.NewRequest(http.MethodGet, "/fdx/v6/accounts/acc_1/transactions", nil)
			b.ReportAllocs()
			for b.Loop() {
				e.ServeHTTP(httptest.NewRecorder(), req)
			}
		})
	}
}

// TestAdmissionGauges: the gauges read the gate's occupancy when gathered.
func TestAdmissionGauges(t *testing.T) {
	m := New()
	active, waiting, refused := 3, 5, int64(7)
	if err := m.AddAdmission(func() int { return active }, func() int { return waiting }, func() int64 { return refused }); err != nil {
		t.Fatal(err)
	}
	if a, w := value(t, m, "bankfeed_admission_active_requests", nil), value(t, m, "bankfeed_admission_waiting_requests", nil); a != 3 || w != 5 {
		t.Errorf("gauges %v active, %v waiting; want 3 and 5", a, w)
	}
	if r := value(t, m, "bankfeed_admission_refused_requests_total", nil); r != 7 {
		t.Errorf("refused %v, want 7", r)
	}
	active, waiting = 0, 0
	if a, w := value(t, m, "bankfeed_admission_active_requests", nil), value(t, m, "bankfeed_admission_waiting_requests", nil); a != 0 || w != 0 {
		t.Errorf("gauges %v active, %v waiting after the gate emptied; want 0 and 0", a, w)
	}
}

// TestIntrospectionAdmissionGauges: introspection's own gate is exported
// beside the shared one, under names of its own, each with its own values.
func TestIntrospectionAdmissionGauges(t *testing.T) {
	m := New()
	if err := m.AddAdmission(func() int { return 1 }, func() int { return 2 }, func() int64 { return 3 }); err != nil {
		t.Fatal(err)
	}
	if err := m.AddIntrospectionAdmission(func() int { return 4 }, func() int { return 5 }, func() int64 { return 6 }); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]float64{
		"bankfeed_admission_active_requests": 1, "bankfeed_admission_waiting_requests": 2, "bankfeed_admission_refused_requests_total": 3,
		"bankfeed_introspection_admission_active_requests": 4, "bankfeed_introspection_admission_waiting_requests": 5,
		"bankfeed_introspection_admission_refused_requests_total": 6,
	} {
		if got := value(t, m, name, nil); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
}

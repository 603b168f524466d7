package main

import (
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"golang.org/x/oauth2"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"github.com/bankfeed/bankfeed/internal/syncbuf"
)

// otlpReceiver is an OTLP/HTTP collector: it decodes each export request's
// protobuf and keeps its spans.
type otlpReceiver struct {
	*httptest.Server
	mu    sync.Mutex
	spans []*tracepb.Span
}

func newOTLPReceiver(t *testing.T) *otlpReceiver {
	t.Helper()
	r := &otlpReceiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		var in collectortrace.ExportTraceServiceRequest
		if err == nil {
			err = proto.Unmarshal(body, &in)
		}
		if req.URL.Path != "/v1/traces" || req.Header.Get("Content-Type") != "application/x-protobuf" || err != nil {
			t.Errorf("OTLP export %s %s (%s): %v", req.Method, req.URL.Path, req.Header.Get("Content-Type"), err)
			http.Error(w, "bad export", http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		for _, rs := range in.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				r.spans = append(r.spans, ss.Spans...)
			}
		}
		r.mu.Unlock()
		out, _ := proto.Marshal(&collectortrace.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *otlpReceiver) all() []*tracepb.Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*tracepb.Span(nil), r.spans...)
}

// attr is a span's string attribute.
func attr(s *tracepb.Span, key string) (string, bool) {
	for _, a := range s.Attributes {
		if a.Key == key {
			return a.Value.GetStringValue(), true
		}
	}
	return "", false
}

func attrInt(s *tracepb.Span, key string) (int64, bool) {
	for _, a := range s.Attributes {
		if a.Key == key {
			return a.Value.GetIntValue(), true
		}
	}
	return 0, false
}

// TestTracingEndToEnd runs the real serve with the OTEL_* environment
// pointing at an OTLP receiver: a data API request with an incoming W3C
// traceparent is a server span of that trace, named by its route, with
// child statement spans; the token request has its fosite spans; the
// export its own span; every span of a request carries its X-Request-ID,
// the request's log lines its trace ID; and no span holds a token, a
// code, a secret, a password or a statement's bound values. The spans are
// flushed by the shutdown.
func TestTracingEndToEnd(t *testing.T) {
	recv := newOTLPReceiver(t)
	dir := migratedDir(t)
	out, stderr, err := cli(t, dir, "clients", "create", "--secret", "--name", "Ledgerly", "--redirect-uri", "http://127.0.0.1:9999/callback")
	if err != nil {
		t.Fatalf("clients create: %v\n%s", err, stderr)
	}
	vendor, _ := decodeClient(t, out)
	st := dirStore(t, dir)
	login, acct := seedSoftwareUser(t, st)
	seedDay(t, st, acct)

	addr := freeAddr(t)
	s := startServe(t, env("OTEL_TRACES_EXPORTER=otlp", "OTEL_EXPORTER_OTLP_ENDPOINT="+recv.URL, "OTEL_SERVICE_NAME=bankfeed-test"), dir,
		"--addr", addr, "--issuer", "http://"+addr)
	b := &bank{t: t, URL: s.URL, st: st}
	ctx := t.Context()

	conf := oauth2.Config{ClientID: vendor.ClientID, ClientSecret: vendor.ClientSecret, RedirectURL: "http://127.0.0.1:9999/callback",
		Scopes:   []string{"openid", "offline_access", "accounts.read", "statements.read"},
		Endpoint: oauth2.Endpoint{AuthURL: b.URL + "/oauth2/authorize", TokenURL: b.URL + "/oauth2/token", AuthStyle: oauth2.AuthStyleInHeader}}
	v := oauth2.GenerateVerifier()
	cb := b.authorize(b.browser(), conf.AuthCodeURL("trace-state", oauth2.S256ChallengeOption(v)), login, softwarePassword, "")
	code := cb.Query().Get("code")
	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(v))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}

	const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	res := get(t, s.URL+"/fdx/v6/accounts/"+acct+"/transactions?startTime=2026-11-01&endTime=2026-11-03",
		"Authorization", "Bearer "+tok.AccessToken, "X-Request-ID", "trace-page-1",
		"traceparent", "00-"+traceID+"-"+parentID+"-01")
	if body, _ := io.ReadAll(res.Body); res.StatusCode != http.StatusOK {
		t.Fatalf("transactions: %d\n%s", res.StatusCode, body)
	}
	res = get(t, s.URL+"/fdx/v6/accounts/"+acct+"/exports?format=csv&startDate=2026-11-02&endDate=2026-11-02",
		"Authorization", "Bearer "+tok.AccessToken, "X-Request-ID", "trace-export-1")
	file, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("export: %d\n%s", res.StatusCode, file)
	}
	s.Stop() // the shutdown flushes the batch
	spans := recv.all()
	if len(spans) == 0 {
		t.Fatalf("the receiver got no span; log:\n%s", s.Stderr)
	}

	byRequest := map[string][]*tracepb.Span{}
	for _, sp := range spans {
		id, _ := attr(sp, "bankfeed.request_id")
		byRequest[id] = append(byRequest[id], sp)
	}
	if n := len(byRequest[""]); n > 0 {
		for _, sp := range byRequest[""] {
			t.Errorf("span %q has no request ID", sp.Name)
		}
	}

	// The data API page: a server span of the caller's trace, its child
	// statements.
	var server *tracepb.Span
	for _, sp := range byRequest["trace-page-1"] {
		if sp.Kind == tracepb.Span_SPAN_KIND_SERVER {
			server = sp
		}
		if got := hex.EncodeToString(sp.TraceId); got != traceID {
			t.Errorf("span %q of the page has trace ID %s, want the traceparent's %s", sp.Name, got, traceID)
		}
	}
	if server == nil {
		t.Fatalf("no server span for the page; spans of the request: %v", names(byRequest["trace-page-1"]))
	}
	if want := "GET /fdx/v6/accounts/:accountId/transactions"; server.Name != want {
		t.Errorf("server span named %q, want %q", server.Name, want)
	}
	if got := hex.EncodeToString(server.ParentSpanId); got != parentID {
		t.Errorf("server span's parent %s, want the traceparent's %s", got, parentID)
	}
	if code, _ := attrInt(server, "http.response.status_code"); code != http.StatusOK {
		t.Errorf("server span's status code %d", code)
	}
	statements := 0
	for _, sp := range byRequest["trace-page-1"] {
		if sp.Kind != tracepb.Span_SPAN_KIND_CLIENT {
			continue
		}
		statements++
		if sys, _ := attr(sp, "db.system.name"); sys != "sqlite" {
			t.Errorf("statement span %q: db.system.name %q", sp.Name, sys)
		}
		if op, _ := attr(sp, "db.operation.name"); op == "" || !strings.HasPrefix(sp.Name, op) {
			t.Errorf("statement span %q: db.operation.name %q", sp.Name, op)
		}
		text, _ := attr(sp, "db.query.text")
		if text == "" {
			t.Errorf("statement span %q has no db.query.text", sp.Name)
		}
		// Bound values stay out: the account ID, the user's login and
		// the dates are arguments of the statements, never text.
		for _, bound := range []string{acct, login, "2026-11-0"} {
			if strings.Contains(text, bound) {
				t.Errorf("statement span %q holds the bound value %q: %s", sp.Name, bound, text)
			}
		}
	}
	if statements == 0 {
		t.Errorf("no statement span under the page; spans: %v", names(byRequest["trace-page-1"]))
	}
	if !strings.Contains(s.Stderr.String(), "trace_id="+traceID) {
		t.Errorf("no log line of the request names its trace:\n%s", s.Stderr)
	}

	// The export: its own span with format, entries and bytes.
	var export *tracepb.Span
	for _, sp := range byRequest["trace-export-1"] {
		if sp.Name == "export csv" {
			export = sp
		}
	}
	if export == nil {
		t.Fatalf("no export span; spans of the request: %v", names(byRequest["trace-export-1"]))
	}
	if n, _ := attrInt(export, "bankfeed.export.entries"); n != 3 {
		t.Errorf("export span: %d entries, want 3", n)
	}
	if n, _ := attrInt(export, "bankfeed.export.bytes"); n != int64(len(file)) {
		t.Errorf("export span: %d bytes, want %d", n, len(file))
	}

	// The token request: fosite's spans inside the token endpoint's,
	// named by grant type.
	var tokenSpans []string
	for _, sp := range spans {
		if route, _ := attr(sp, "http.route"); route == "/oauth2/token" {
			id, _ := attr(sp, "bankfeed.request_id")
			tokenSpans = names(byRequest[id])
		}
	}
	for _, want := range []string{"POST /oauth2/token", "oauth2.token authorization_code", "Fosite.NewAccessRequest", "Fosite.NewAccessResponse"} {
		if !slices.Contains(tokenSpans, want) {
			t.Errorf("no %q span for the token request; its spans: %v", want, tokenSpans)
		}
	}

	// Nothing secret in any attribute, event or status.
	secrets := []string{tok.AccessToken, tok.RefreshToken, code, vendor.ClientSecret, softwarePassword, "trace-state"}
	for _, sp := range spans {
		text := prototext.Format(sp)
		for _, secret := range secrets {
			if secret != "" && strings.Contains(text, secret) {
				t.Errorf("span %q holds a secret %q", sp.Name, secret)
			}
		}
	}
}

// TestTracingOff: with the OTLP endpoint set but OTEL_TRACES_EXPORTER=none
// or OTEL_SDK_DISABLED=true, requests send the receiver nothing.
func TestTracingOff(t *testing.T) {
	for _, off := range []string{"OTEL_TRACES_EXPORTER=none", "OTEL_SDK_DISABLED=true"} {
		t.Run(off, func(t *testing.T) {
			recv := newOTLPReceiver(t)
			s := startServe(t, env(off, "OTEL_EXPORTER_OTLP_ENDPOINT="+recv.URL), "")
			get(t, s.URL+"/readyz", "traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
			get(t, s.URL+"/fdx/v6/accounts", "Authorization", "Bearer nope")
			s.Stop()
			if spans := recv.all(); len(spans) != 0 {
				t.Errorf("tracing off, the receiver got %d spans: %v", len(spans), names(spans))
			}
			if strings.Contains(s.Stderr.String(), "tracing on") {
				t.Errorf("tracing on in the log:\n%s", s.Stderr)
			}
		})
	}
}

func names(spans []*tracepb.Span) []string {
	var n []string
	for _, sp := range spans {
		n = append(n, sp.Name)
	}
	return n
}

// TestTracingRefusesWhatItCannotHonour: serve stops with a message naming
// the variable instead of running without the traces it was asked for.
func TestTracingRefusesWhatItCannotHonour(t *testing.T) {
	for _, kv := range []string{"OTEL_TRACES_EXPORTER=zipkin", "OTEL_EXPORTER_OTLP_PROTOCOL=http/json", "OTEL_PROPAGATORS=b3"} {
		t.Run(kv, func(t *testing.T) {
			var out, errb syncbuf.Buffer
			a := newApp(env("OTEL_TRACES_EXPORTER=otlp", kv), &out, &errb)
			err := a.execute(t.Context(), []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", filepath.Join(t.TempDir(), "data")})
			name, _, _ := strings.Cut(kv, "=")
			if err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("serve with %s: %v; want an error naming %s", kv, err, name)
			}
		})
	}
}

package tracing

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for _, s := range kv {
		k, v, _ := strings.Cut(s, "=")
		m[k] = v
	}
	return func(k string) string { return m[k] }
}

func TestSetupOnRule(t *testing.T) {
	for _, c := range []struct {
		name     string
		env      []string
		on       bool
		endpoint string
		errText  string
	}{
		{name: "default: off", env: nil},
		{name: "exporter otlp, default endpoint", env: []string{"OTEL_TRACES_EXPORTER=otlp"}, on: true, endpoint: "http://localhost:4318/v1/traces"},
		{name: "endpoint alone", env: []string{"OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318/"}, on: true, endpoint: "http://collector:4318/v1/traces"},
		{name: "traces endpoint as given", env: []string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=https://c.example/otlp", "OTEL_EXPORTER_OTLP_ENDPOINT=http://x:1"}, on: true, endpoint: "https://c.example/otlp"},
		{name: "grpc", env: []string{"OTEL_TRACES_EXPORTER=otlp", "OTEL_EXPORTER_OTLP_PROTOCOL=grpc"}, on: true, endpoint: "http://localhost:4317"},
		{name: "grpc base endpoint unchanged", env: []string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=grpc", "OTEL_EXPORTER_OTLP_ENDPOINT=http://c:4317"}, on: true, endpoint: "http://c:4317"},
		{name: "none wins over an endpoint", env: []string{"OTEL_TRACES_EXPORTER=none", "OTEL_EXPORTER_OTLP_ENDPOINT=http://c:4318"}},
		{name: "sdk disabled", env: []string{"OTEL_SDK_DISABLED=true", "OTEL_TRACES_EXPORTER=otlp"}},
		{name: "sdk disabled false", env: []string{"OTEL_SDK_DISABLED=false", "OTEL_TRACES_EXPORTER=otlp"}, on: true, endpoint: "http://localhost:4318/v1/traces"},
		{name: "sdk disabled junk", env: []string{"OTEL_SDK_DISABLED=maybe"}, errText: "OTEL_SDK_DISABLED"},
		{name: "another exporter", env: []string{"OTEL_TRACES_EXPORTER=zipkin"}, errText: "otlp only"},
		{name: "http/json", env: []string{"OTEL_TRACES_EXPORTER=otlp", "OTEL_EXPORTER_OTLP_PROTOCOL=http/json"}, errText: "OTEL_EXPORTER_OTLP_PROTOCOL"},
		{name: "endpoint without scheme", env: []string{"OTEL_EXPORTER_OTLP_ENDPOINT=collector:4318"}, errText: "OTEL_EXPORTER_OTLP_ENDPOINT"},
		{name: "sampler", env: []string{"OTEL_TRACES_EXPORTER=otlp", "OTEL_TRACES_SAMPLER=rate"}, errText: "OTEL_TRACES_SAMPLER"},
		{name: "sampler ratio", env: []string{"OTEL_TRACES_EXPORTER=otlp", "OTEL_TRACES_SAMPLER=parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG=2"}, errText: "OTEL_TRACES_SAMPLER_ARG"},
		{name: "sampler ratio ok", env: []string{"OTEL_TRACES_EXPORTER=otlp", "OTEL_TRACES_SAMPLER=traceidratio", "OTEL_TRACES_SAMPLER_ARG=0.25"}, on: true, endpoint: "http://localhost:4318/v1/traces"},
		{name: "propagator", env: []string{"OTEL_TRACES_EXPORTER=otlp", "OTEL_PROPAGATORS=b3"}, errText: "OTEL_PROPAGATORS"},
		{name: "resource attributes", env: []string{"OTEL_TRACES_EXPORTER=otlp", "OTEL_RESOURCE_ATTRIBUTES=novalue"}, errText: "OTEL_RESOURCE_ATTRIBUTES"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr, err := Setup(t.Context(), env(c.env...), "test", nil)
			if c.errText != "" {
				if err == nil || !strings.Contains(err.Error(), c.errText) {
					t.Fatalf("err %v, want one naming %s", err, c.errText)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = tr.Shutdown(context.Background()) })
			if tr.Enabled() != c.on {
				t.Fatalf("enabled %v, want %v", tr.Enabled(), c.on)
			}
			if tr.Endpoint != c.endpoint {
				t.Errorf("endpoint %q, want %q", tr.Endpoint, c.endpoint)
			}
		})
	}
}

// TestStartWithoutSpanIsFree: outside a traced request Start changes
// nothing and allocates nothing, so tracing off costs a context lookup.
func TestStartWithoutSpanIsFree(t *testing.T) {
	ctx := WithRequestID(context.Background(), "r1")
	allocs := testing.AllocsPerRun(100, func() {
		c, span := Start(ctx, "db")
		span.End()
		if c != ctx || span.IsRecording() {
			t.Fatal("Start without a span changed the context or records")
		}
	})
	if allocs != 0 {
		t.Errorf("Start without a span allocates %v times", allocs)
	}
}

func TestLogHandler(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(LogHandler(slog.NewTextHandler(&buf, nil)))
	tid, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	ctx := trace.ContextWithSpanContext(WithRequestID(context.Background(), "req-7"),
		trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid}))

	log.InfoContext(ctx, "in a request")
	log.InfoContext(ctx, "names its own", "request_id", "req-7")
	log.Info("outside")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines:\n%s", len(lines), buf.String())
	}
	for _, want := range []string{"trace_id=4bf92f3577b34da6a3ce929d0e0e4736", "span_id=00f067aa0ba902b7", "request_id=req-7"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("line %q lacks %s", lines[0], want)
		}
	}
	if n := strings.Count(lines[1], "request_id="); n != 1 {
		t.Errorf("line %q names the request %d times", lines[1], n)
	}
	if strings.Contains(lines[2], "trace_id") || strings.Contains(lines[2], "request_id") {
		t.Errorf("a line outside a request got IDs: %q", lines[2])
	}
}

// TestRedactsErrorDebug: the debug text and details fosite's spans copy
// from an error never leave; the error's name does.
func TestRedactsErrorDebug(t *testing.T) {
	mem := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(redactingExporter{mem}), sdktrace.WithSpanProcessor(requestIDProcessor{}))
	ctx := WithRequestID(context.Background(), "req-9")
	_, span := tp.Tracer("t").Start(ctx, "Fosite.NewAccessRequest")
	span.SetAttributes(attribute.String("error", "invalid_grant"), attribute.String("error.debug", "token abc.def not found"),
		attribute.String("error.details.sig", "abc"), attribute.String("kept", "yes"))
	span.End()
	got := map[string]string{}
	for _, a := range mem.GetSpans()[0].Attributes {
		got[string(a.Key)] = a.Value.Emit()
	}
	want := map[string]string{"error": "invalid_grant", "kept": "yes", string(RequestIDKey): "req-9"}
	if len(got) != len(want) {
		t.Errorf("attributes %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}

package tracing

import (
	"context"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// instrumentation is the scope of bankfeed's own spans.
const instrumentation = "github.com/bankfeed/bankfeed"

// RequestIDKey is the span attribute holding the request's X-Request-ID,
// on every span of the request, so a trace is found from a log line or a
// client's report.
const RequestIDKey = attribute.Key("bankfeed.request_id")

// noSpan is the non-recording span Start returns when nothing is traced;
// ending it does nothing.
var noSpan = trace.SpanFromContext(context.Background())

// Recording reports whether ctx holds a span being recorded (a traced
// request): callers build attributes only then.
func Recording(ctx context.Context) bool {
	return trace.SpanFromContext(ctx).IsRecording()
}

// Start starts a span named name as a child of ctx's span, with the
// provider that started that span. Without a recording span in ctx
// (tracing off, or the request not sampled) it returns ctx unchanged and a
// span that does nothing, allocating nothing.
func Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	parent := trace.SpanFromContext(ctx)
	if !parent.IsRecording() {
		return ctx, noSpan
	}
	return parent.TracerProvider().Tracer(instrumentation).Start(ctx, name, opts...)
}

type ctxKey int

const requestIDCtx ctxKey = 0

// WithRequestID returns ctx carrying the request's ID, which every span
// started from it and every log line written with it will show.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDCtx, id)
}

// RequestID is the request ID ctx carries, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDCtx).(string)
	return id
}

// requestIDProcessor puts the request ID onto every span started in a
// request: the server span, bankfeed's own, and those of libraries (fosite)
// that start spans from the request's context.
type requestIDProcessor struct{}

func (requestIDProcessor) OnStart(parent context.Context, s sdktrace.ReadWriteSpan) {
	if id := RequestID(parent); id != "" {
		s.SetAttributes(RequestIDKey.String(id))
	}
}
func (requestIDProcessor) OnEnd(sdktrace.ReadOnlySpan)      {}
func (requestIDProcessor) Shutdown(context.Context) error   { return nil }
func (requestIDProcessor) ForceFlush(context.Context) error { return nil }

// redactingExporter drops the attributes fosite's spans copy from an
// error's debug text and details (ory/x otelx: error.debug,
// error.details.*): bankfeed puts storage errors there for its own log,
// and they may quote what a request sent. The error name stays.
type redactingExporter struct{ sdktrace.SpanExporter }

func (e redactingExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	out, copied := spans, false
	for i, s := range spans {
		attrs := s.Attributes()
		keep := attrs[:0:0]
		for _, a := range attrs {
			if !redacted(a.Key) {
				keep = append(keep, a)
			}
		}
		if len(keep) == len(attrs) {
			continue
		}
		if !copied { // the batch belongs to the SDK
			out, copied = append([]sdktrace.ReadOnlySpan(nil), spans...), true
		}
		out[i] = redactedSpan{ReadOnlySpan: s, attrs: keep}
	}
	return e.SpanExporter.ExportSpans(ctx, out)
}

func redacted(k attribute.Key) bool {
	return k == "error.debug" || strings.HasPrefix(string(k), "error.details.")
}

type redactedSpan struct {
	sdktrace.ReadOnlySpan
	attrs []attribute.KeyValue
}

func (s redactedSpan) Attributes() []attribute.KeyValue { return s.attrs }

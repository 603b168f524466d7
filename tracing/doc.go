// Package tracing is bankfeed's OpenTelemetry tracing: Setup builds the SDK
// from the standard OTEL_* environment variables (off unless they ask for
// an OTLP exporter), and Start, WithRequestID and LogHandler are what the
// other packages use to add spans, carry the request ID onto every span of
// a request and put the trace onto every log line.
//
// Packages never hold a tracer of their own: Start takes the provider of
// the span already in the context (the HTTP server span cmd starts), so a
// request that is not traced costs one context lookup and no allocation,
// and tests that run several servers in one process never share a global.
package tracing

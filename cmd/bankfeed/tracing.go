package main

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/bankfeed/bankfeed/tracing"
)

// startTracing reads the OTEL_* environment (tracing.Setup) and logs where
// spans go. stop flushes the spans still buffered: serve calls it after
// the HTTP drain, so the last requests' spans are sent before exit.
func startTracing(ctx context.Context, getenv func(string) string, logger *slog.Logger) (*tracing.Tracing, func(), error) {
	t, err := tracing.Setup(ctx, getenv, buildVersion(), logger)
	if err != nil {
		return nil, nil, err
	}
	if !t.Enabled() {
		return t, func() {}, nil
	}
	logger.InfoContext(ctx, "tracing on", "endpoint", t.Endpoint, "protocol", t.Protocol)
	return t, func() {
		// Bounded: a collector that does not answer must not hold the exit.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := t.Shutdown(sctx); err != nil {
			logger.WarnContext(ctx, "tracing: flushing spans at exit failed", "err", err)
		}
	}, nil
}

// traceRequests starts the server span of every request: a child of the
// caller's W3C traceparent when one comes, named by the method and the
// route template (never the raw path, whose IDs would make every name
// unique), with the final status. Place it after requestID (the span
// carries the ID) and outside the access log (which settles the status).
// Tracing off: nothing is added to the chain.
func traceRequests(t *tracing.Tracing) echo.MiddlewareFunc {
	if !t.Enabled() {
		return func(next echo.HandlerFunc) echo.HandlerFunc { return next }
	}
	tracer := t.Provider.Tracer("github.com/bankfeed/bankfeed/cmd/bankfeed")
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			method := spanMethod(req.Method)
			ctx := t.Propagator.Extract(req.Context(), propagation.HeaderCarrier(req.Header))
			ctx, span := tracer.Start(ctx, method, trace.WithSpanKind(trace.SpanKindServer),
				trace.WithAttributes(
					semconv.HTTPRequestMethodKey.String(method),
					semconv.URLPath(req.URL.Path), // the query string carries codes and states: never
					semconv.ClientAddress(c.RealIP()),
				))
			defer span.End()
			c.SetRequest(req.WithContext(ctx))
			if err := next(c); err != nil {
				c.Error(err) // write the status we record
			}
			if route := c.Path(); route != "" {
				span.SetName(method + " " + route)
				span.SetAttributes(semconv.HTTPRoute(route))
			}
			status := c.Response().Status
			span.SetAttributes(semconv.HTTPResponseStatusCode(status))
			if status >= 500 {
				span.SetStatus(codes.Error, http.StatusText(status))
			}
			return nil
		}
	}
}

// spanMethod bounds the method in a span name: a client may send any token.
func spanMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "_OTHER" // semantic conventions' name for an unknown method
}

package tracing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// The standard OTEL_* variables Setup reads itself. The exporter also reads
// OTEL_EXPORTER_OTLP_(TRACES_)HEADERS, _TIMEOUT, _COMPRESSION and
// _CERTIFICATE, and the batch processor OTEL_BSP_*, from the process's
// environment.
const (
	EnvSDKDisabled    = "OTEL_SDK_DISABLED"
	EnvExporter       = "OTEL_TRACES_EXPORTER"
	EnvEndpoint       = "OTEL_EXPORTER_OTLP_ENDPOINT"
	EnvTracesEndpoint = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
	EnvProtocol       = "OTEL_EXPORTER_OTLP_PROTOCOL"
	EnvTracesProtocol = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
	EnvServiceName    = "OTEL_SERVICE_NAME"
	EnvResourceAttrs  = "OTEL_RESOURCE_ATTRIBUTES"
	EnvSampler        = "OTEL_TRACES_SAMPLER"
	EnvSamplerArg     = "OTEL_TRACES_SAMPLER_ARG"
	EnvPropagators    = "OTEL_PROPAGATORS"
)

// Tracing is the process's tracing once Setup has read the environment.
// The zero value (and nil) is tracing off.
type Tracing struct {
	// Provider starts the server spans; nil when tracing is off.
	Provider trace.TracerProvider
	// Propagator reads an incoming request's trace context (W3C
	// traceparent and baggage by default).
	Propagator propagation.TextMapPropagator
	// Endpoint and Protocol say where spans go, for the startup log.
	Endpoint, Protocol string

	sdk *sdktrace.TracerProvider
}

// Enabled reports whether spans are recorded and exported.
func (t *Tracing) Enabled() bool { return t != nil && t.Provider != nil }

// Shutdown exports the spans still buffered and stops the exporter; ctx
// bounds how long a collector that does not answer may hold the exit.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t == nil || t.sdk == nil {
		return nil
	}
	if err := t.sdk.Shutdown(ctx); err != nil {
		return fmt.Errorf("tracing: shutdown: %w", err)
	}
	return nil
}

// Setup reads the OTEL_* variables through getenv. Tracing is on when
// OTEL_TRACES_EXPORTER is otlp, or when it is unset and an OTLP endpoint
// (OTEL_EXPORTER_OTLP_ENDPOINT or _TRACES_ENDPOINT) is set; it is off when
// OTEL_SDK_DISABLED is true, when OTEL_TRACES_EXPORTER is none, and by
// default. A setting bankfeed cannot honour (another exporter, http/json,
// an unknown sampler or propagator) is an error rather than silently no
// traces. logger receives the exporter's failures (a collector down).
func Setup(ctx context.Context, getenv func(string) string, version string, logger *slog.Logger) (*Tracing, error) {
	on, err := enabled(getenv)
	if err != nil || !on {
		return &Tracing{}, err
	}
	var errs []error
	prop, err := propagator(getenv(EnvPropagators))
	errs = append(errs, err)
	sampler, err := samplerFrom(getenv(EnvSampler), getenv(EnvSamplerArg))
	errs = append(errs, err)
	res, err := resourceFrom(getenv, version)
	errs = append(errs, err)
	protocol, endpoint, err := endpointFrom(getenv)
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("tracing: %w", err)
	}

	var exp sdktrace.SpanExporter
	switch protocol {
	case "grpc":
		exp, err = otlptracegrpc.New(ctx, otlptracegrpc.WithEndpointURL(endpoint))
	default:
		exp, err = otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(endpoint))
	}
	if err != nil {
		return nil, fmt.Errorf("tracing: otlp exporter (%s %s): %w", protocol, endpoint, err)
	}
	if logger != nil {
		// Process-wide in the SDK: export failures (a collector down) are
		// reported here, never by failing a request.
		otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
			logger.Warn("tracing: export failed", "err", err)
		}))
	}
	sdk := sdktrace.NewTracerProvider(
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sampler),
		sdktrace.WithSpanProcessor(requestIDProcessor{}),
		sdktrace.WithBatcher(redactingExporter{exp}),
	)
	return &Tracing{Provider: sdk, Propagator: prop, Endpoint: endpoint, Protocol: protocol, sdk: sdk}, nil
}

func enabled(getenv func(string) string) (bool, error) {
	if v := strings.TrimSpace(getenv(EnvSDKDisabled)); v != "" {
		off, err := strconv.ParseBool(v)
		if err != nil {
			return false, fmt.Errorf("tracing: %s=%q: want true or false", EnvSDKDisabled, v)
		}
		if off {
			return false, nil
		}
	}
	exporter := strings.TrimSpace(getenv(EnvExporter))
	if exporter == "" {
		return getenv(EnvEndpoint) != "" || getenv(EnvTracesEndpoint) != "", nil
	}
	on := false
	for _, e := range strings.Split(exporter, ",") {
		switch strings.TrimSpace(e) {
		case "otlp":
			on = true
		case "none":
		default:
			return false, fmt.Errorf("tracing: %s=%q: bankfeed exports traces by otlp only (or none)", EnvExporter, exporter)
		}
	}
	return on, nil
}

// endpointFrom is the exporter's protocol and full traces URL: the
// traces endpoint as given, or the base endpoint with /v1/traces for
// http/protobuf (as the OTLP specification says).
func endpointFrom(getenv func(string) string) (protocol, endpoint string, err error) {
	protocol, pname := strings.TrimSpace(getenv(EnvTracesProtocol)), EnvTracesProtocol
	if protocol == "" {
		protocol, pname = strings.TrimSpace(getenv(EnvProtocol)), EnvProtocol
	}
	switch protocol {
	case "":
		protocol = "http/protobuf"
	case "http/protobuf", "grpc":
	default:
		return "", "", fmt.Errorf("%s=%q: want http/protobuf or grpc", pname, protocol)
	}
	endpoint = strings.TrimSpace(getenv(EnvTracesEndpoint))
	name := EnvTracesEndpoint
	if endpoint == "" {
		name = EnvEndpoint
		endpoint = strings.TrimSpace(getenv(EnvEndpoint))
		switch {
		case endpoint == "" && protocol == "grpc":
			endpoint = "http://localhost:4317"
		case endpoint == "":
			endpoint = "http://localhost:4318/v1/traces"
		case protocol == "http/protobuf":
			endpoint = strings.TrimSuffix(endpoint, "/") + "/v1/traces"
		}
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", "", fmt.Errorf("%s=%q: want an http:// or https:// URL", name, endpoint)
	}
	return protocol, endpoint, nil
}

// samplerFrom is OTEL_TRACES_SAMPLER's sampler; the default follows the
// caller's decision (traceparent's sampled flag) and samples new traces.
func samplerFrom(name, arg string) (sdktrace.Sampler, error) {
	ratio := func() (float64, error) {
		if arg == "" {
			return 1, nil
		}
		f, err := strconv.ParseFloat(arg, 64)
		if err != nil || f < 0 || f > 1 {
			return 0, fmt.Errorf("%s=%q: want a ratio from 0 to 1", EnvSamplerArg, arg)
		}
		return f, nil
	}
	switch name {
	case "", "parentbased_always_on":
		return sdktrace.ParentBased(sdktrace.AlwaysSample()), nil
	case "parentbased_always_off":
		return sdktrace.ParentBased(sdktrace.NeverSample()), nil
	case "always_on":
		return sdktrace.AlwaysSample(), nil
	case "always_off":
		return sdktrace.NeverSample(), nil
	case "traceidratio", "parentbased_traceidratio":
		r, err := ratio()
		if err != nil {
			return nil, err
		}
		if name == "traceidratio" {
			return sdktrace.TraceIDRatioBased(r), nil
		}
		return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(r)), nil
	}
	return nil, fmt.Errorf("%s=%q: want always_on, always_off, traceidratio or their parentbased_ forms", EnvSampler, name)
}

// propagator is OTEL_PROPAGATORS' composite: W3C tracecontext and
// baggage by default; none reads no incoming context.
func propagator(v string) (propagation.TextMapPropagator, error) {
	if strings.TrimSpace(v) == "" {
		v = "tracecontext,baggage"
	}
	var ps []propagation.TextMapPropagator
	for _, p := range strings.Split(v, ",") {
		switch strings.TrimSpace(p) {
		case "tracecontext":
			ps = append(ps, propagation.TraceContext{})
		case "baggage":
			ps = append(ps, propagation.Baggage{})
		case "none":
		default:
			return nil, fmt.Errorf("%s=%q: want tracecontext, baggage or none", EnvPropagators, v)
		}
	}
	return propagation.NewCompositeTextMapPropagator(ps...), nil
}

// resourceFrom names the service: OTEL_SERVICE_NAME (default bankfeed),
// the build's version and OTEL_RESOURCE_ATTRIBUTES' key=value pairs.
func resourceFrom(getenv func(string) string, version string) (*resource.Resource, error) {
	var attrs []attribute.KeyValue
	if v := strings.TrimSpace(getenv(EnvResourceAttrs)); v != "" {
		for _, kv := range strings.Split(v, ",") {
			k, val, ok := strings.Cut(kv, "=")
			k = strings.TrimSpace(k)
			if !ok || k == "" {
				return nil, fmt.Errorf("%s: %q is not key=value", EnvResourceAttrs, kv)
			}
			if dec, err := url.PathUnescape(strings.TrimSpace(val)); err == nil {
				val = dec
			}
			attrs = append(attrs, attribute.String(k, val))
		}
	}
	name := strings.TrimSpace(getenv(EnvServiceName))
	if name == "" {
		name = "bankfeed"
	}
	// The service name and version win over the same keys in
	// OTEL_RESOURCE_ATTRIBUTES, as the specification orders them.
	attrs = append(attrs, semconv.ServiceName(name), semconv.ServiceVersion(version))
	return resource.NewWithAttributes(semconv.SchemaURL, attrs...), nil
}

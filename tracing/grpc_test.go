package tracing

import (
	"context"
	"net"
	"sync"
	"testing"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
)

// grpcCollector is an OTLP/gRPC trace receiver keeping span names.
type grpcCollector struct {
	collectortrace.UnimplementedTraceServiceServer
	mu    sync.Mutex
	names []string
}

func (c *grpcCollector) Export(_ context.Context, req *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				c.names = append(c.names, s.Name)
			}
		}
	}
	return &collectortrace.ExportTraceServiceResponse{}, nil
}

// TestGRPCExport: OTEL_EXPORTER_OTLP_PROTOCOL=grpc sends the spans to an
// OTLP/gRPC collector (plaintext for an http:// endpoint), flushed by
// Shutdown.
func TestGRPCExport(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	col := &grpcCollector{}
	srv := grpc.NewServer()
	collectortrace.RegisterTraceServiceServer(srv, col)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)

	tr, err := Setup(t.Context(), env("OTEL_EXPORTER_OTLP_PROTOCOL=grpc", "OTEL_EXPORTER_OTLP_ENDPOINT=http://"+ln.Addr().String()), "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !tr.Enabled() || tr.Protocol != "grpc" {
		t.Fatalf("enabled %v, protocol %q", tr.Enabled(), tr.Protocol)
	}
	_, span := tr.Provider.Tracer("test").Start(t.Context(), "over grpc")
	span.End()
	if err := tr.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	col.mu.Lock()
	defer col.mu.Unlock()
	if len(col.names) != 1 || col.names[0] != "over grpc" {
		t.Errorf("the collector got %v", col.names)
	}
}

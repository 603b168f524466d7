package gormstore_test

import (
	"context"
	"os"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/store/gormstore/gormtest"
)

// TestStatementSpans: inside a traced request every statement is a client
// span of it — gorm's and, on PostgreSQL, the pgx read path's — with the
// database system, the operation and the SQL text with placeholders, never
// a bound value; outside one, no span at all.
func TestStatementSpans(t *testing.T) {
	st := gormtest.OpenStore(t, "tracing")
	mem := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(mem))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })

	// Outside a traced request: nothing.
	if _, err := st.CreateBusinessGroup(t.Context(), store.BusinessGroup{ID: "bg_untraced", Name: "Untraced Ltd"}); err != nil {
		t.Fatal(err)
	}
	if n := len(mem.GetSpans()); n != 0 {
		t.Fatalf("%d spans outside a traced request", n)
	}

	ctx, request := tp.Tracer("test").Start(t.Context(), "request", trace.WithSpanKind(trace.SpanKindServer))
	const secretName = "Zebra Quartz Ltd" // a bound value: must not reach a span
	if _, err := st.CreateBusinessGroup(ctx, store.BusinessGroup{ID: "bg_traced", Name: secretName}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.GetBusinessGroup(ctx, "bg_traced"); err != nil {
		t.Fatal(err)
	}
	// GetToken reads through query: pgx's own path on PostgreSQL.
	if _, err := st.GetToken(ctx, store.TokenKind("access_token"), "sig-bound-value"); err == nil {
		t.Fatal("a token that does not exist was found")
	}
	request.End()

	system := "sqlite"
	if os.Getenv(gormtest.PostgresEnv) != "" {
		system = "postgresql"
	}
	ops := map[string]int{}
	for _, sp := range mem.GetSpans() {
		if sp.Name == "request" {
			continue
		}
		if sp.Parent.SpanID() != request.SpanContext().SpanID() || sp.SpanKind != trace.SpanKindClient {
			t.Errorf("span %q is not a client child of the request", sp.Name)
		}
		attrs := map[string]string{}
		for _, a := range sp.Attributes {
			attrs[string(a.Key)] = a.Value.Emit()
		}
		if attrs["db.system.name"] != system {
			t.Errorf("span %q: db.system.name %q, want %s", sp.Name, attrs["db.system.name"], system)
		}
		op := attrs["db.operation.name"]
		ops[op]++
		if !strings.HasPrefix(sp.Name, op) || attrs["db.query.text"] == "" {
			t.Errorf("span %q: operation %q, text %q", sp.Name, op, attrs["db.query.text"])
		}
		for k, v := range attrs {
			for _, bound := range []string{secretName, "bg_traced", "sig-bound-value"} {
				if strings.Contains(v, bound) {
					t.Errorf("span %q: %s holds the bound value %q: %s", sp.Name, k, bound, v)
				}
			}
		}
	}
	if ops["INSERT"] == 0 || ops["SELECT"] < 2 {
		t.Errorf("statement spans by operation: %v; want the insert and both reads", ops)
	}
}

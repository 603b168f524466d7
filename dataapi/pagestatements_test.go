package dataapi_test

import (
	"context"
	"net/http"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// maxPageStatements bounds the SQL statements of one first page of
// transactions once the consent's use was recorded this minute, on SQLite
// and PostgreSQL alike: the token record read with every record its grant
// is judged on (consent, user, assignment, job role, account group, the
// account's membership, the account) and the snapshot's sequence, then the
// page. A regression guard: each statement is a round trip to the database
// (issue 15).
const maxPageStatements = 2

// TestPageStatements counts the statements of a first page of transactions
// on the test's database (SQLite, and PostgreSQL with
// BANKFEED_TEST_POSTGRES_DSN): each statement of a traced request is a span
// holding its SQL text, listed with -v or when the bound is passed.
func TestPageStatements(t *testing.T) {
	mem := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(mem))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	e := newEnv(t, envOptions{handler: func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, sp := tp.Tracer("test").Start(r.Context(), r.Method+" "+r.URL.Path, trace.WithSpanKind(trace.SpanKindServer))
			defer sp.End()
			h.ServeHTTP(w, r.WithContext(ctx))
		})
	}})
	tok := e.token(t)
	path := base + "/accounts/" + e.f.chq + "/transactions?limit=100"
	// The first call also records the consent's use (once a minute).
	if r := e.get(t, tok, path); r.status != http.StatusOK {
		t.Fatalf("first page: %d %s", r.status, r.body)
	}
	mem.Reset()
	r := e.get(t, tok, path)
	if r.status != http.StatusOK {
		t.Fatalf("first page: %d %s", r.status, r.body)
	}
	var p txPage
	r.json(t, &p)
	if len(p.Transactions) == 0 {
		t.Fatal("the page holds no transaction: nothing was read")
	}
	var texts []string
	for _, sp := range mem.GetSpans() {
		for _, a := range sp.Attributes {
			if a.Key == "db.query.text" && sp.SpanKind == trace.SpanKindClient {
				texts = append(texts, a.Value.AsString())
			}
		}
	}
	t.Logf("a first page: %d statements", len(texts))
	if len(texts) > maxPageStatements || testing.Verbose() {
		for _, x := range texts {
			t.Logf("a first page: %s", x)
		}
	}
	if len(texts) > maxPageStatements {
		t.Errorf("a first page ran %d statements, at most %d expected", len(texts), maxPageStatements)
	}
}

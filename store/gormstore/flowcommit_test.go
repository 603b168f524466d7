package gormstore

import (
	"context"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/bankfeed/bankfeed/store"
)

// testFlowCommit (PostgreSQL; the store's connections default to
// synchronous_commit on, and its pool holds one connection): a flow's
// write that is its own transaction commits without waiting for the disk,
// for that transaction only, and one in a caller's transaction leaves that
// transaction durable.
func testFlowCommit(t *testing.T, s *Store) {
	if s.dialect != dialectPostgres {
		t.Skip("PostgreSQL only: SQLite has no synchronous_commit")
	}
	// Every statement of a traced request is a span holding its text.
	mem := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(mem))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	ctx, request := tp.Tracer("test").Start(t.Context(), "request", trace.WithSpanKind(trace.SpanKindServer))
	defer request.End()
	// written returns the statements since the last call that wrote auth_flows.
	written := func() []string {
		var w []string
		for _, sp := range mem.GetSpans() {
			for _, a := range sp.Attributes {
				if x := a.Value.Emit(); a.Key == "db.query.text" &&
					(strings.Contains(x, "INSERT INTO auth_flows") || strings.Contains(x, "UPDATE auth_flows")) {
					w = append(w, x)
				}
			}
		}
		mem.Reset()
		return w
	}
	setting := func(ctx context.Context) string {
		t.Helper()
		var v string
		if err := s.read(ctx).Raw("SELECT current_setting('synchronous_commit')").Scan(&v).Error; err != nil {
			t.Fatal(err)
		}
		return v
	}
	if v := setting(ctx); v != "on" {
		t.Fatalf("the store's connection has synchronous_commit %q, want on (the test's DSN sets it)", v)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	flow := func() store.AuthFlow {
		return store.AuthFlow{ID: store.RandomToken(24), ClientID: "vendor", RequestedScopes: []string{"openid"}, Request: []byte("form"),
			State: store.FlowConsent, UserID: "usr_1", AuthTime: now, ExpiresAt: now.Add(10 * time.Minute)}
	}
	ids := []string{"acc_1", "acc_2"}

	// Its own transaction: created, then moved.
	f, _, _, err := s.CreateAuthFlowAccounts(ctx, flow(), "bg_1", ids)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := s.UpdateReadAuthFlowAccounts(ctx, f, func(x store.AuthFlow) (store.AuthFlow, error) {
		x.CSRFToken = "moved"
		return x, nil
	}, "bg_1", ids); err != nil {
		t.Fatal(err)
	}
	w := written()
	if len(w) != 2 {
		t.Fatalf("%d statements wrote the flow, want 2: %q", len(w), w)
	}
	for _, x := range w {
		if !strings.Contains(x, flowCommitCTE) {
			t.Errorf("a flow's write in its own transaction waits for the disk: %s", x)
		}
	}
	// For that transaction only: the connection, the pool's only one, is
	// back to its own setting for the statements after it.
	if v := setting(ctx); v != "on" {
		t.Errorf("after a flow's write, the connection's synchronous_commit is %q, want on", v)
	}
	if got, err := s.GetAuthFlow(ctx, f.ID); err != nil || got.CSRFToken != "moved" {
		t.Errorf("the flow as read back: %+v, %v", got, err)
	}

	// In a caller's transaction: the transaction stays durable.
	err = s.InTx(ctx, func(ctx context.Context) error {
		if _, _, _, err := s.CreateAuthFlowAccounts(ctx, flow(), "bg_1", ids); err != nil {
			return err
		}
		if v := setting(ctx); v != "on" {
			t.Errorf("a flow's write in a caller's transaction set its synchronous_commit to %q", v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range written() {
		if strings.Contains(x, flowCommitCTE) {
			t.Errorf("a flow's write in a caller's transaction commits without waiting for the disk: %s", x)
		}
	}
}

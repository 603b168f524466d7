package gormstore_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/store/gormstore"
	"github.com/bankfeed/bankfeed/store/gormstore/gormtest"
)

// TestGrantReadsBatchOnPostgres: token grant reads (GetTokenGrant,
// GetTokenGrantState) made while the pool is busy are answered by one
// statement, each with exactly what a lone read in a transaction (which
// never batches) finds for its key: its own kind and signature, its own
// consent and user, ErrNotFound for a key it does not hold; a key of bad
// text is refused alone, failing no one else's read. Each read of a traced
// request is a client span of that request holding the batch's statement.
func TestGrantReadsBatchOnPostgres(t *testing.T) {
	dsn := gormtest.PostgresSchema(t, gormtest.PostgresDSN(t, "bankfeed_test"))
	st := gormtest.Open(t, "", gormstore.Config{DSN: dsn, MaxOpenConns: 1})
	var selects atomic.Int64
	if err := st.Instrument(func(op string, _ time.Duration, _ bool) {
		if op == "select" {
			selects.Add(1)
		}
	}); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Microsecond)
	var keys []store.TokenKey
	for i := range 12 {
		c, err := st.CreateConsent(ctx, store.Consent{ID: store.NewID("cns"), UserID: fmt.Sprint("usr_", i), ClientID: "vendor",
			Scopes: []string{"accounts.read"}, GrantedAt: now})
		if err != nil {
			t.Fatal(err)
		}
		sig := fmt.Sprint("sig_", i)
		// An access and a refresh token of one signature: the kind tells
		// them apart.
		for _, kind := range []store.TokenKind{store.TokenAccess, store.TokenRefresh} {
			if err := st.CreateToken(ctx, store.TokenRecord{Kind: kind, Signature: sig, RequestID: c.ID, ClientID: "vendor",
				Subject: c.UserID, Active: i%3 != 0, RequestedAt: now, ExpiresAt: now.Add(time.Duration(i+1) * time.Minute),
				Request: []byte(fmt.Sprint("sealed ", kind, i))}); err != nil {
				t.Fatal(err)
			}
			keys = append(keys, store.TokenKey{Kind: kind, Signature: sig})
		}
	}
	keys = append(keys, store.TokenKey{Kind: store.TokenAccess, Signature: "sig_missing"}, keys[3], keys[3],
		store.TokenKey{Kind: store.TokenAuthorizeCode, Signature: "sig_1"})
	const badText = "sig_\x00"

	type answer struct {
		rec store.TokenRecord
		acc store.Access
		err error
	}
	read := func(ctx context.Context, state bool, k store.TokenKey) answer {
		var a answer
		if state {
			a.rec, a.acc, a.err = st.GetTokenGrantState(ctx, k.Kind, k.Signature)
		} else {
			a.rec, a.acc, a.err = st.GetTokenGrant(ctx, k.Kind, k.Signature)
		}
		return a
	}
	for _, state := range []bool{false, true} {
		// The pool's one connection is held, so the first reads wait for
		// it in their batches and the others queue behind them.
		held, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
		go func() {
			done <- st.InTx(ctx, func(context.Context) error { close(held); <-release; return nil })
		}()
		<-held
		selects.Store(0)
		mem := tracetest.NewInMemoryExporter()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(mem))
		got := make([]answer, len(keys))
		requests := make([]trace.Span, len(keys))
		var wg sync.WaitGroup
		for i, k := range keys {
			ctx, request := tp.Tracer("test").Start(ctx, "request", trace.WithSpanKind(trace.SpanKindServer))
			requests[i] = request
			wg.Go(func() { got[i] = read(ctx, state, k); request.End() })
		}
		if _, _, err := st.GetTokenGrant(ctx, store.TokenAccess, badText); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("a key of bad text: %v, want ErrInvalid at once", err)
		}
		queued := len(keys) - gormstore.GrantBatchSlots
		for deadline := time.Now().Add(10 * time.Second); gormstore.GrantReadsQueued(st) < queued; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%d reads queued, want %d", gormstore.GrantReadsQueued(st), queued)
			}
		}
		close(release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		if n, want := selects.Load(), int64(gormstore.GrantBatchSlots+1); n != want {
			t.Errorf("state %v: %d reads took %d statements, want %d (those first alone, then one batch)", state, len(keys), n, want)
		}
		statements := map[trace.SpanID][]string{}
		for _, sp := range mem.GetSpans() {
			if sp.SpanKind == trace.SpanKindClient {
				for _, a := range sp.Attributes {
					if a.Key == "db.query.text" {
						statements[sp.Parent.SpanID()] = append(statements[sp.Parent.SpanID()], a.Value.AsString())
					}
				}
			}
		}
		for i, r := range requests {
			if sts := statements[r.SpanContext().SpanID()]; len(sts) != 1 || !strings.Contains(sts[0], "FROM (VALUES (") {
				t.Errorf("state %v, read %d: the request's statement spans hold %q, want the batch's one", state, i, sts)
			}
		}
		_ = tp.Shutdown(ctx)
		for i, k := range keys {
			var want answer
			if err := st.InTx(ctx, func(ctx context.Context) error { want = read(ctx, state, k); return nil }); err != nil {
				t.Fatal(err)
			}
			if errors.Is(want.err, store.ErrNotFound) != errors.Is(got[i].err, store.ErrNotFound) ||
				(want.err == nil) != (got[i].err == nil) || !reflect.DeepEqual(want.rec, got[i].rec) || !reflect.DeepEqual(want.acc, got[i].acc) {
				t.Errorf("state %v, read %d (%v): batched %+v\nalone %+v", state, i, k, got[i], want)
			}
			if want.err == nil && (want.rec.Kind != k.Kind || want.rec.Signature != k.Signature || want.acc.Consent.ID != want.rec.RequestID) {
				t.Errorf("read %d (%v): the lone read found %+v, the fixture is wrong", i, k, want)
			}
		}
	}
}

// TestGrantBatchPlans (PostgreSQL): the batch statements move to a generic
// plan (testGrantBatchPlans).
func TestGrantBatchPlans(t *testing.T) {
	gormstore.RunGrantBatchPlanTest(t, newPostgres(t))
}

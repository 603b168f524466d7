package gormstore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"gorm.io/gorm"

	"github.com/bankfeed/bankfeed/tracing"
)

// traceStatements adds statementTracer to the writer and the readers.
func (s *Store) traceStatements() error {
	system := semconv.DBSystemNameSQLite
	if s.dialect == dialectPostgres {
		system = semconv.DBSystemNamePostgreSQL
	}
	dbs := []*gorm.DB{s.w}
	if s.r != s.w {
		dbs = append(dbs, s.r)
	}
	for _, db := range dbs {
		if err := db.Use(statementTracer{system: system}); err != nil {
			return fmt.Errorf("gormstore: trace statements: %w", err)
		}
	}
	return nil
}

// statementTracer is a gorm plugin: one client span per statement run in a
// traced request (a recording span in the statement's context); otherwise
// it costs one context lookup. The span holds the SQL text with its
// placeholders, never the bound values.
type statementTracer struct{ system attribute.KeyValue }

func (statementTracer) Name() string { return "bankfeed:statement_tracer" }

const spanKey = "bankfeed:statement_span"

func (p statementTracer) Initialize(db *gorm.DB) error {
	return aroundStatements(db, "bankfeed:span", func(db *gorm.DB) {
		ctx := db.Statement.Context
		if ctx == nil || !tracing.Recording(ctx) {
			return
		}
		_, span := tracing.Start(ctx, "db", trace.WithSpanKind(trace.SpanKindClient))
		db.InstanceSet(spanKey, span)
	}, func(db *gorm.DB, op string) {
		ctx := db.Statement.Context
		if ctx == nil || !tracing.Recording(ctx) {
			return
		}
		v, _ := db.InstanceGet(spanKey)
		if span, ok := v.(trace.Span); ok {
			p.end(span, db, op)
		}
	})
}

// end names the span after the statement ("SELECT accounts") and ends it.
func (p statementTracer) end(span trace.Span, db *gorm.DB, op string) {
	text := db.Statement.SQL.String()
	if op == "" {
		op = sqlVerb(text)
	}
	op = strings.ToUpper(op)
	name := op
	attrs := []attribute.KeyValue{p.system, semconv.DBOperationName(op), semconv.DBQueryText(text)}
	if t := db.Statement.Table; t != "" {
		name += " " + t
		attrs = append(attrs, semconv.DBCollectionName(t))
	}
	span.SetName(name)
	if failed(db.Error) {
		// The error's text may quote values (PostgreSQL's key details):
		// only its class is recorded; the log has the rest.
		attrs = append(attrs, semconv.ErrorTypeKey.String(errorType(db.Error)))
		span.SetStatus(codes.Error, "statement failed")
	}
	span.SetAttributes(attrs...)
	span.End()
}

// errorType is a failed statement's SQLSTATE on PostgreSQL, or _OTHER.
func errorType(err error) string {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code
	}
	return "_OTHER"
}

// noQuerySpan is traceQuery's answer outside a traced request.
var noQuerySpan = func(*error) {}

// traceQuery starts the span of a statement (op its SQL verb) that
// bypasses gorm's callbacks (Store.direct); the returned func ends it with
// the statement's error. Outside a traced request it costs one context
// lookup.
func traceQuery(ctx context.Context, op, text string) func(*error) {
	if !tracing.Recording(ctx) {
		return noQuerySpan
	}
	op = strings.ToUpper(op)
	_, span := tracing.Start(ctx, op, trace.WithSpanKind(trace.SpanKindClient))
	return func(err *error) {
		attrs := []attribute.KeyValue{semconv.DBSystemNamePostgreSQL, semconv.DBOperationName(op),
			semconv.DBQueryText(dollarPlaceholders(text))}
		if *err != nil {
			attrs = append(attrs, semconv.ErrorTypeKey.String(errorType(*err)))
			span.SetStatus(codes.Error, "statement failed")
		}
		span.SetAttributes(attrs...)
		span.End()
	}
}

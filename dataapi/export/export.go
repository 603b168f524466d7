package export

import (
	"context"
	"fmt"
	"io"

	"github.com/bankfeed/bankfeed/dataapi/export/bai2"
	"github.com/bankfeed/bankfeed/dataapi/export/camt"
	"github.com/bankfeed/bankfeed/dataapi/export/csv"
	exportjson "github.com/bankfeed/bankfeed/dataapi/export/json"
	"github.com/bankfeed/bankfeed/dataapi/export/mt940"
	"github.com/bankfeed/bankfeed/dataapi/export/ofx"
	"github.com/bankfeed/bankfeed/dataapi/export/pdf"
	"github.com/bankfeed/bankfeed/dataapi/export/statement"
	"github.com/bankfeed/bankfeed/store"
)

// The model, re-exported so callers need only this package.
type (
	Document       = statement.Document
	Bank           = statement.Bank
	Kind           = statement.Kind
	Expected       = statement.Expected
	EntryFunc      = statement.EntryFunc
	ReconcileError = statement.ReconcileError
	TooLargeError  = statement.TooLargeError
)

// Document kinds.
const (
	KindStatement = statement.KindStatement
	KindRange     = statement.KindRange
	KindIntraday  = statement.KindIntraday
)

// ErrInvalidDocument marks a malformed Document (a caller bug, not data).
var ErrInvalidDocument = statement.ErrInvalidDocument

// Prove streams d's posted entries once and checks them as Write does
// before its first byte, for a caller that renders the entries itself (the
// API's JSON statement): the error is a *ReconcileError, wraps
// ErrInvalidDocument, or is the entry stream's own.
func Prove(ctx context.Context, d Document) error {
	_, err := statement.Prove(ctx, &d, false)
	return err
}

// Write renders d in format f onto w, streaming.
//
// It first streams the entries once to prove the balances (opening + Σ
// posted entries = closing, the stored statement's counts and sums, order,
// period, running balances) and writes nothing if that fails: the error is
// a *ReconcileError (answer 500 naming the statement), a *TooLargeError
// (the PDF limit: answer 400) or wraps ErrInvalidDocument. Only then does it
// stream them again into the writer, checking that the second pass matches
// the first; an error after that point means w holds a partial file, so
// the caller must abort the response rather than end it normally.
func Write(ctx context.Context, w io.Writer, f Format, d Document) error {
	if f.write == nil {
		return fmt.Errorf("export: unknown format %q", f.Name)
	}
	t, err := statement.Prove(ctx, &d, f.Pending)
	if err != nil {
		return err
	}
	if f.MaxEntries > 0 && t.Count+t.PendingCount > f.MaxEntries {
		return &TooLargeError{Format: f.Name, Entries: t.Count + t.PendingCount, Limit: f.MaxEntries}
	}
	// The second pass must see what the proof saw (a snapshot read); count
	// again so a store that changed underneath is caught, not written.
	entries := d.Entries
	var count int
	var net int64
	d.Entries = func(ctx context.Context, yield func(store.Transaction) error) error {
		return entries(ctx, func(tx store.Transaction) error {
			if tx.Status == store.Posted {
				count++
				c, _ := statement.Cents(tx.Amount)
				if tx.Direction == store.Debit {
					c = -c
				}
				net += c
			}
			return yield(tx)
		})
	}
	if err := f.write(ctx, w, &d, t); err != nil {
		return fmt.Errorf("export %s of %s: %w", f.Name, d.StatementID, err)
	}
	if count != t.Count || net != t.Net() {
		return &ReconcileError{StatementID: d.StatementID, AccountID: d.Account.ID,
			Reason:  "entries changed between the proof and the writing pass (read without a snapshot?)",
			Opening: d.OpeningLedger, Closing: d.ClosingLedger, Computed: statement.FromCents(t.Opening + net)}
	}
	return nil
}

type writeFunc func(ctx context.Context, w io.Writer, d *statement.Document, t statement.Totals) error

func camtWriter(m camt.Message) writeFunc {
	return func(ctx context.Context, w io.Writer, d *statement.Document, t statement.Totals) error {
		return camt.Write(ctx, w, d, t, m)
	}
}

func csvWriter(p csv.Profile) writeFunc {
	return func(ctx context.Context, w io.Writer, d *statement.Document, t statement.Totals) error {
		return csv.Write(ctx, w, d, t, p)
	}
}

func ofxWriter(dl ofx.Dialect) writeFunc {
	return func(ctx context.Context, w io.Writer, d *statement.Document, t statement.Totals) error {
		return ofx.Write(ctx, w, d, t, dl)
	}
}

func pdfWriter(ctx context.Context, w io.Writer, d *statement.Document, t statement.Totals) error {
	return pdf.Write(ctx, w, d, t, pdf.Options{})
}

var (
	_ writeFunc = bai2.Write
	_ writeFunc = mt940.Write
	_ writeFunc = exportjson.Write
)

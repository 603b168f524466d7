// Package importer loads the core system's transactions from files (JSON
// lines or CSV) through the same rules as POST /ops/v1/transactions
// (ops/feed): idempotent by (accountId, externalId), so a file can be
// imported again safely.
//
// A bad row stops nothing else: it is reported with its line number, and
// because rows are posted in all-or-nothing batches that are retried
// without the bad row, nothing of it is written. It reports progress
// through a callback (the CLI draws the bar) and returns a summary.
//
// It writes only through store.Store; it must not import net/http, echo or
// other project packages.
package importer

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/bankfeed/bankfeed/ops/feed"
	"github.com/bankfeed/bankfeed/store"
)

// Format is a file format.
type Format int

const (
	// FormatAuto picks by file extension (.csv → CSV, anything else → JSON lines).
	FormatAuto Format = iota
	// FormatJSONLines is one feed.Transaction JSON object per line.
	FormatJSONLines
	// FormatCSV has a header row naming the columns (see Columns).
	FormatCSV
)

// Columns are the CSV header names understood (order free; accountId,
// externalId, status, amount and debitCreditMemo are required).
var Columns = []string{
	"accountId", "externalId", "status", "transactionTimestamp", "postedTimestamp", "businessDate", "valueDate",
	"amount", "debitCreditMemo", "description", "memo", "payee", "counterparty", "checkNumber", "bankReference",
	"customerReference", "baiCode", "isoDomain", "isoFamily", "isoSubFamily", "runningBalance", "pendingExternalId",
}

// Options tune an import; the zero value works.
type Options struct {
	Format    Format
	BatchSize int // rows per all-or-nothing batch; default 500
	// Progress, if set, is called after each batch (and at the end).
	Progress func(Progress)
}

// Progress is how far an import got.
type Progress struct {
	Lines      int   // lines read so far (header included)
	Created    int   // rows stored
	Replayed   int   // rows already stored (unchanged)
	Failed     int   // rows refused
	BytesRead  int64 // input consumed
	TotalBytes int64 // input size, 0 if unknown
}

// RowError is one refused row.
type RowError struct {
	Line    int    `json:"line"` // 1-based line of the file
	Message string `json:"message"`
}

func (e RowError) String() string { return fmt.Sprintf("line %d: %s", e.Line, e.Message) }

// Summary is the outcome of an import.
type Summary struct {
	Lines    int
	Created  int
	Replayed int
	Failed   int
	Errors   []RowError // every refused row, in line order
	Duration time.Duration
}

// ImportFile imports path, choosing the format by extension unless opts
// says otherwise.
func ImportFile(ctx context.Context, st store.Store, path string, opts Options) (Summary, error) {
	f, err := os.Open(path)
	if err != nil {
		return Summary{}, fmt.Errorf("importer: %w", err)
	}
	defer f.Close()
	if opts.Format == FormatAuto {
		opts.Format = FormatJSONLines
		if strings.EqualFold(filepath.Ext(path), ".csv") {
			opts.Format = FormatCSV
		}
	}
	var total int64
	if fi, err := f.Stat(); err == nil {
		total = fi.Size()
	}
	return importReader(ctx, st, f, total, opts)
}

// Import reads r (JSON lines unless opts.Format is FormatCSV).
func Import(ctx context.Context, st store.Store, r io.Reader, opts Options) (Summary, error) {
	return importReader(ctx, st, r, 0, opts)
}

type row struct {
	line int
	tx   feed.Transaction
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

type run struct {
	ctx   context.Context
	st    store.Store
	opts  Options
	cr    *countingReader
	total int64
	sum   Summary
	batch []row
}

func importReader(ctx context.Context, st store.Store, r io.Reader, total int64, opts Options) (Summary, error) {
	start := time.Now()
	if opts.BatchSize <= 0 {
		opts.BatchSize = 500
	}
	if opts.BatchSize > feed.MaxBatch {
		opts.BatchSize = feed.MaxBatch
	}
	ru := &run{ctx: ctx, st: st, opts: opts, cr: &countingReader{r: r}, total: total}
	var err error
	if opts.Format == FormatCSV {
		err = ru.readCSV()
	} else {
		err = ru.readJSONLines()
	}
	if err == nil {
		err = ru.flush()
	}
	ru.sum.Duration = time.Since(start)
	ru.progress()
	return ru.sum, err
}

func (ru *run) fail(line int, msg string) {
	ru.sum.Failed++
	ru.sum.Errors = append(ru.sum.Errors, RowError{Line: line, Message: msg})
}

func (ru *run) add(r row) error {
	// Check the row alone first, so a malformed one never costs a batch retry.
	if _, err := r.tx.ToStore(); err != nil {
		ru.fail(r.line, err.Error())
		return nil
	}
	ru.batch = append(ru.batch, r)
	if len(ru.batch) >= ru.opts.BatchSize {
		return ru.flush()
	}
	return nil
}

func (ru *run) progress() {
	if ru.opts.Progress != nil {
		ru.opts.Progress(Progress{Lines: ru.sum.Lines, Created: ru.sum.Created, Replayed: ru.sum.Replayed,
			Failed: ru.sum.Failed, BytesRead: ru.cr.n, TotalBytes: ru.total})
	}
}

// flush posts the batch; a bad row is reported and the batch retried
// without it (the failed attempt rolled back entirely).
func (ru *run) flush() error {
	for len(ru.batch) > 0 {
		if err := ru.ctx.Err(); err != nil {
			return fmt.Errorf("importer: %w", err)
		}
		txs := make([]feed.Transaction, len(ru.batch))
		for i, r := range ru.batch {
			txs[i] = r.tx
		}
		res, err := feed.Post(ru.ctx, ru.st, txs)
		var re *feed.RowError
		switch {
		case err == nil:
			ru.sum.Created += res.Created
			ru.sum.Replayed += res.Replayed
			ru.batch = ru.batch[:0]
		case errors.As(err, &re) && re.Index >= 0 && re.Index < len(ru.batch) && isRowProblem(re.Err):
			ru.fail(ru.batch[re.Index].line, re.Err.Error())
			ru.batch = append(ru.batch[:re.Index], ru.batch[re.Index+1:]...)
			continue
		default:
			return fmt.Errorf("importer: post batch: %w", err)
		}
	}
	sortErrors(ru.sum.Errors)
	ru.progress()
	return nil
}

// isRowProblem: the row's own fault (bad input or a state it conflicts
// with), as opposed to a failing database.
func isRowProblem(err error) bool {
	return errors.Is(err, store.ErrInvalid) || errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound)
}

func sortErrors(es []RowError) {
	for i := 1; i < len(es); i++ {
		for j := i; j > 0 && es[j].Line < es[j-1].Line; j-- {
			es[j], es[j-1] = es[j-1], es[j]
		}
	}
}

// maxLine bounds one JSON line (a transaction is a few hundred bytes).
const maxLine = 1 << 20

func (ru *run) readJSONLines() error {
	sc := bufio.NewScanner(ru.cr)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	for sc.Scan() {
		ru.sum.Lines++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var t feed.Transaction
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&t); err != nil {
			ru.fail(ru.sum.Lines, "malformed JSON: "+err.Error())
			continue
		}
		if dec.More() {
			ru.fail(ru.sum.Lines, "more than one JSON value on the line")
			continue
		}
		if err := ru.add(row{line: ru.sum.Lines, tx: t}); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("importer: line %d: %w", ru.sum.Lines+1, err)
	}
	return nil
}

func (ru *run) readCSV() error {
	cr := csv.NewReader(ru.cr)
	cr.FieldsPerRecord = 0
	cr.ReuseRecord = false
	header, err := cr.Read()
	if err != nil {
		return fmt.Errorf("importer: read CSV header: %w", err)
	}
	ru.sum.Lines = 1
	idx := map[string]int{}
	known := map[string]bool{}
	for _, c := range Columns {
		known[strings.ToLower(c)] = true
	}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if !known[h] {
			return fmt.Errorf("importer: CSV header: unknown column %q (known: %s)", header[i], strings.Join(Columns, ", "))
		}
		if _, dup := idx[h]; dup {
			return fmt.Errorf("importer: CSV header: column %q twice", header[i])
		}
		idx[h] = i
	}
	for _, req := range []string{"accountId", "externalId", "status", "amount", "debitCreditMemo"} {
		if _, ok := idx[strings.ToLower(req)]; !ok {
			return fmt.Errorf("importer: CSV header: column %q is required", req)
		}
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				ru.sum.Lines = max(ru.sum.Lines, pe.Line)
				ru.fail(pe.Line, pe.Err.Error())
				continue
			}
			return fmt.Errorf("importer: read CSV: %w", err)
		}
		line, _ := cr.FieldPos(0)
		ru.sum.Lines = max(ru.sum.Lines, line)
		t, err := csvTransaction(rec, idx)
		if err != nil {
			ru.fail(line, err.Error())
			continue
		}
		if err := ru.add(row{line: line, tx: t}); err != nil {
			return err
		}
	}
}

func csvTransaction(rec []string, idx map[string]int) (feed.Transaction, error) {
	get := func(col string) string {
		if i, ok := idx[strings.ToLower(col)]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	t := feed.Transaction{
		AccountID: get("accountId"), ExternalID: get("externalId"), Status: get("status"), BusinessDate: get("businessDate"),
		ValueDate: get("valueDate"), DebitCreditMemo: get("debitCreditMemo"), Description: get("description"), Memo: get("memo"),
		Payee: get("payee"), Counterparty: get("counterparty"), CheckNumber: get("checkNumber"), BankReference: get("bankReference"),
		CustomerReference: get("customerReference"), PendingExternalID: get("pendingExternalId"),
	}
	for _, f := range []struct {
		col string
		dst **time.Time
	}{{"transactionTimestamp", &t.TransactionTimestamp}, {"postedTimestamp", &t.PostedTimestamp}} {
		if v := get(f.col); v != "" {
			ts, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return t, store.Invalid(f.col, "%q is not an RFC 3339 time", v)
			}
			*f.dst = &ts
		}
	}
	for _, f := range []struct {
		col string
		dst **decimal.Decimal
	}{{"amount", &t.Amount}, {"runningBalance", &t.RunningBalance}} {
		if v := get(f.col); v != "" {
			d, err := decimal.NewFromString(v)
			if err != nil {
				return t, store.Invalid(f.col, "%q is not a decimal amount", v)
			}
			*f.dst = &d
		}
	}
	if c := (feed.Code{BAI: get("baiCode"), Domain: get("isoDomain"), Family: get("isoFamily"), SubFamily: get("isoSubFamily")}); c != (feed.Code{}) {
		t.BankTransactionCode = &c
	}
	return t, nil
}

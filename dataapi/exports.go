package dataapi

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/dataapi/export"
	"github.com/bankfeed/bankfeed/store"
)

// handleExport renders any range of business dates of an account in every
// statement format (GET /accounts/{accountId}/exports): the prior-day BAI2
// an ERP fetches each morning, a year of camt.053, or, with status=all, the
// intraday camt.052 report with pending entries.
//
// The rules, also in the README and the OpenAPI document:
//
//   - endDate defaults to the latest closed business date (the latest
//     business date before today with a daily balance; yesterday if there
//     is none), or to today with status=all; startDate defaults to endDate.
//   - startDate after endDate, before the account opened (or 1970), endDate
//     after today, or more than MaxExportDays dates: 400 (FDX 703).
//   - Opening is the closing of the latest daily balance before startDate;
//     without one, the history starts inside the range: the opening of its
//     earliest daily balance, else zero. Closing is the closing of the
//     latest daily balance on or before endDate; for a range ending today
//     (not closed yet) the day's posted entries so far are added to it (an
//     interim balance: ledger only, each entry's running balance checked).
//   - Dates holding posted entries but no daily balance (not closed yet)
//     before today make the opening or closing unknown: 400 (FDX 703)
//     naming them, rather than a document that would not reconcile.
//   - status=all (the intraday report, pending entries included) needs a
//     range ending today and a format that carries pending entries
//     (camt.052 and JSON); any other format answers 400.
//   - A range that does not reconcile (a stored daily balance disagreeing
//     with the entries) is a 500 naming the account and range; no byte of
//     the file is sent.
func (s *Server) handleExport(c echo.Context) error {
	ctx := c.Request().Context()
	a, err := s.visibleAccount(principalFrom(c), c.Param("accountId"))
	if err != nil {
		return err
	}
	q := readQuery(c, "format", "profile", "startDate", "endDate", "status")
	formatParam, profile := q.str("format"), q.str("profile")
	if profile != "" && !profileName.MatchString(profile) {
		q.errs.add(codeInvalidInput, "profile", "query", "must be a profile name such as xero, quickbooks3 or camt.053.001.08, not %q", clip(profile))
	} else if profile != "" && formatParam == "" {
		q.errs.add(codeInvalidInput, "profile", "query", "goes with format= (e.g. format=csv&profile=xero)")
	}
	statusParam := q.str("status")
	intraday := false
	switch strings.ToLower(statusParam) {
	case "", "posted":
	case "all":
		intraday = true
	default:
		q.errs.add(codeInvalidInput, "status", "query", "must be posted (default) or all (the intraday report with pending entries), not %q", clip(statusParam))
	}
	from, to := q.date("startDate", ""), q.date("endDate", "")
	today := businessDate(s.now())
	endDefaulted := false
	if to == "" && !q.has("endDate") {
		endDefaulted = true
		if intraday {
			to = today
		} else if to, err = s.lastClosedDate(ctx, a.ID, today); err != nil {
			return err
		}
	}
	if from == "" && !q.has("startDate") {
		from = to
	}
	if from != "" && to != "" {
		s.checkExportRange(q, a, from, to, today, endDefaulted, intraday)
	}
	if err := q.err(); err != nil {
		return err
	}
	f, err := negotiateExport(c, formatParam, profile)
	if err != nil {
		return err
	}
	if intraday && !f.Pending {
		return invalidParam(codeInvalidInput, "status", "query",
			"status=all adds pending entries, which only %s carry; ask for one of them, or drop status for %s", pendingFormats(), f.Name)
	}
	d, err := s.rangeDocument(ctx, c, a, from, to, today, intraday)
	if err != nil {
		return err
	}
	name := f.Filename(&export.Document{StatementID: a.ID + "_" + string(from) + "_" + string(to)})
	return s.writeDocument(c, f, d, name, fmt.Sprintf("export of account %s for %s to %s", a.ID, from, to))
}

var profileName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$`)

// checkExportRange adds the range's problems to q (FDX 703).
func (s *Server) checkExportRange(q *query, a store.Account, from, to, today store.Date, endDefaulted, intraday bool) {
	opened := a.OpenedOn
	if !opened.Valid() || opened.Before(earliestDate) {
		opened = earliestDate
	}
	switch {
	case to.Before(from):
		reason := fmt.Sprintf("%s is before startDate %s", to, from)
		if endDefaulted {
			reason += " (endDate defaults to the latest closed business date)"
		}
		q.errs.add(codeInvalidDateRange, "endDate", "query", "%s", reason)
	case from.Before(opened):
		q.errs.add(codeInvalidDateRange, "startDate", "query", "%s is before the account's history begins (%s)", from, opened)
	case today.Before(to):
		q.errs.add(codeInvalidDateRange, "endDate", "query", "%s is in the future (today's business date is %s)", to, today)
	case daysIn(from, to) > s.maxExport:
		q.errs.add(codeInvalidDateRange, "endDate", "query",
			"the range %s to %s covers %d days; one export covers at most %d (dataapi.max_export_days): split it",
			from, to, daysIn(from, to), s.maxExport)
	case intraday && to != today:
		q.errs.add(codeInvalidInput, "status", "query",
			"status=all is the intraday report with pending entries: its range must end today (%s), not %s", today, to)
	}
}

// daysIn counts the calendar dates of [from, to].
func daysIn(from, to store.Date) int {
	f, err1 := time.Parse(time.DateOnly, string(from))
	t, err2 := time.Parse(time.DateOnly, string(to))
	if err1 != nil || err2 != nil {
		return 0
	}
	return int(t.Sub(f).Hours()/24) + 1
}

// lastClosedDate is the latest business date before today with a daily
// balance (the prior business day, skipping weekends and holidays), or
// yesterday when the account has none.
func (s *Server) lastClosedDate(ctx context.Context, accountID string, today store.Date) (store.Date, error) {
	db, err := s.store.LatestDailyBalance(ctx, accountID, today.AddDays(-1))
	if errors.Is(err, store.ErrNotFound) {
		return today.AddDays(-1), nil
	} else if err != nil {
		return "", fmt.Errorf("dataapi: latest daily balance: %w", err)
	}
	return db.BusinessDate, nil
}

// negotiateExport picks the format like the statement route (format= wins
// over Accept), with profile= choosing a variant of format: a CSV layout
// (format=csv&profile=xero) or a media type's profile
// (format=camt053&profile=camt.053.001.08).
func negotiateExport(c echo.Context, formatParam, profile string) (export.Format, error) {
	if profile == "" {
		return negotiateDocument(c, formatParam)
	}
	if !strings.Contains(formatParam, "/") {
		if f, ok := export.Lookup(formatParam + "; profile=" + profile); ok {
			return f, nil
		}
		base, ok := export.Lookup(formatParam)
		if !ok {
			return negotiateDocument(c, formatParam) // the unknown name's answer
		}
		formatParam = base.MediaType
	}
	return negotiateDocument(c, formatParam+`; profile="`+profile+`"`)
}

// pendingFormats names the formats that carry pending entries.
func pendingFormats() string {
	var names []string
	for _, f := range export.Formats() {
		if f.Pending {
			names = append(names, f.Name)
		}
	}
	return strings.Join(names, ", ")
}

// rangeDocument builds the document of [from, to] (see handleExport for the
// balance rules). Its entries are read at one snapshot (AsOfSeq), so the
// proof pass and the writing pass see the same rows.
func (s *Server) rangeDocument(ctx context.Context, c echo.Context, a store.Account, from, to, today store.Date, intraday bool) (export.Document, error) {
	holder, err := s.holder(ctx, a)
	if err != nil {
		return export.Document{}, err
	}
	days, prior, err := s.dailyBalances(ctx, a.ID, from, to)
	if err != nil {
		return export.Document{}, err
	}
	asOf, err := s.store.MaxSeq(ctx)
	if err != nil {
		return export.Document{}, fmt.Errorf("dataapi: max seq: %w", err)
	}
	kind := export.KindRange
	statuses := []store.TransactionStatus{store.Posted}
	if intraday {
		kind, statuses = export.KindIntraday, []store.TransactionStatus{store.Posted, store.Pending}
	}
	d := export.Document{
		Bank: s.bank, Business: holder.LegalName, Account: a, Kind: kind,
		StatementID: store.NewID("exp"), // unique per file: camt MsgId, BAI2 file ID, OFX TRNUID
		PeriodStart: from, PeriodEnd: to, Days: days, HasAvailable: true,
		Created: s.now(), Lang: documentLanguage(holder, c.Request().Header.Get("Accept-Language")), QBOIntuBID: s.qboIntuBID,
		IncludePending: intraday,
	}
	snapshot := store.TransactionFilter{AccountID: a.ID, From: from, To: to, Statuses: statuses, AsOfSeq: max(asOf, 1)}
	d.Entries = func(ctx context.Context, yield func(store.Transaction) error) error {
		return s.store.StreamTransactions(ctx, snapshot, yield)
	}

	// Opening: the day before the range closed at...
	openedAfter := store.Date("") // the last date the opening accounts for
	switch {
	case prior != nil:
		d.OpeningLedger, d.OpeningAvailable = prior.ClosingLedger, prior.ClosingAvailable
		openedAfter = prior.BusinessDate
	case len(days) > 0:
		d.OpeningLedger, d.OpeningAvailable = days[0].OpeningLedger, days[0].OpeningAvailable
	}
	if n, err := s.postedCount(ctx, a.ID, openedAfter, from.AddDays(-1)); err != nil {
		return export.Document{}, err
	} else if n > 0 {
		return export.Document{}, notClosed("startDate", a.ID, openedAfter, from.AddDays(-1), "the opening balance")
	}

	// Closing: the latest daily balance on or before endDate.
	last := prior
	if len(days) > 0 {
		last = &days[len(days)-1]
	}
	closedThrough := openedAfter
	d.ClosingLedger, d.ClosingAvailable = d.OpeningLedger, d.OpeningAvailable
	if last != nil {
		d.ClosingLedger, d.ClosingAvailable = last.ClosingLedger, last.ClosingAvailable
		closedThrough = last.BusinessDate
	}
	if closedThrough < to {
		tail := max(closedThrough.AddDays(1), from)
		if to != today {
			if n, err := s.postedCount(ctx, a.ID, closedThrough, to); err != nil {
				return export.Document{}, err
			} else if n > 0 {
				return export.Document{}, notClosed("endDate", a.ID, closedThrough, to, "the closing balance")
			}
		} else {
			// Today is not closed: add its posted entries so far, read at
			// the document's snapshot, to the last closing (an interim
			// balance). Available figures are not known for it.
			sum := store.Money{}
			f := snapshot
			f.From, f.Statuses = tail, []store.TransactionStatus{store.Posted}
			if err := s.store.StreamTransactions(ctx, f, func(t store.Transaction) error {
				sum = sum.Add(t.SignedAmount())
				return nil
			}); err != nil {
				return export.Document{}, fmt.Errorf("dataapi: sum today's entries: %w", err)
			}
			d.ClosingLedger = d.ClosingLedger.Add(sum)
			d.HasAvailable = false
		}
	}
	return d, nil
}

// dailyBalances returns the stored daily balances of [from, to] in date
// order and the latest one before from (nil if none), walking back from to
// one stored row at a time (sparse histories cost only their rows).
func (s *Server) dailyBalances(ctx context.Context, accountID string, from, to store.Date) ([]store.DailyBalance, *store.DailyBalance, error) {
	var days []store.DailyBalance
	cur := to
	for range s.maxExport + 2 {
		db, err := s.store.LatestDailyBalance(ctx, accountID, cur)
		if errors.Is(err, store.ErrNotFound) {
			break
		} else if err != nil {
			return nil, nil, fmt.Errorf("dataapi: latest daily balance: %w", err)
		}
		if cur.Before(db.BusinessDate) {
			return nil, nil, fmt.Errorf("dataapi: latest daily balance on or before %s is dated %s", cur, db.BusinessDate)
		}
		if db.BusinessDate.Before(from) {
			slices.Reverse(days)
			return days, &db, nil
		}
		days = append(days, db)
		cur = db.BusinessDate.AddDays(-1)
	}
	slices.Reverse(days)
	return days, nil, nil
}

// postedCount counts the posted entries with business date in (after,
// through]; after "" means from the start of the history.
func (s *Server) postedCount(ctx context.Context, accountID string, after, through store.Date) (int, error) {
	from := store.Date("")
	if after != "" {
		from = after.AddDays(1)
	}
	if from != "" && through.Before(from) {
		return 0, nil
	}
	n, _, _, err := s.store.SumPosted(ctx, accountID, from, through)
	if err != nil {
		return 0, fmt.Errorf("dataapi: count posted entries: %w", err)
	}
	return n, nil
}

// notClosed says a balance the export needs is not known yet: business
// dates that hold posted entries have not been closed (FDX 703).
func notClosed(param, accountID string, after, through store.Date, what string) error {
	since := "the start of the account's history"
	if after != "" {
		since = string(after.AddDays(1))
	}
	return invalidParam(codeInvalidDateRange, param, "query",
		"%s of account %s is not known yet: business dates from %s to %s hold posted entries but are not closed; "+
			"choose a range that ends on a closed date, or ask again after the close", what, accountID, since, through)
}

package dataapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"

	"github.com/bankfeed/bankfeed/dataapi/export"
	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/tracing"
)

// documentTypes are the statement document types in preference order (the
// first, PDF, is what a request without Accept gets).
func (s *Server) documentTypes() []string { return export.ContentTypes() }

// fdxDocumentTypes are the document types FDX names for a statement link
// (PDF, JSON, images), default first: a strict FDX client rejects a link
// listing any other, so the rest are only in the additive documentTypes.
func fdxDocumentTypes() []string {
	var out []string
	for _, t := range export.ContentTypes() {
		if t == "application/pdf" || t == contentTypeJSON || strings.HasPrefix(t, "image/") {
			out = append(out, t)
		}
	}
	return out
}

// negotiateDocument picks the statement document format from Accept (or the
// format= query parameter, for clients that cannot set headers).
func negotiateDocument(c echo.Context, formatParam string) (export.Format, error) {
	accept := strings.Join(c.Request().Header.Values("Accept"), ",")
	f, err := export.Negotiate(accept, formatParam)
	var na *export.NotAcceptableError
	if errors.As(err, &na) {
		if na.Format { // an unknown format= name: the names, not media types
			return export.Format{}, newProblem(http.StatusNotAcceptable, "not-acceptable", "Content type not supported", codeNotAcceptable, na.Error())
		}
		return export.Format{}, errNotAcceptable(na.Supported)
	}
	return f, err
}

// writeExport streams statement st of account a in format f.
func (s *Server) writeExport(c echo.Context, a store.Account, st store.Statement, f export.Format) error {
	d, err := s.statementDocument(c.Request().Context(), c, a, st)
	if err != nil {
		return err
	}
	return s.writeDocument(c, f, d, f.Filename(&d), statementSubject(a, st))
}

// statementSubject names a stored statement in problems and logs.
func statementSubject(a store.Account, st store.Statement) string {
	return fmt.Sprintf("statement %s of account %s (%s to %s)", st.ID, a.ID, st.PeriodStart, st.PeriodEnd)
}

// writeDocument streams d in format f as an attachment named filename.
// subject names the document in problems and logs.
//
// The export package proves the balances before the first byte, and the
// response commits its headers only on that first byte, so a document that
// does not reconcile is answered with a problem and no file at all. A
// failure after that leaves a partial file, so the connection is aborted
// rather than ended normally (the client sees a broken transfer, never a
// short valid file).
func (s *Server) writeDocument(c echo.Context, f export.Format, d export.Document, filename, subject string) error {
	ctx, span := tracing.Start(c.Request().Context(), "export "+f.Name)
	defer span.End()
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, f.ContentType())
	h.Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s"`, filename))
	d, entries := countEntries(d, f)
	before := c.Response().Size
	err := export.Write(ctx, c.Response(), f, d)
	if span.IsRecording() {
		span.SetAttributes(attribute.String("bankfeed.export.format", f.Name),
			attribute.Int("bankfeed.export.entries", entries()), attribute.Int64("bankfeed.export.bytes", c.Response().Size-before))
		if err != nil {
			span.SetStatus(codes.Error, "export failed")
		}
	}
	if err == nil {
		s.metrics.Export(f.Name, entries(), c.Response().Size-before)
		if !c.Response().Committed { // an empty file still answers 200
			c.Response().WriteHeader(http.StatusOK)
		}
		return nil
	}
	h.Del(echo.HeaderContentDisposition)
	if c.Response().Committed {
		level := slog.LevelError
		if clientGone(ctx, err) {
			level = slog.LevelInfo
		}
		s.log.Log(ctx, level, "dataapi: export failed mid-stream",
			slog.String("document", subject), slog.String("format", f.Name), slog.Any("err", err))
		panic(http.ErrAbortHandler)
	}
	return s.refusal(ctx, err, subject, f.Name)
}

// refusal turns the error of a document that could not be sent (nothing
// of it was) into the problem to answer: a format's size limit is the
// client's 400; a document that does not reconcile is logged at ERROR and
// answered with a 500 naming it (subject); anything else is internal.
func (s *Server) refusal(ctx context.Context, err error, subject, format string) error {
	var tooLarge *export.TooLargeError
	if errors.As(err, &tooLarge) {
		return newProblem(http.StatusBadRequest, "statement-too-large", "Statement too large for this format", codeInvalidInput,
			fmt.Sprintf("%s; ask for a streaming format such as camt.053, BAI2, OFX or CSV", tooLarge.Error()))
	}
	var rec *export.ReconcileError
	if errors.As(err, &rec) {
		// Loud: the bank's books disagree with themselves; operators must
		// look before any client receives this period.
		attrs := []any{slog.String("document", subject), slog.String("account", rec.AccountID), slog.String("format", format),
			slog.String("reason", rec.Reason), slog.String("opening", rec.Opening.StringFixed(2)), slog.String("closing", rec.Closing.StringFixed(2))}
		if rec.EntryID != "" {
			attrs = append(attrs, slog.String("entry", rec.EntryID))
		}
		if !rec.Computed.IsZero() {
			attrs = append(attrs, slog.String("computed", rec.Computed.StringFixed(2)))
		}
		s.log.ErrorContext(ctx, "dataapi: DOCUMENT DOES NOT RECONCILE, refused", attrs...)
		return errNotReconciled(subject)
	}
	return fmt.Errorf("dataapi: export %s as %s: %w", subject, format, err)
}

// statementDocument builds the format-neutral document of a stored
// statement: the holder's legal name, the period's daily balances, the
// stored totals to prove against, and a snapshot stream of its entries.
func (s *Server) statementDocument(ctx context.Context, c echo.Context, a store.Account, st store.Statement) (export.Document, error) {
	holder, err := s.holder(ctx, a)
	if err != nil {
		return export.Document{}, err
	}
	asOf, err := s.store.MaxSeq(ctx)
	if err != nil {
		return export.Document{}, fmt.Errorf("dataapi: max seq: %w", err)
	}
	d := export.Document{
		Bank: s.bank, Business: holder.LegalName, Account: a, Kind: export.KindStatement,
		StatementID: st.ID, PeriodStart: st.PeriodStart, PeriodEnd: st.PeriodEnd,
		OpeningLedger: st.Opening, ClosingLedger: st.Closing,
		Expected: &export.Expected{EntryCount: st.EntryCount, TotalDebits: st.TotalDebits, TotalCredits: st.TotalCredits},
		Created:  s.now(), Lang: documentLanguage(holder, c.Request().Header.Get("Accept-Language")), QBOIntuBID: s.qboIntuBID,
	}
	for day := st.PeriodStart; day <= st.PeriodEnd; day = day.AddDays(1) {
		db, err := s.store.GetDailyBalance(ctx, a.ID, day)
		if errors.Is(err, store.ErrNotFound) {
			continue
		} else if err != nil {
			return export.Document{}, fmt.Errorf("dataapi: get daily balance: %w", err)
		}
		d.Days = append(d.Days, db)
	}
	if n := len(d.Days); n > 0 && d.Days[0].BusinessDate == st.PeriodStart && d.Days[n-1].BusinessDate == st.PeriodEnd {
		d.HasAvailable, d.OpeningAvailable, d.ClosingAvailable = true, d.Days[0].OpeningAvailable, d.Days[n-1].ClosingAvailable
	}
	list, err := s.store.ListStatements(ctx, a.ID, "", st.PeriodEnd)
	if err != nil {
		return export.Document{}, fmt.Errorf("dataapi: list statements: %w", err)
	}
	d.Sequence = len(list) // this statement's number in the account's history (MT940 :28C:)
	f := store.TransactionFilter{AccountID: a.ID, From: st.PeriodStart, To: st.PeriodEnd,
		Statuses: []store.TransactionStatus{store.Posted}, AsOfSeq: max(asOf, 1)}
	d.Entries = func(ctx context.Context, yield func(store.Transaction) error) error {
		return s.store.StreamTransactions(ctx, f, yield)
	}
	return d, nil
}

// holder is the legal entity owning a (zero if unknown).
func (s *Server) holder(ctx context.Context, a store.Account) (store.LegalEntity, error) {
	le, err := s.store.GetLegalEntity(ctx, a.LegalEntityID)
	if errors.Is(err, store.ErrNotFound) {
		return store.LegalEntity{}, nil
	} else if err != nil {
		return store.LegalEntity{}, fmt.Errorf("dataapi: get legal entity: %w", err)
	}
	return le, nil
}

// documentLanguage is the holder's language when the bank knows it: the
// document is the business's, and the Accept-Language of the software that
// fetches it is usually its server's default, not the customer's. Without
// one, the client's preference decides.
func documentLanguage(holder store.LegalEntity, acceptLanguage string) string {
	if l := holder.Contact.Language; l != "" {
		return l
	}
	return language(acceptLanguage)
}

// language is "fr" when the client prefers French, else "en".
func language(acceptLanguage string) string {
	first, _, _ := strings.Cut(acceptLanguage, ",")
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(first)), "fr") {
		return "fr"
	}
	return "en"
}

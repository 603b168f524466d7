package dataapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/dataapi/export"
	"github.com/bankfeed/bankfeed/store"
)

type linkJSON struct {
	Href   string   `json:"href"`
	Action string   `json:"action"`
	Rel    string   `json:"rel"`
	Types  []string `json:"types"`
}

// statementJSON is FDX's Statement plus the period, balances and every
// document format (additive). The balances are the signed ledger view.
type statementJSON struct {
	AccountID       string     `json:"accountId"`
	StatementID     string     `json:"statementId"`
	StatementDate   string     `json:"statementDate"`
	Description     string     `json:"description"`
	Status          string     `json:"status"`
	Links           []linkJSON `json:"links"`
	DocumentTypes   []string   `json:"documentTypes"`
	PeriodStartDate string     `json:"periodStartDate"`
	PeriodEndDate   string     `json:"periodEndDate"`
	Currency        string     `json:"currency"`
	OpeningBalance  money      `json:"openingBalance"`
	ClosingBalance  money      `json:"closingBalance"`
	TotalCredits    money      `json:"totalCredits"`
	TotalDebits     money      `json:"totalDebits"`
	EntryCount      int        `json:"entryCount"`
}

type statementsJSON struct {
	Page       *pageJSON       `json:"page"`
	Statements []statementJSON `json:"statements"`
}

type stmtKey struct {
	Account string     `json:"a"`
	From    store.Date `json:"f,omitempty"`
	To      store.Date `json:"t,omitempty"`
	Start   store.Date `json:"s"`
	ID      string     `json:"i"`
}

func statementPath(accountID, statementID string) string {
	return BasePath + "/accounts/" + accountID + "/statements/" + statementID
}

func (s *Server) statementOf(a store.Account, st store.Statement) statementJSON {
	status := st.Status
	if status == "" {
		status = "AVAILABLE"
	}
	return statementJSON{
		AccountID:     st.AccountID,
		StatementID:   st.ID,
		StatementDate: string(st.StatementDate),
		Description:   fmt.Sprintf("Statement %s to %s", st.PeriodStart, st.PeriodEnd),
		Status:        status,
		Links: []linkJSON{{
			Href: statementPath(st.AccountID, st.ID), Action: http.MethodGet, Rel: "self",
			Types: fdxDocumentTypes(),
		}},
		DocumentTypes:   s.documentTypes(),
		PeriodStartDate: string(st.PeriodStart),
		PeriodEndDate:   string(st.PeriodEnd),
		Currency:        a.Currency,
		OpeningBalance:  money(st.Opening),
		ClosingBalance:  money(st.Closing),
		TotalCredits:    money(st.TotalCredits),
		TotalDebits:     money(st.TotalDebits),
		EntryCount:      st.EntryCount,
	}
}

// handleListStatements is FDX searchForAccountStatements: the account's
// statements by period, optionally those overlapping [startDate, endDate].
func (s *Server) handleListStatements(c echo.Context) error {
	ctx := c.Request().Context()
	p := principalFrom(c)
	a, err := s.visibleAccount(p, c.Param("accountId"))
	if err != nil {
		return err
	}
	q := readQuery(c, "startDate", "endDate", "startTime", "endTime", "limit", "pageKey", "offset")
	limit := q.limit()
	from, to := q.dateRange(businessDate(s.now()))
	key := stmtKey{Account: a.ID, From: from, To: to}
	pk := pageKeyParam(q)
	if pk != "" {
		var k stmtKey
		if err := s.sealer.open("stmt", pk, &k); err != nil || k.Account != a.ID {
			q.errs.add(codeInvalidInput, pageKeyName(q), "query", "is not a page key this API issued for this account")
		} else if (q.has("startDate") || q.has("startTime")) && k.From != from || (q.has("endDate") || q.has("endTime")) && k.To != to {
			q.errs.add(codeInvalidInput, pageKeyName(q), "query", "was issued for a different query")
		} else {
			key = k
		}
	}
	if err := q.err(); err != nil {
		return err
	}
	list, err := s.store.ListStatements(ctx, a.ID, key.From, key.To)
	if err != nil {
		return fmt.Errorf("dataapi: list statements: %w", err)
	}
	sort.SliceStable(list, func(i, j int) bool {
		if list[i].PeriodStart != list[j].PeriodStart {
			return list[i].PeriodStart < list[j].PeriodStart
		}
		return list[i].ID < list[j].ID
	})
	out := statementsJSON{Statements: []statementJSON{}}
	next := ""
	for _, st := range list {
		if pk != "" && (st.PeriodStart < key.Start || st.PeriodStart == key.Start && st.ID <= key.ID) {
			continue
		}
		if st.AccountID != a.ID {
			continue
		}
		if len(out.Statements) == limit {
			k := key
			last := out.Statements[limit-1]
			k.Start, k.ID = store.Date(last.PeriodStartDate), last.StatementID
			next = s.sealer.seal("stmt", k)
			break
		}
		out.Statements = append(out.Statements, s.statementOf(a, st))
	}
	out.Page = pageOf(next)
	return c.JSON(http.StatusOK, out)
}

// maxJSONStatementEntries bounds the JSON document, which is checked in
// memory before a byte is sent.
const maxJSONStatementEntries = 200_000

// statementDocumentJSON is the application/json rendering of a statement:
// the descriptor plus its posted entries.
type statementDocumentJSON struct {
	statementJSON
	Transactions []transactionJSON `json:"transactions"`
}

// handleGetStatement is FDX getAccountStatement: the statement document in
// the format the Accept header asks for (PDF by default).
func (s *Server) handleGetStatement(c echo.Context) error {
	ctx := c.Request().Context()
	p := principalFrom(c)
	a, err := s.visibleAccount(p, c.Param("accountId"))
	if err != nil {
		return err
	}
	q := readQuery(c, "format")
	formatParam := q.str("format")
	if err := q.err(); err != nil {
		return err
	}
	id := c.Param("statementId")
	if !validID(id) {
		return errStatementNotFound()
	}
	st, err := s.store.GetStatement(ctx, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && st.AccountID != a.ID {
		return errStatementNotFound()
	} else if err != nil {
		return fmt.Errorf("dataapi: get statement: %w", err)
	}
	if st.Status != "" && st.Status != "AVAILABLE" {
		return errStatementProcessing()
	}
	f, err := negotiateDocument(c, formatParam)
	if err != nil {
		return err
	}
	if f.MediaType != contentTypeJSON {
		return s.writeExport(c, a, st, f)
	}
	// The JSON document is proved like every other format (opening +
	// entries = closing, the stored counts and totals, daily and running
	// balances), collecting the entries in the same single pass.
	d, err := s.statementDocument(ctx, c, a, st)
	if err != nil {
		return err
	}
	doc := statementDocumentJSON{statementJSON: s.statementOf(a, st), Transactions: []transactionJSON{}}
	entries, category := d.Entries, a.Type.Category()
	d.Entries = func(ctx context.Context, yield func(store.Transaction) error) error {
		doc.Transactions = doc.Transactions[:0]
		return entries(ctx, func(t store.Transaction) error {
			if len(doc.Transactions) >= maxJSONStatementEntries {
				return errTooLarge
			}
			doc.Transactions = append(doc.Transactions, transactionOf(category, t))
			return yield(t)
		})
	}
	if err := export.Prove(ctx, d); errors.Is(err, errTooLarge) {
		return newProblem(http.StatusBadRequest, "statement-too-large", "Statement too large for JSON", codeInvalidInput,
			"the statement has too many entries for application/json; ask for a streaming format")
	} else if err != nil {
		return s.refusal(ctx, err, statementSubject(a, st), f.Name)
	}
	return c.JSON(http.StatusOK, doc)
}

var errTooLarge = errors.New("dataapi: too large")

const contentTypeJSON = "application/json"

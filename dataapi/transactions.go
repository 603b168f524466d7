package dataapi

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/store"
)

// txKey is a transactions page key: the query it belongs to, the snapshot
// (AsOfSeq fixed at the first page) and the keyset position.
type txKey struct {
	Account  string                    `json:"a"`
	From     store.Date                `json:"f,omitempty"`
	To       store.Date                `json:"t,omitempty"`
	Statuses []store.TransactionStatus `json:"s,omitempty"`
	AsOf     int64                     `json:"o"`
	Date     store.Date                `json:"d"`
	ID       string                    `json:"i"`
}

type transactionsJSON struct {
	Page         *pageJSON         `json:"page"`
	Transactions []transactionJSON `json:"transactions"`
}

func statusesOf(s string) ([]store.TransactionStatus, bool) {
	switch strings.ToLower(s) {
	case "", "posted":
		return []store.TransactionStatus{store.Posted}, true
	case "pending":
		return []store.TransactionStatus{store.Pending}, true
	case "all":
		return nil, true
	}
	return nil, false
}

// handleListTransactions is FDX searchForAccountTransactions: business
// dates [startDate, endDate], status posted (default), pending or all,
// ordered by (business date, transactionId), paged with a sealed key that
// pins the snapshot of the first page, so paging while entries post yields
// no duplicate and no gap.
func (s *Server) handleListTransactions(c echo.Context) error {
	ctx := c.Request().Context()
	p := principalFrom(c)
	a, err := s.visibleAccount(p, c.Param("accountId"))
	if err != nil {
		return err
	}
	q := readQuery(c, "startDate", "endDate", "startTime", "endTime", "status", "limit", "pageKey", "offset")
	limit := q.limit()
	from, to := q.dateRange(businessDate(s.now()))
	statusParam := q.str("status")
	statuses, ok := statusesOf(statusParam)
	if !ok {
		q.errs.add(codeInvalidInput, "status", "query", "must be posted, pending or all, not %q", clip(statusParam))
	}
	var key txKey
	pk := pageKeyParam(q)
	if pk != "" {
		if err := s.sealer.open("tx", pk, &key); err != nil || key.Account != a.ID {
			q.errs.add(codeInvalidInput, pageKeyName(q), "query", "is not a page key this API issued for this account")
		} else if (q.has("startDate") || q.has("startTime")) && key.From != from ||
			(q.has("endDate") || q.has("endTime")) && key.To != to ||
			q.has("status") && !slices.Equal(key.Statuses, statuses) {
			q.errs.add(codeInvalidInput, pageKeyName(q), "query", "was issued for a different query")
		}
	}
	if err := q.err(); err != nil {
		return err
	}
	var after *store.TxCursor
	if pk != "" {
		after = &store.TxCursor{BusinessDate: key.Date, ID: key.ID}
	} else {
		// The snapshot: MaxSeq, read with the access records.
		key = txKey{Account: a.ID, From: from, To: to, Statuses: statuses, AsOf: p.maxSeq}
	}
	var txs []store.Transaction
	more := false
	if key.AsOf > 0 { // 0: the store held no transaction at all when the snapshot was taken
		f := store.TransactionFilter{AccountID: a.ID, From: key.From, To: key.To, Statuses: key.Statuses, AsOfSeq: key.AsOf}
		if txs, more, err = s.store.ListTransactions(ctx, f, after, limit); err != nil {
			return fmt.Errorf("dataapi: list transactions: %w", err)
		}
	}
	next := ""
	if more && len(txs) > 0 {
		last := txs[len(txs)-1]
		k := key
		k.Date, k.ID = last.BusinessDate, last.ID
		next = s.sealer.seal("tx", k)
	}
	category := a.Type.Category()
	return sendJSON(c, func(b []byte) []byte { return appendTransactionsPage(b, category, txs, next) })
}

// syncKey is a change-feed cursor: the account and the last Seq delivered.
// It carries no expiry: a cursor stays valid as long as the account's
// history (and the page key secret) does, well beyond a year.
type syncKey struct {
	Account string `json:"a"`
	Seq     int64  `json:"q"`
}

type syncJSON struct {
	Added      []transactionJSON `json:"added"`
	Modified   []transactionJSON `json:"modified"`
	Removed    []removedJSON     `json:"removed"`
	NextCursor string            `json:"nextCursor"`
	HasMore    bool              `json:"hasMore"`
}

type removedJSON struct {
	TransactionID string `json:"transactionId"`
}

// handleSyncTransactions is the change feed (the pattern of Plaid's
// /transactions/sync). Applying the pages in order keeps a copy equal to the
// account's posted entries plus its live pending ones:
//
//   - added: insert (a new posted entry, or a new pending one);
//   - modified: an upsert. Mostly a pending entry that posted: the posted
//     record (new transactionId) replaces the one named by
//     pendingTransactionId, and is inserted if that entry is not held;
//   - removed: a pending entry dropped without posting (or replaced outside
//     the pending link): delete it if held.
//
// Each record appears once in added or modified over the whole feed.
func (s *Server) handleSyncTransactions(c echo.Context) error {
	ctx := c.Request().Context()
	p := principalFrom(c)
	a, err := s.visibleAccount(p, c.Param("accountId"))
	if err != nil {
		return err
	}
	q := readQuery(c, "cursor", "limit")
	limit := q.limit()
	var key syncKey
	if cur := q.str("cursor"); cur != "" {
		if err := s.sealer.open("sync", cur, &key); err != nil || key.Account != a.ID || key.Seq < 0 {
			q.errs.add(codeInvalidInput, "cursor", "query", "is not a cursor this API issued for this account")
		}
	} else if q.has("cursor") && len(q.values["cursor"]) > 1 {
		q.errs.add(codeInvalidInput, "cursor", "query", "must be given at most once")
	}
	if err := q.err(); err != nil {
		return err
	}
	after := key.Seq
	txs, more, err := s.store.ListChanges(ctx, a.ID, after, limit)
	if err != nil {
		return fmt.Errorf("dataapi: list changes: %w", err)
	}
	out := syncJSON{Added: []transactionJSON{}, Modified: []transactionJSON{}, Removed: []removedJSON{}}
	category := a.Type.Category()
	next := after
	addedHere := map[string]bool{} // pending entries added earlier in this page
	for _, t := range txs {
		next = max(next, t.Seq)
		switch {
		case t.Status == store.Posted && t.PendingID != "":
			// The client may hold the pending entry only if it was created
			// at or before the cursor; otherwise this is simply new.
			pend, err := s.store.GetTransaction(ctx, t.PendingID)
			switch {
			case errors.Is(err, store.ErrNotFound):
				out.Added = append(out.Added, transactionOf(category, t))
			case err != nil:
				return fmt.Errorf("dataapi: get pending transaction: %w", err)
			case pend.CreatedSeq <= after || addedHere[pend.ID]:
				out.Modified = append(out.Modified, transactionOf(category, t))
			default:
				out.Added = append(out.Added, transactionOf(category, t))
			}
		case t.Status == store.Posted:
			out.Added = append(out.Added, transactionOf(category, t))
		case t.ReplacedByID != "":
			// Replaced: the posted record reports it (modified) when it names
			// this entry; otherwise the client must drop it.
			if t.CreatedSeq > after {
				continue
			}
			posted, err := s.store.GetTransaction(ctx, t.ReplacedByID)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("dataapi: get replacing transaction: %w", err)
			}
			if err != nil || posted.PendingID != t.ID {
				out.Removed = append(out.Removed, removedJSON{TransactionID: t.ID})
			}
		case !t.RemovedAt.IsZero():
			if t.CreatedSeq <= after {
				out.Removed = append(out.Removed, removedJSON{TransactionID: t.ID})
			}
		case t.CreatedSeq > after:
			out.Added = append(out.Added, transactionOf(category, t))
			addedHere[t.ID] = true
		default:
			// A live pending entry changed after it was created: upsert.
			out.Modified = append(out.Modified, transactionOf(category, t))
		}
	}
	out.HasMore = more
	out.NextCursor = s.sealer.seal("sync", syncKey{Account: a.ID, Seq: next})
	return sendJSON(c, out.appendJSON)
}

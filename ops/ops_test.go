package ops_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/bankfeed/bankfeed/store"
)

func txRow(acc, ext, status, amount, dir, posted string) map[string]any {
	r := map[string]any{"accountId": acc, "externalId": ext, "status": status, "amount": amount, "debitCreditMemo": dir,
		"transactionTimestamp": posted, "description": "entry " + ext}
	if status == "POSTED" {
		r["postedTimestamp"] = posted
	}
	return r
}

func countTx(t *testing.T, e *env, acc string) int {
	t.Helper()
	txs, _, err := e.st.ListTransactions(t.Context(), store.TransactionFilter{AccountID: acc, IncludeRemoved: true}, nil, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return len(txs)
}

func TestOpsOrgAndAccounts(t *testing.T) {
	e := newEnv(t)
	op := e.operator
	bg := e.must(http.StatusCreated, op, http.MethodPost, "/ops/v1/business-groups", map[string]any{"name": "Maple Holdings"}).Str("id")
	if r := e.call(op, http.MethodPost, "/ops/v1/business-groups", map[string]any{"id": "bg1", "name": "Dup"}); r.Status != http.StatusConflict {
		t.Fatalf("duplicate business group = %d", r.Status)
	}
	le := e.must(http.StatusCreated, op, http.MethodPost, "/ops/v1/legal-entities", map[string]any{"businessGroupId": bg, "name": "Maple Inc."}).Str("id")
	if r := e.call(op, http.MethodPost, "/ops/v1/legal-entities", map[string]any{"businessGroupId": "bg_nope", "name": "x"}); r.Status != http.StatusNotFound {
		t.Fatalf("entity of unknown group = %d", r.Status)
	}
	e.must(http.StatusCreated, op, http.MethodPost, "/ops/v1/service-agreements", map[string]any{"legalEntityId": le, "number": "SA-1"})
	if r := e.call(op, http.MethodPost, "/ops/v1/service-agreements", map[string]any{"legalEntityId": le, "number": "SA-1"}); r.Status != http.StatusConflict {
		t.Fatalf("duplicate agreement = %d", r.Status)
	}
	acc := e.must(http.StatusCreated, op, http.MethodPost, "/ops/v1/accounts", map[string]any{"legalEntityId": le, "number": "00012-003-7654321",
		"type": "CHECKING", "currency": "CAD", "openedOn": "2025-01-02"})
	if acc.Str("displayNumber") != "****4321" || acc.Str("status") != "OPEN" {
		t.Fatalf("account = %s", acc.Raw)
	}
	id := acc.Str("id")
	if r := e.call(op, http.MethodPost, "/ops/v1/accounts", map[string]any{"legalEntityId": le, "number": "00012-003-7654321", "type": "CHECKING", "currency": "CAD"}); r.Status != http.StatusConflict {
		t.Fatalf("duplicate number = %d", r.Status)
	}
	r := e.call(op, http.MethodPost, "/ops/v1/accounts", map[string]any{"legalEntityId": le, "number": "x", "type": "GOLD", "currency": "EUR"})
	if errs, _ := r.Get("errors").([]any); r.Status != http.StatusUnprocessableEntity || len(errs) != 3 {
		t.Fatalf("bad account = %d %s", r.Status, r.Raw)
	}
	e.must(http.StatusOK, op, http.MethodPatch, "/ops/v1/accounts/"+id, map[string]any{"nickname": "Operating"})
	e.must(http.StatusOK, op, http.MethodPost, "/ops/v1/accounts/"+id+"/close", map[string]any{"closedOn": "2025-03-31"})
	if r := e.call(op, http.MethodPost, "/ops/v1/accounts/"+id+"/close", nil); r.Status != http.StatusConflict {
		t.Fatalf("closing twice = %d", r.Status)
	}
	// Posting to a closed account names the row.
	r = e.call(op, http.MethodPost, "/ops/v1/transactions", map[string]any{"transactions": []any{txRow(id, "x1", "POSTED", "1.00", "CREDIT", "2025-03-03T15:00:00Z")}})
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Str("detail"), "closed") {
		t.Fatalf("post to closed = %d %s", r.Status, r.Raw)
	}
	e.must(http.StatusOK, op, http.MethodPost, "/ops/v1/accounts/"+id+"/reopen", nil)
	list := e.must(http.StatusOK, op, http.MethodGet, "/ops/v1/accounts?businessGroupId="+bg, nil).Items()
	if len(list) != 1 || list[0]["nickname"] != "Operating" {
		t.Fatalf("accounts = %v", list)
	}
}

func TestOpsBatches(t *testing.T) {
	e := newEnv(t)
	op := e.operator
	batch := map[string]any{"transactions": []any{
		txRow(e.acc1, "core-1", "POSTED", "100.00", "CREDIT", "2025-03-03T15:00:00Z"),
		txRow(e.acc1, "core-2", "POSTED", "25.50", "DEBIT", "2025-03-03T16:00:00Z"),
		txRow(e.acc2, "core-3", "PENDING", "10.00", "DEBIT", "2025-03-03T17:00:00Z"),
	}}
	r := e.must(http.StatusCreated, op, http.MethodPost, "/ops/v1/transactions", batch)
	if r.Get("created") != float64(3) || r.Get("replayed") != float64(0) {
		t.Fatalf("first post = %s", r.Raw)
	}
	first := r.Str("transactions.0.id")
	// Replaying the batch changes nothing.
	r = e.must(http.StatusOK, op, http.MethodPost, "/ops/v1/transactions", batch)
	if r.Get("created") != float64(0) || r.Get("replayed") != float64(3) || r.Str("transactions.0.id") != first {
		t.Fatalf("replay = %s", r.Raw)
	}
	if n := countTx(t, e, e.acc1); n != 2 {
		t.Fatalf("acc1 has %d transactions after replay, want 2", n)
	}
	// A batch with one bad row is refused whole, the row named.
	for i, bad := range []map[string]any{
		{"accountId": e.acc1, "externalId": "core-9", "status": "POSTED", "amount": "-5", "debitCreditMemo": "DEBIT", "postedTimestamp": "2025-03-04T15:00:00Z"},
		{"accountId": "acc_nope", "externalId": "core-9", "status": "POSTED", "amount": "5", "debitCreditMemo": "DEBIT", "postedTimestamp": "2025-03-04T15:00:00Z"},
		{"accountId": e.acc1, "externalId": "core-9", "status": "SETTLED", "amount": "5", "debitCreditMemo": "DEBIT", "postedTimestamp": "2025-03-04T15:00:00Z"},
		{"accountId": e.acc1, "externalId": "", "status": "POSTED", "amount": "5", "debitCreditMemo": "DEBIT", "postedTimestamp": "2025-03-04T15:00:00Z"},
		{"accountId": e.acc1, "externalId": "core-4", "status": "POSTED", "amount": "5", "debitCreditMemo": "DEBIT", "postedTimestamp": "2025-03-04T15:00:00Z"},
	} {
		rows := []any{
			txRow(e.acc1, "core-4", "POSTED", "1.00", "CREDIT", "2025-03-04T15:00:00Z"),
			txRow(e.acc2, "core-5", "POSTED", "2.00", "CREDIT", "2025-03-04T15:00:00Z"),
			bad,
		}
		r := e.call(op, http.MethodPost, "/ops/v1/transactions", map[string]any{"transactions": rows})
		if r.Status != http.StatusUnprocessableEntity || r.Get("row") != float64(2) || !strings.HasPrefix(r.Str("detail"), "row 2:") {
			t.Fatalf("bad row %d: = %d %s", i, r.Status, r.Raw)
		}
		if n := countTx(t, e, e.acc1) + countTx(t, e, e.acc2); n != 3 {
			t.Fatalf("bad row %d: %d transactions stored, want the 3 from before", i, n)
		}
	}
	// Malformed JSON is a 400 and an empty batch a 422.
	if r := e.call(op, http.MethodPost, "/ops/v1/transactions", `{"transactions": [{"amount": "abc"}]}`); r.Status != http.StatusBadRequest {
		t.Fatalf("bad amount JSON = %d %s", r.Status, r.Raw)
	}
	if r := e.call(op, http.MethodPost, "/ops/v1/transactions", map[string]any{"transactions": []any{}}); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("empty batch = %d", r.Status)
	}
	// The pending entry posts: linked both ways.
	posted := txRow(e.acc2, "core-6", "POSTED", "10.00", "DEBIT", "2025-03-04T15:00:00Z")
	posted["pendingExternalId"] = "core-3"
	r = e.must(http.StatusCreated, op, http.MethodPost, "/ops/v1/transactions", map[string]any{"transactions": []any{posted}})
	pending, err := e.st.GetTransactionByExternalID(t.Context(), e.acc2, "core-3")
	if err != nil || pending.ReplacedByID != r.Str("transactions.0.id") || r.Str("transactions.0.pendingId") != pending.ID {
		t.Fatalf("pending after posting = %+v, %v; response %s", pending, err, r.Raw)
	}
	// Replaying the posting is still idempotent.
	e.must(http.StatusOK, op, http.MethodPost, "/ops/v1/transactions", map[string]any{"transactions": []any{posted}})
	// Posting it a second time under a new ID is refused: the pending one is gone.
	posted["externalId"] = "core-7"
	if r := e.call(op, http.MethodPost, "/ops/v1/transactions", map[string]any{"transactions": []any{posted}}); r.Status != http.StatusUnprocessableEntity || r.Get("row") != float64(0) {
		t.Fatalf("double posting = %d %s", r.Status, r.Raw)
	}
	// A pending entry that drops is removed.
	e.must(http.StatusCreated, op, http.MethodPost, "/ops/v1/transactions", map[string]any{"transactions": []any{txRow(e.acc2, "core-8", "PENDING", "3.00", "DEBIT", "2025-03-04T17:00:00Z")}})
	e.must(http.StatusNoContent, op, http.MethodDelete, "/ops/v1/accounts/"+e.acc2+"/pending/core-8", nil)
	if r := e.call(op, http.MethodDelete, "/ops/v1/accounts/"+e.acc2+"/pending/core-8", nil); r.Status != http.StatusConflict {
		t.Fatalf("removing twice = %d", r.Status)
	}
	// Listing pages with a cursor.
	l := e.must(http.StatusOK, op, http.MethodGet, "/ops/v1/transactions?accountId="+e.acc1+"&limit=1", nil)
	if len(l.Items()) != 1 || l.Str("next") == "" {
		t.Fatalf("page 1 = %s", l.Raw)
	}
	l2 := e.must(http.StatusOK, op, http.MethodGet, "/ops/v1/transactions?accountId="+e.acc1+"&limit=1&after="+l.Str("next"), nil)
	if len(l2.Items()) != 1 || l2.Items()[0]["id"] == l.Items()[0]["id"] {
		t.Fatalf("page 2 = %s", l2.Raw)
	}
}

func TestOpsCloseDay(t *testing.T) {
	e := newEnv(t)
	op := e.operator
	acc := e.acc1
	// February 2025: the 27th and 28th (a Friday, the month's last weekday).
	post := func(ext, amount, dir, at string) {
		e.must(http.StatusCreated, op, http.MethodPost, "/ops/v1/transactions", map[string]any{"transactions": []any{txRow(acc, ext, "POSTED", amount, dir, at)}})
	}
	e.must(http.StatusOK, op, http.MethodPut, "/ops/v1/accounts/"+acc+"/daily-balances/2025-01-31",
		map[string]any{"openingLedger": "1000.00", "closingLedger": "1000.00"})
	e.must(http.StatusOK, op, http.MethodPost, "/ops/v1/accounts/"+acc+"/close-day", map[string]any{"businessDate": "2025-01-31"})
	post("f1", "200.00", "CREDIT", "2025-02-27T15:00:00Z")
	post("f2", "50.25", "DEBIT", "2025-02-27T16:00:00Z")
	// Derived from the previous close: 1000 + 200 − 50.25.
	r := e.must(http.StatusOK, op, http.MethodPost, "/ops/v1/accounts/"+acc+"/close-day", map[string]any{"businessDate": "2025-02-27"})
	if r.Str("dailyBalance.closingLedger") != "1149.75" || r.Get("statement") != nil {
		t.Fatalf("close 27th = %s", r.Raw)
	}
	if r := e.call(op, http.MethodPost, "/ops/v1/accounts/"+acc+"/close-day", map[string]any{"businessDate": "2025-02-27"}); r.Status != http.StatusConflict {
		t.Fatalf("closing twice = %d", r.Status)
	}
	// Posting into a closed day is refused with the row named.
	if r := e.call(op, http.MethodPost, "/ops/v1/transactions", map[string]any{"transactions": []any{txRow(acc, "late", "POSTED", "1.00", "CREDIT", "2025-02-27T17:00:00Z")}}); r.Status != http.StatusUnprocessableEntity || r.Get("row") != float64(0) {
		t.Fatalf("late posting = %d %s", r.Status, r.Raw)
	}
	post("f3", "0.25", "CREDIT", "2025-02-28T15:00:00Z")
	// Figures that do not reconcile are refused and nothing is closed.
	e.must(http.StatusOK, op, http.MethodPut, "/ops/v1/accounts/"+acc+"/daily-balances/2025-02-28",
		map[string]any{"openingLedger": "1149.75", "closingLedger": "1200.00"})
	r = e.call(op, http.MethodPost, "/ops/v1/accounts/"+acc+"/close-day", map[string]any{"businessDate": "2025-02-28"})
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Str("detail"), "does not reconcile") {
		t.Fatalf("unreconciled close = %d %s", r.Status, r.Raw)
	}
	e.must(http.StatusOK, op, http.MethodPut, "/ops/v1/accounts/"+acc+"/daily-balances/2025-02-28",
		map[string]any{"openingLedger": "1149.75", "closingLedger": "1150.00"})
	r = e.must(http.StatusOK, op, http.MethodPost, "/ops/v1/accounts/"+acc+"/close-day", map[string]any{"businessDate": "2025-02-28"})
	if r.Str("statement.periodStart") != "2025-02-01" || r.Str("statement.periodEnd") != "2025-02-28" || r.Str("statement.openingBalance") != "1000" ||
		r.Str("statement.closingBalance") != "1150" || r.Get("statement.entryCount") != float64(3) || r.Str("statement.totalDebits") != "50.25" {
		t.Fatalf("month-end close = %s", r.Raw)
	}
	sts, err := e.st.ListStatements(t.Context(), acc, "", "")
	// January closed on its last weekday (Friday the 31st) too.
	if err != nil || len(sts) != 2 || !sts[0].Reconciles() || !sts[1].Reconciles() || sts[1].PeriodStart != "2025-02-01" {
		t.Fatalf("statements = %+v, %v", sts, err)
	}
	// A closed day's figures are frozen.
	if r := e.call(op, http.MethodPut, "/ops/v1/accounts/"+acc+"/daily-balances/2025-02-28", map[string]any{"openingLedger": "0", "closingLedger": "0"}); r.Status != http.StatusConflict {
		t.Fatalf("rewriting a closed day = %d", r.Status)
	}
	for _, bad := range []string{`{"businessDate":"2025-02-30"}`, `{}`} {
		if r := e.call(op, http.MethodPost, "/ops/v1/accounts/"+acc+"/close-day", bad); r.Status != http.StatusUnprocessableEntity {
			t.Fatalf("close-day %s = %d", bad, r.Status)
		}
	}
	if r := e.call(op, http.MethodPost, "/ops/v1/accounts/acc_nope/close-day", map[string]any{"businessDate": "2025-02-28"}); r.Status != http.StatusNotFound {
		t.Fatalf("unknown account = %d", r.Status)
	}
}

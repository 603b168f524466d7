package ops_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/bankfeed/bankfeed/internal/apihttp"
	"github.com/bankfeed/bankfeed/store"
)

// TestOpsRefusals: the operator's bad requests get a problem naming what is
// wrong, and the stored records stay as they were.
func TestOpsRefusals(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	op := e.operator
	e.must(http.StatusCreated, op, http.MethodPost, "/ops/v1/transactions", map[string]any{"transactions": []any{
		txRow(e.acc1, "p1", "PENDING", "5.00", "DEBIT", "2025-03-03T15:00:00Z"),
		txRow(e.acc1, "x1", "POSTED", "7.00", "CREDIT", "2025-03-03T16:00:00Z"),
		txRow(e.acc1, "x2", "POSTED", "8.00", "CREDIT", "2025-03-05T16:00:00Z"),
	}})
	acc, err := e.st.GetAccount(ctx, e.acc1)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		method, path string
		body         any
		status       int
		field        string
	}{
		// Accounts.
		{http.MethodPatch, "/ops/v1/accounts/" + e.acc1, map[string]any{"number": "1"}, 400, "number"},
		{http.MethodPatch, "/ops/v1/accounts/acc_nope", map[string]any{"nickname": "x"}, 404, ""},
		{http.MethodPost, "/ops/v1/accounts/" + e.acc1 + "/close", map[string]any{"closedOn": "2023-12-31"}, 422, "closedOn"},
		{http.MethodPost, "/ops/v1/accounts/" + e.acc1 + "/close", map[string]any{"closedOn": "31/12/2025"}, 422, "closedOn"},
		{http.MethodPost, "/ops/v1/accounts/" + e.acc1 + "/reopen", nil, 409, ""},
		{http.MethodPost, "/ops/v1/accounts", map[string]any{"legalEntityId": e.le1, "number": "00012-003-9", "type": "LOAN",
			"currency": "CAD", "openedOn": "2025-13-01", "id": "bad id!"}, 422, "openedOn"},
		{http.MethodPost, "/ops/v1/accounts", map[string]any{"number": "00012-003-9", "type": "LOAN", "currency": "CAD"}, 422, "legalEntityId"},
		{http.MethodPost, "/ops/v1/accounts", map[string]any{"legalEntityId": "le_nope", "number": "00012-003-9", "type": "LOAN", "currency": "CAD"}, 404, ""},
		// Service agreements and legal entities.
		{http.MethodPost, "/ops/v1/service-agreements", map[string]any{"number": "SA-1"}, 422, "legalEntityId"},
		{http.MethodPost, "/ops/v1/service-agreements", map[string]any{"legalEntityId": e.le1, "number": "  "}, 422, "number"},
		{http.MethodPost, "/ops/v1/service-agreements", map[string]any{"legalEntityId": e.le1, "number": strings.Repeat("9", 65)}, 422, "number"},
		{http.MethodPost, "/ops/v1/service-agreements", map[string]any{"legalEntityId": "le_nope", "number": "SA-1"}, 404, ""},
		{http.MethodPost, "/ops/v1/service-agreements", `{"legalEntityId": 5}`, 400, "legalEntityId"},
		{http.MethodGet, "/ops/v1/legal-entities", nil, 400, ""},
		// Transactions.
		{http.MethodGet, "/ops/v1/transactions", nil, 400, ""},
		{http.MethodGet, "/ops/v1/transactions?accountId=acc_nope", nil, 404, ""},
		{http.MethodGet, "/ops/v1/transactions?accountId=" + e.acc1 + "&from=March", nil, 400, ""},
		{http.MethodGet, "/ops/v1/transactions?accountId=" + e.acc1 + "&after=garbage", nil, 400, ""},
		{http.MethodGet, "/ops/v1/transactions?accountId=" + e.acc1 + "&limit=abc", nil, 400, "limit"},
		{http.MethodDelete, "/ops/v1/accounts/" + e.acc1 + "/pending/x1", nil, 409, ""},
		{http.MethodDelete, "/ops/v1/accounts/" + e.acc1 + "/pending/nope", nil, 404, ""},
		{http.MethodDelete, "/ops/v1/accounts/acc_nope/pending/p1", nil, 404, ""},
		{http.MethodDelete, "/ops/v1/accounts/" + e.acc2 + "/pending/p1", nil, 404, ""},
	} {
		r := e.call(op, c.method, c.path, c.body)
		slug := map[int]string{400: "bad-request", 404: "not-found", 409: "conflict", 422: "invalid"}[c.status]
		if r.Status != c.status || r.Str("type") != apihttp.ProblemTypeBase+slug || r.Str("detail") == "" ||
			(c.field != "" && !strings.Contains(string(r.Raw), `"field":"`+c.field+`"`)) {
			t.Errorf("%s %s %v = %d %s; want %d %s naming %q", c.method, c.path, c.body, r.Status, r.Raw, c.status, slug, c.field)
		}
	}
	if got, err := e.st.GetAccount(ctx, e.acc1); err != nil || !got.UpdatedAt.Equal(acc.UpdatedAt) || got.Status != store.AccountOpen || got.ProductName != acc.ProductName {
		t.Errorf("account after the refusals = %+v, %v; was %+v", got, err, acc)
	}
	if p, err := e.st.GetTransactionByExternalID(ctx, e.acc1, "p1"); err != nil || !p.RemovedAt.IsZero() {
		t.Errorf("pending entry after the refusals = %+v, %v", p, err)
	}
	if as, _, err := e.st.ListAccounts(ctx, store.AccountFilter{LegalEntityID: &e.le1}, store.Page{Limit: 100}); err != nil || len(as) != 2 {
		t.Errorf("accounts of %s = %d, %v; want the 2 seeded", e.le1, len(as), err)
	}
	if sas, err := e.st.ListServiceAgreements(ctx, e.le1); err != nil || len(sas) != 0 {
		t.Errorf("service agreements = %v, %v", sas, err)
	}

	// What the refused requests would have done, done right.
	r := e.must(http.StatusOK, op, http.MethodPatch, "/ops/v1/accounts/"+e.acc1, map[string]any{"productName": " Business Chequing "})
	if r.Str("productName") != "Business Chequing" {
		t.Errorf("product name = %s", r.Raw)
	}
	r = e.must(http.StatusOK, op, http.MethodGet, "/ops/v1/transactions?accountId="+e.acc1+"&from=2025-03-04&to=2025-03-31", nil)
	if items := r.Items(); len(items) != 1 || items[0]["externalId"] != "x2" {
		t.Errorf("transactions from the 4th = %s", r.Raw)
	}
	e.must(http.StatusNoContent, op, http.MethodDelete, "/ops/v1/accounts/"+e.acc1+"/pending/p1", nil)
	if p, err := e.st.GetTransactionByExternalID(ctx, e.acc1, "p1"); err != nil || p.RemovedAt.IsZero() {
		t.Errorf("pending entry after removal = %+v, %v", p, err)
	}
}

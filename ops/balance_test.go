package ops_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/internal/apihttp/apitest"
	"github.com/bankfeed/bankfeed/store"
)

// opsAudits lists bg1's audit events of action on target.
func (e *env) opsAudits(action, target string) []store.AuditEvent {
	e.t.Helper()
	evs, _, err := e.st.ListAudit(e.t.Context(), store.AuditFilter{BusinessGroupID: &e.bg1, Action: &action, TargetID: &target}, store.Page{Limit: 100})
	if err != nil {
		e.t.Fatal(err)
	}
	return evs
}

func TestOpsBalance(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	op := e.operator
	path := "/ops/v1/accounts/" + e.acc1 + "/balance"

	// None yet: 404 naming the balance, for a known account.
	apitest.ProblemIs(t, e.call(op, http.MethodGet, path, nil), http.StatusNotFound, "not-found", "")
	if r := e.call(op, http.MethodGet, path, nil); !strings.Contains(r.Str("detail"), "balance of account") {
		t.Fatalf("missing balance = %s", r.Raw)
	}

	// Ledger only: available is the ledger, as of now.
	before := time.Now().UTC().Truncate(time.Microsecond)
	r := e.must(http.StatusOK, op, http.MethodPut, path, map[string]any{"ledger": "1250.40"})
	after := time.Now().UTC()
	if r.Str("ledger") != "1250.4" || r.Str("available") != "1250.4" {
		t.Fatalf("put ledger only = %s", r.Raw)
	}
	b, err := e.st.GetBalance(ctx, e.acc1)
	if err != nil || b.Ledger.String() != "1250.4" || b.Available.String() != "1250.4" || b.AsOf.Before(before) || b.AsOf.After(after) {
		t.Fatalf("stored balance = %+v, %v (put between %s and %s)", b, err, before, after)
	}

	// All three given; read back through the API and the store.
	body := map[string]any{"asOf": "2025-03-14T16:30:00-04:00", "ledger": "-20.05", "available": "980.00"}
	e.must(http.StatusOK, op, http.MethodPut, path, body)
	g := e.must(http.StatusOK, op, http.MethodGet, path, nil)
	if g.Str("asOf") != "2025-03-14T20:30:00Z" || g.Str("ledger") != "-20.05" || g.Str("available") != "980" {
		t.Fatalf("get balance = %s", g.Raw)
	}
	want, err := e.st.GetBalance(ctx, e.acc1)
	if err != nil || !want.AsOf.Equal(time.Date(2025, 3, 14, 20, 30, 0, 0, time.UTC)) || want.Ledger.String() != "-20.05" {
		t.Fatalf("stored balance = %+v, %v", want, err)
	}
	evs := e.opsAudits("account.balance_set", e.acc1)
	if len(evs) != 2 {
		t.Fatalf("%d audited balance changes, want 2", len(evs))
	}
	replaced := 0
	for _, ev := range evs {
		if ev.ActorID != "core-banking" || ev.TargetType != "account" {
			t.Errorf("audit event %+v", ev)
		}
		if strings.Contains(string(ev.Before), `"ledger":"1250.4"`) && strings.Contains(string(ev.After), `"ledger":"-20.05"`) {
			replaced++
		}
	}
	if replaced != 1 {
		t.Errorf("no audit event shows 1250.4 replaced by -20.05: %s / %s", evs[0].After, evs[1].After)
	}

	// Bad input is refused and changes nothing.
	for _, c := range []struct {
		body         any
		status       int
		slug, field  string
		detailInside string
	}{
		{map[string]any{"available": "1.00"}, http.StatusUnprocessableEntity, "invalid", "ledger", "ledger"},
		{map[string]any{"ledger": "1.005"}, http.StatusUnprocessableEntity, "invalid", "ledger", ""},
		{map[string]any{"ledger": "1.00", "available": "0.001"}, http.StatusUnprocessableEntity, "invalid", "available", ""},
		{`{"ledger": "ten"}`, http.StatusBadRequest, "bad-request", "", ""},
		{`{"ledger": "1.00", "asOf": "yesterday"}`, http.StatusBadRequest, "bad-request", "", ""},
		{map[string]any{"ledger": "1.00", "currency": "USD"}, http.StatusBadRequest, "bad-request", "currency", ""},
		{"", http.StatusBadRequest, "bad-request", "", "body is required"},
	} {
		r := e.call(op, http.MethodPut, path, c.body)
		apitest.ProblemIs(t, r, c.status, c.slug, c.field)
		if !strings.Contains(r.Str("detail"), c.detailInside) {
			t.Errorf("put %v: detail %q lacks %q", c.body, r.Str("detail"), c.detailInside)
		}
		if got, err := e.st.GetBalance(ctx, e.acc1); err != nil || !got.AsOf.Equal(want.AsOf) || !got.Ledger.Equal(want.Ledger) || !got.Available.Equal(want.Available) {
			t.Fatalf("after refused put %v: balance = %+v, %v", c.body, got, err)
		}
	}
	if n := len(e.opsAudits("account.balance_set", e.acc1)); n != 2 {
		t.Errorf("%d audited balance changes after refusals, want still 2", n)
	}
	// An unknown account is 404 for both verbs, and nothing is stored.
	for _, m := range []string{http.MethodGet, http.MethodPut} {
		apitest.ProblemIs(t, e.call(op, m, "/ops/v1/accounts/acc_nope/balance", map[string]any{"ledger": "1.00"}), http.StatusNotFound, "not-found", "")
	}
	if _, err := e.st.GetBalance(ctx, "acc_nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("balance of an unknown account: %v", err)
	}
	// Only the operator: an administrator's token is refused.
	adm := e.v.Add(store.Grant{RequestID: store.NewID("req"), ClientID: "online-banking", UserID: "u1", Scopes: []string{store.ScopeAdmin}, FirstParty: true})
	apitest.ProblemIs(t, e.call(adm, http.MethodGet, path, nil), http.StatusForbidden, "insufficient-scope", "")
}

func TestOpsDailyBalance(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	op := e.operator
	path := "/ops/v1/accounts/" + e.acc1 + "/daily-balances/2025-03-13"

	apitest.ProblemIs(t, e.call(op, http.MethodGet, path, nil), http.StatusNotFound, "not-found", "")
	// Available figures default to the ledger ones.
	r := e.must(http.StatusOK, op, http.MethodPut, path, map[string]any{"openingLedger": "100.00", "closingLedger": "150.25"})
	if r.Str("businessDate") != "2025-03-13" || r.Str("openingAvailable") != "100" || r.Str("closingAvailable") != "150.25" || r.Get("closed") != false {
		t.Fatalf("put = %s", r.Raw)
	}
	// Replaced while the day is open; the path's date may be repeated in the body.
	e.must(http.StatusOK, op, http.MethodPut, path, map[string]any{"businessDate": "2025-03-13", "openingLedger": "100.00",
		"closingLedger": "160.00", "openingAvailable": "90.00", "closingAvailable": "140.00"})
	g := e.must(http.StatusOK, op, http.MethodGet, path, nil)
	if g.Str("closingLedger") != "160" || g.Str("openingAvailable") != "90" || g.Str("closingAvailable") != "140" || g.Get("closed") != false {
		t.Fatalf("get = %s", g.Raw)
	}
	stored, err := e.st.GetDailyBalance(ctx, e.acc1, "2025-03-13")
	if err != nil || stored.ClosingLedger.String() != "160" || stored.OpeningAvailable.String() != "90" || stored.Closed {
		t.Fatalf("stored = %+v, %v", stored, err)
	}
	if n := len(e.opsAudits("account.daily_balance_set", e.acc1)); n != 2 {
		t.Errorf("%d audited daily balance changes, want 2", n)
	}

	for _, c := range []struct {
		path   string
		body   any
		status int
		field  string
	}{
		{path, map[string]any{"openingLedger": "1", "closingLedger": "2", "closed": true}, http.StatusUnprocessableEntity, "closed"},
		{path, map[string]any{"businessDate": "2025-03-12", "openingLedger": "1", "closingLedger": "2"}, http.StatusUnprocessableEntity, "businessDate"},
		{path, map[string]any{"openingLedger": "1"}, http.StatusUnprocessableEntity, "closingLedger"},
		{path, map[string]any{"closingLedger": "1"}, http.StatusUnprocessableEntity, "openingLedger"},
		{path, map[string]any{"openingLedger": "1", "closingLedger": "2.001"}, http.StatusUnprocessableEntity, "closingLedger"},
		{path, `{"openingLedger": "1", "closingLedger": 2, "extra": 1}`, http.StatusBadRequest, "extra"},
		{"/ops/v1/accounts/" + e.acc1 + "/daily-balances/2025-02-30", map[string]any{"openingLedger": "1", "closingLedger": "2"}, http.StatusBadRequest, ""},
		{"/ops/v1/accounts/acc_nope/daily-balances/2025-03-13", map[string]any{"openingLedger": "1", "closingLedger": "2"}, http.StatusNotFound, ""},
	} {
		r := e.call(op, http.MethodPut, c.path, c.body)
		slug := map[int]string{400: "bad-request", 404: "not-found", 422: "invalid"}[c.status]
		apitest.ProblemIs(t, r, c.status, slug, c.field)
		if got, err := e.st.GetDailyBalance(ctx, e.acc1, "2025-03-13"); err != nil || !got.ClosingLedger.Equal(stored.ClosingLedger) ||
			!got.OpeningAvailable.Equal(stored.OpeningAvailable) || got.Closed {
			t.Fatalf("after refused put %v: %+v, %v", c.body, got, err)
		}
	}
	if _, err := e.st.GetDailyBalance(ctx, e.acc1, "2025-03-12"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a refused put stored another day: %v", err)
	}
	apitest.ProblemIs(t, e.call(op, http.MethodGet, "/ops/v1/accounts/"+e.acc1+"/daily-balances/13-03-2025", nil), http.StatusBadRequest, "bad-request", "")
	apitest.ProblemIs(t, e.call(op, http.MethodGet, "/ops/v1/accounts/acc_nope/daily-balances/2025-03-13", nil), http.StatusNotFound, "not-found", "")
	if n := len(e.opsAudits("account.daily_balance_set", e.acc1)); n != 2 {
		t.Errorf("%d audited daily balance changes after refusals, want still 2", n)
	}
}

func TestOpsAccountStatementsAgreements(t *testing.T) {
	e := newEnv(t)
	op := e.operator

	// One account, with its full number (the operator's view).
	r := e.must(http.StatusOK, op, http.MethodGet, "/ops/v1/accounts/"+e.acc3, nil)
	if r.Str("id") != e.acc3 || r.Str("number") != "00012-003-2000001" || r.Str("displayNumber") != "****0001" ||
		r.Str("businessGroupId") != e.bg2 || r.Str("legalEntityId") != e.le2 || r.Str("status") != "OPEN" || r.Str("openedOn") != "2024-01-02" {
		t.Fatalf("get account = %s", r.Raw)
	}
	apitest.ProblemIs(t, e.call(op, http.MethodGet, "/ops/v1/accounts/acc_nope", nil), http.StatusNotFound, "not-found", "")

	// Statements: none, then January's from closing its last weekday.
	path := "/ops/v1/accounts/" + e.acc1 + "/statements"
	if items := e.must(http.StatusOK, op, http.MethodGet, path, nil); len(items.Items()) != 0 || string(items.Raw) != `{"items":[]}`+"\n" {
		t.Fatalf("no statements = %q", items.Raw)
	}
	e.must(http.StatusOK, op, http.MethodPut, "/ops/v1/accounts/"+e.acc1+"/daily-balances/2025-01-31", map[string]any{"openingLedger": "10.00", "closingLedger": "10.00"})
	closed := e.must(http.StatusOK, op, http.MethodPost, "/ops/v1/accounts/"+e.acc1+"/close-day", map[string]any{"businessDate": "2025-01-31"})
	sts := e.must(http.StatusOK, op, http.MethodGet, path, nil).Items()
	if len(sts) != 1 || sts[0]["id"] != closed.Str("statement.id") || sts[0]["periodStart"] != "2025-01-01" || sts[0]["periodEnd"] != "2025-01-31" ||
		sts[0]["closingBalance"] != "10" {
		t.Fatalf("statements = %v (close-day %s)", sts, closed.Raw)
	}
	if others := e.must(http.StatusOK, op, http.MethodGet, "/ops/v1/accounts/"+e.acc2+"/statements", nil).Items(); len(others) != 0 {
		t.Fatalf("another account's statements = %v", others)
	}
	apitest.ProblemIs(t, e.call(op, http.MethodGet, "/ops/v1/accounts/acc_nope/statements", nil), http.StatusNotFound, "not-found", "")

	// Service agreements of one legal entity.
	for _, n := range []string{"SA-100", "SA-200"} {
		e.must(http.StatusCreated, op, http.MethodPost, "/ops/v1/service-agreements", map[string]any{"legalEntityId": e.le1, "number": n})
	}
	e.must(http.StatusCreated, op, http.MethodPost, "/ops/v1/service-agreements", map[string]any{"legalEntityId": e.le2, "number": "SA-300"})
	got := e.must(http.StatusOK, op, http.MethodGet, "/ops/v1/service-agreements?legalEntityId="+e.le1, nil).Items()
	var numbers []string
	for _, a := range got {
		if a["legalEntityId"] != e.le1 || a["businessGroupId"] != e.bg1 || a["id"] == "" {
			t.Errorf("agreement %v", a)
		}
		numbers = append(numbers, a["number"].(string))
	}
	if strings.Join(numbers, ",") != "SA-100,SA-200" && strings.Join(numbers, ",") != "SA-200,SA-100" {
		t.Fatalf("agreements of %s = %v", e.le1, numbers)
	}
	apitest.ProblemIs(t, e.call(op, http.MethodGet, "/ops/v1/service-agreements", nil), http.StatusBadRequest, "bad-request", "")
	if none := e.must(http.StatusOK, op, http.MethodGet, "/ops/v1/service-agreements?legalEntityId=le_nope", nil).Items(); len(none) != 0 {
		t.Fatalf("agreements of an unknown entity = %v", none)
	}
}

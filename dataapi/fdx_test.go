package dataapi_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bankfeed/bankfeed/store"
)

// TestStatementLinksAreFDXContentTypes is issue 13 §1: a strict FDX client
// rejects a statement whose links[].types holds a media type FDX does not
// name (camt, BAI2, OFX, CSV…). The link lists only FDX content types; the
// other formats are in the additive documentTypes.
func TestStatementLinksAreFDXContentTypes(t *testing.T) {
	e := newEnv(t, envOptions{})
	tok := e.token(t)
	r := e.get(t, tok, base+"/accounts/"+e.f.chq+"/statements")
	wantStatus(t, r, 200)
	var l struct {
		Statements []struct {
			Links []struct {
				Types []string `json:"types"`
			} `json:"links"`
			DocumentTypes []string `json:"documentTypes"`
		} `json:"statements"`
	}
	r.json(t, &l)
	if len(l.Statements) == 0 {
		t.Fatalf("no statements: %s", r.body)
	}
	for _, s := range l.Statements {
		for _, link := range s.Links {
			if len(link.Types) == 0 {
				t.Fatalf("a link without types: %s", r.body)
			}
			for _, ty := range link.Types {
				if ty != "application/pdf" && ty != "application/json" && !strings.HasPrefix(ty, "image/") {
					t.Errorf("links[].types holds %q, not an FDX content type", ty)
				}
			}
			if link.Types[0] != "application/pdf" {
				t.Errorf("default type %q, want application/pdf first", link.Types[0])
			}
		}
		for _, want := range []string{"application/pdf", "text/csv", "application/x-ofx"} {
			if !slices.ContainsFunc(s.DocumentTypes, func(ty string) bool { return strings.HasPrefix(ty, want) }) {
				t.Errorf("documentTypes %v lacks %s", s.DocumentTypes, want)
			}
		}
	}
}

// TestErrorsForFDXClients is issue 13 §1: FDX's examples carry code as a
// number with Content-Type application/json. A client that accepts only
// application/json gets that shape (numeric code, message, debugMessage);
// every other client keeps the RFC 9457 problem with the code as a string.
func TestErrorsForFDXClients(t *testing.T) {
	e := newEnv(t, envOptions{})
	tok := e.token(t)
	missing := base + "/accounts/acc_nope"
	cases := []struct {
		name, accept string
		wantFDX      bool
	}{
		{"no Accept", "", false},
		{"any", "*/*", false},
		{"problem+json", "application/problem+json", false},
		{"both, problem first", "application/problem+json, application/json", false},
		{"application/json only", "application/json", true},
		{"application/json with a charset", "application/json; charset=utf-8", true},
		{"application/json preferred over problem+json", "application/json, application/problem+json;q=0.5", true},
		{"application/json with anything at a lower weight", "application/json, */*;q=0.1", true},
		{"application/json named beside */*", "application/json, */*", true},
		{"problem+json preferred", "application/problem+json, application/json;q=0.9", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var hdr []string
			if tc.accept != "" {
				hdr = []string{"Accept", tc.accept}
			}
			r := e.get(t, tok, missing, hdr...)
			wantStatus(t, r, 404)
			ct := r.header.Get("Content-Type")
			var raw map[string]json.RawMessage
			r.json(t, &raw)
			if !tc.wantFDX {
				if !strings.HasPrefix(ct, "application/problem+json") {
					t.Fatalf("Content-Type %q, want application/problem+json", ct)
				}
				wantProblem(t, r, 404, "701")
				return
			}
			if !strings.HasPrefix(ct, "application/json") {
				t.Fatalf("Content-Type %q, want application/json", ct)
			}
			var fdx struct {
				Code         int    `json:"code"`
				Message      string `json:"message"`
				DebugMessage string `json:"debugMessage"`
			}
			r.json(t, &fdx)
			if fdx.Code != 701 || fdx.Message == "" || fdx.DebugMessage == "" {
				t.Fatalf("FDX error %s", r.body)
			}
		})
	}
	t.Run("headers survive: 401 keeps WWW-Authenticate", func(t *testing.T) {
		r := e.get(t, "", base+"/accounts", "Accept", "application/json")
		wantStatus(t, r, 401)
		if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer ") || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
			t.Fatalf("headers %v", r.header)
		}
		var fdx struct{ Code int }
		r.json(t, &fdx)
		if fdx.Code != 603 {
			t.Fatalf("body %s", r.body)
		}
	})
	t.Run("invalid parameters name each one", func(t *testing.T) {
		r := e.get(t, tok, base+"/accounts?limit=0&bogus=1", "Accept", "application/json")
		wantStatus(t, r, 400)
		var fdx struct {
			Code   int
			Errors []struct{ Name string }
		}
		r.json(t, &fdx)
		if fdx.Code != 401 || len(fdx.Errors) != 2 {
			t.Fatalf("body %s", r.body)
		}
	})
}

// TestBalanceSignsByCategory is issue 13 §1: FDX reports what is owed on a
// line of credit, card or loan as a positive currentBalance or
// principalBalance (a negative one reads as a credit); a deposit's balances
// are what the holder has. The signed ledger view (negative: owed) stays in
// the additive currentLedgerBalance. Loans and lines of credit carry the
// interestRate and interestRateType FDX requires.
func TestBalanceSignsByCategory(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := t.Context()
	card := must(e.st.CreateAccount(ctx, store.Account{ID: "acc_card", BusinessGroupID: e.f.bgAcme, LegalEntityID: e.f.leOps,
		Number: "4520-9900-0000-1234", Type: store.AccountCreditCard, ProductName: "Business Visa", Currency: "CAD",
		Status: store.AccountOpen, OpenedOn: "2020-01-02", InterestRate: m("19.99"), InterestRateType: store.RateFixed}))
	must(e.st.UpdateAccountGroup(ctx, e.f.group, func(g store.AccountGroup) (store.AccountGroup, error) {
		g.AccountIDs = append(g.AccountIDs, card.ID)
		return g, nil
	}))
	if err := e.st.SetBalance(ctx, store.Balance{AccountID: card.ID, AsOf: t0, Ledger: m("-8440.65"), Available: m("41559.35")}); err != nil {
		t.Fatal(err)
	}
	// A card paid more than owed holds a credit: FDX's negative balance.
	must(e.st.CreateAccount(ctx, store.Account{ID: "acc_card2", BusinessGroupID: e.f.bgAcme, LegalEntityID: e.f.leOps,
		Number: "4520-9900-0000-5678", Type: store.AccountCreditCard, ProductName: "Business Visa", Currency: "CAD",
		Status: store.AccountOpen, OpenedOn: "2020-01-02"}))
	must(e.st.UpdateAccountGroup(ctx, e.f.group, func(g store.AccountGroup) (store.AccountGroup, error) {
		g.AccountIDs = append(g.AccountIDs, "acc_card2")
		return g, nil
	}))
	if err := e.st.SetBalance(ctx, store.Balance{AccountID: "acc_card2", AsOf: t0, Ledger: m("12.50"), Available: m("50012.50")}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{e.f.loc, e.f.loan} {
		must(e.st.UpdateAccount(ctx, id, func(a store.Account) (store.Account, error) {
			a.InterestRate, a.InterestRateType = m("7.45"), store.RateVariable
			if a.Type == store.AccountLoan {
				a.InterestRate, a.InterestRateType = m("5.89"), store.RateFixed
			}
			return a, nil
		}))
	}
	tok := e.token(t)
	type out struct {
		CurrentBalance       *string `json:"currentBalance"`
		AvailableBalance     *string `json:"availableBalance"`
		AvailableCredit      *string `json:"availableCredit"`
		PrincipalBalance     *string `json:"principalBalance"`
		CurrentLedgerBalance *string `json:"currentLedgerBalance"`
		InterestRate         *string `json:"interestRate"`
		InterestRateType     string  `json:"interestRateType"`
	}
	s := func(v string) *string { return &v }
	cases := []struct {
		name, id string
		want     out
	}{
		{"deposit: what the holder has", e.f.sav, out{CurrentBalance: s("0.00"), AvailableBalance: s("0.00"), CurrentLedgerBalance: s("0.00")}},
		{"line of credit: owed, positive", e.f.loc, out{CurrentBalance: s("2500.00"), AvailableCredit: s("7500.00"), CurrentLedgerBalance: s("-2500.00"), InterestRate: s("7.45"), InterestRateType: "VARIABLE"}},
		{"loan: principal owed, positive", e.f.loan, out{PrincipalBalance: s("120000.00"), CurrentLedgerBalance: s("-120000.00"), InterestRate: s("5.89"), InterestRateType: "FIXED"}},
		{"credit card: owed, positive", card.ID, out{CurrentBalance: s("8440.65"), AvailableCredit: s("41559.35"), CurrentLedgerBalance: s("-8440.65"), InterestRate: s("19.99"), InterestRateType: "FIXED"}},
		{"credit card in credit: negative", "acc_card2", out{CurrentBalance: s("-12.50"), AvailableCredit: s("50012.50"), CurrentLedgerBalance: s("12.50")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			check := func(what string, body []byte) {
				t.Helper()
				var raw map[string]json.RawMessage
				if err := json.Unmarshal(body, &raw); err != nil {
					t.Fatal(err)
				}
				var got out
				str := func(k string) *string {
					v, ok := raw[k]
					if !ok {
						return nil
					}
					x := string(v)
					return &x
				}
				got.CurrentBalance, got.AvailableBalance, got.AvailableCredit = str("currentBalance"), str("availableBalance"), str("availableCredit")
				got.PrincipalBalance, got.CurrentLedgerBalance, got.InterestRate = str("principalBalance"), str("currentLedgerBalance"), str("interestRate")
				if v := str("interestRateType"); v != nil {
					got.InterestRateType = strings.Trim(*v, `"`)
				}
				if d := cmp.Diff(tc.want, got); d != "" {
					t.Errorf("%s (-want +got):\n%s\n%s", what, d, body)
				}
			}
			r := e.get(t, tok, base+"/accounts/"+tc.id)
			wantStatus(t, r, 200)
			check("getAccount", r.body)
			var list struct{ Accounts []json.RawMessage }
			e.get(t, tok, base+"/accounts?resultType=details&accountIds="+tc.id).json(t, &list)
			if len(list.Accounts) != 1 {
				t.Fatalf("details list: %d accounts", len(list.Accounts))
			}
			check("searchForAccounts details", list.Accounts[0])
		})
	}
}

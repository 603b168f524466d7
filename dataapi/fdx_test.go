package dataapi_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

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

// fdxConsent connects a second vendor, cli_fdx, to the fixture's user with
// every data scope, ours and FDX's.
func fdxConsent(t testing.TB, e *env) store.Consent {
	t.Helper()
	ctx := context.Background()
	must(e.st.CreateClient(ctx, store.Client{ID: "cli_fdx", Name: "FDX Recipient", RedirectURIs: []string{"https://fdx.example/cb"},
		GrantTypes: []string{"authorization_code", "refresh_token"}, ResponseTypes: []string{"code"},
		Scopes: append([]string{"openid", "offline_access"}, store.DataScopes...), TokenEndpointAuthMethod: "client_secret_basic",
		LogoURI: "https://fdx.example/logo.png", PolicyURI: "https://fdx.example/privacy"}))
	return must(e.st.CreateConsent(ctx, store.Consent{UserID: e.f.user, ClientID: "cli_fdx",
		Scopes: append([]string{"openid", "offline_access"}, store.DataScopes...), GrantedAt: t0.Add(-time.Hour)}))
}

// TestFDXScopes is issue 13 §2: FDX's scopes open what ours open, cluster by
// cluster — accountbasic the descriptors, accountdetailed with balances,
// transactions the transactions and the change feed, statements the
// statements, their documents and exports — and the job role bounds them as
// it bounds ours.
func TestFDXScopes(t *testing.T) {
	e := newEnv(t, envOptions{})
	cns := fdxConsent(t, e)
	acct := base + "/accounts/" + e.f.chq
	endpoints := []struct {
		path   string
		scopes []string // any of these opens it
	}{
		{base + "/customers/current", store.DataScopes},
		{base + "/accounts", []string{store.ScopeAccountsRead, store.ScopeFDXAccountBasic, store.ScopeFDXAccountDetailed}},
		{base + "/accounts?resultType=details", []string{store.ScopeAccountsRead, store.ScopeFDXAccountDetailed}},
		{acct, []string{store.ScopeAccountsRead, store.ScopeFDXAccountBasic, store.ScopeFDXAccountDetailed}},
		{acct + "/transactions", []string{store.ScopeAccountsRead, store.ScopeFDXTransactions}},
		{acct + "/transactions/sync", []string{store.ScopeAccountsRead, store.ScopeFDXTransactions}},
		{acct + "/statements", []string{store.ScopeStatementsRead, store.ScopeFDXStatements}},
		{acct + "/statements/" + e.f.stmtJan + "?format=json", []string{store.ScopeStatementsRead, store.ScopeFDXStatements}},
		{base + "/accounts/" + e.f.sav + "/exports?format=json&status=all", []string{store.ScopeStatementsRead, store.ScopeFDXStatements}},
	}
	for _, sc := range store.DataScopes {
		tok := e.v.issue(cns.ID, []string{"openid", sc}, t0.Add(time.Hour))
		for _, ep := range endpoints {
			t.Run(sc+" "+strings.TrimPrefix(ep.path, base), func(t *testing.T) {
				r := e.get(t, tok, ep.path)
				if slices.Contains(ep.scopes, sc) {
					wantStatus(t, r, 200)
					return
				}
				wantProblem(t, r, 403, "403")
			})
		}
	}
	t.Run("accountbasic alone: the descriptor without balances", func(t *testing.T) {
		tok := e.v.issue(cns.ID, []string{store.ScopeFDXAccountBasic}, t0.Add(time.Hour))
		r := e.get(t, tok, acct)
		wantStatus(t, r, 200)
		if strings.Contains(string(r.body), "Balance") {
			t.Fatalf("balances without fdx:accountdetailed:read: %s", r.body)
		}
		r = e.get(t, e.v.issue(cns.ID, []string{store.ScopeFDXAccountDetailed}, t0.Add(time.Hour)), acct)
		if !strings.Contains(string(r.body), `"currentBalance"`) {
			t.Fatalf("no balances with fdx:accountdetailed:read: %s", r.body)
		}
	})
	t.Run("the job role bounds them", func(t *testing.T) {
		tok := e.v.issue(cns.ID, []string{store.ScopeFDXTransactions, store.ScopeFDXStatements}, t0.Add(time.Hour))
		wantStatus(t, e.get(t, tok, acct+"/transactions"), 200)
		must(e.st.PutAssignment(context.Background(), store.Assignment{BusinessGroupID: e.f.bgAcme, UserID: e.f.user, JobRoleID: e.f.roleNoStmt, AccountGroupID: e.f.group}))
		wantStatus(t, e.get(t, tok, acct+"/transactions"), 200)
		r := e.get(t, tok, acct+"/statements")
		wantProblem(t, r, 403, "403")
		if h := r.header.Get("WWW-Authenticate"); !strings.Contains(h, store.ScopeFDXStatements) || !strings.Contains(h, store.ScopeStatementsRead) {
			t.Fatalf("WWW-Authenticate %q does not name both scopes", h)
		}
	})
}

// TestAccountContact is issue 13 §2: FDX AccountContact names the account's
// holder — its legal entity: legal name, address, e-mail, telephone — with
// the scope fdx:customercontact:read and the access rules of every account
// endpoint.
func TestAccountContact(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	cns := fdxConsent(t, e)
	must(e.st.UpdateLegalEntity(ctx, e.f.leOps, func(le store.LegalEntity) (store.LegalEntity, error) {
		le.Contact = store.Contact{AddressLine1: "100 King St W", AddressLine2: "Suite 5700", City: "Toronto", Region: "ON",
			PostalCode: "M5X 1C7", Country: "CA", Email: "ap@acme.example", Phone: "+14165550100"}
		return le, nil
	}))
	tok := e.v.issue(cns.ID, []string{store.ScopeFDXCustomerContact}, t0.Add(time.Hour))
	type contact struct {
		Holders []struct {
			Relationship     string `json:"relationship"`
			Type             string `json:"type"`
			BusinessCustomer struct {
				Name string `json:"name"`
			} `json:"businessCustomer"`
		} `json:"holders"`
		Emails    []string `json:"emails"`
		Addresses []struct {
			Line1, Line2, City, Region, PostalCode, Country, Type string
		} `json:"addresses"`
		Telephones []struct {
			Type, Country, Number string
		} `json:"telephones"`
	}
	t.Run("the holder with its contact", func(t *testing.T) {
		r := e.get(t, tok, base+"/accounts/"+e.f.chq+"/contact")
		wantStatus(t, r, 200)
		var c contact
		r.json(t, &c)
		if len(c.Holders) != 1 || c.Holders[0].BusinessCustomer.Name != "Acme Operations Ltd." || c.Holders[0].Type != "BUSINESS" ||
			len(c.Emails) != 1 || c.Emails[0] != "ap@acme.example" ||
			len(c.Addresses) != 1 || c.Addresses[0].Line1 != "100 King St W" || c.Addresses[0].City != "Toronto" || c.Addresses[0].PostalCode != "M5X 1C7" || c.Addresses[0].Country != "CA" ||
			len(c.Telephones) != 1 || c.Telephones[0].Country != "1" || c.Telephones[0].Number != "4165550100" || c.Telephones[0].Type != "BUSINESS" {
			t.Fatalf("contact %s", r.body)
		}
	})
	t.Run("a holder with nothing on record: the name alone", func(t *testing.T) {
		r := e.get(t, tok, base+"/accounts/"+e.f.loc+"/contact")
		wantStatus(t, r, 200)
		var c contact
		r.json(t, &c)
		if len(c.Holders) != 1 || c.Holders[0].BusinessCustomer.Name != "Acme Holdings Inc." || len(c.Emails)+len(c.Addresses)+len(c.Telephones) != 0 {
			t.Fatalf("contact %s", r.body)
		}
	})
	t.Run("same access rules: outside the group, another business, missing", func(t *testing.T) {
		for _, id := range []string{e.f.out, e.f.foreign, "acc_nope"} {
			wantProblem(t, e.get(t, tok, base+"/accounts/"+id+"/contact"), 404, "701")
		}
	})
	t.Run("only fdx:customercontact:read opens it", func(t *testing.T) {
		for _, sc := range store.DataScopes {
			if sc == store.ScopeFDXCustomerContact {
				continue
			}
			wantProblem(t, e.get(t, e.v.issue(cns.ID, []string{sc}, t0.Add(time.Hour)), base+"/accounts/"+e.f.chq+"/contact"), 403, "403")
		}
	})
	t.Run("the job role bounds it", func(t *testing.T) {
		must(e.st.UpdateJobRole(ctx, e.f.role, func(r store.JobRole) (store.JobRole, error) {
			r.Grants = store.Grants{{Permission: store.PermManageStatements, Rights: store.Rights(store.RightView)}}
			return r, nil
		}))
		wantProblem(t, e.get(t, tok, base+"/accounts/"+e.f.chq+"/contact"), 403, "403")
	})
}

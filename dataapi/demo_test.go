package dataapi_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/dataapi"
	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/store/demo"
)

// TestDemoStatementsReconcile seeds the demo data set and checks, through
// the API, that every statement of every account the accounting software
// user can see reconciles (opening + Σ entries = closing) as JSON and passes
// the export proof as camt.053.
func TestDemoStatementsReconcile(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds the demo data set")
	}
	ctx := context.Background()
	st := openStore(t)
	creds, err := demo.Seed(ctx, st, demo.Options{Now: t0})
	if err != nil {
		t.Fatalf("seed demo: %v", err)
	}
	v := &verifier{st: st, tokens: map[string]tokenInfo{}}
	api, err := dataapi.New(dataapi.Config{Store: st, Verifier: v, Now: func() time.Time { return t0 }, PageKeySecret: bytes.Repeat([]byte("d"), 32)})
	if err != nil {
		t.Fatal(err)
	}
	ec := echo.New()
	api.Mount(ec)
	srv := httptest.NewServer(ec)
	defer srv.Close()
	spec, rt := loadSpec(t)
	e := &env{t: t, st: st, v: v, srv: srv, api: api, spec: spec, rt: rt}

	statements := 0
	for _, g := range creds.BusinessGroups {
		as := g.AccountingSoftware
		must(st.UpdateUser(ctx, as.UserID, func(u store.User) (store.User, error) { u.Status = store.UserActive; return u, nil }))
		c := newConsent(t, st, as.UserID, creds.Vendor.ClientID)
		tok := v.issue(c.ID, nil, t0.Add(time.Hour))
		var accts struct{ Accounts []accountOut }
		r := e.get(t, tok, base+"/accounts")
		wantStatus(t, r, 200)
		r.json(t, &accts)
		if len(accts.Accounts) != len(g.AccountGroup.AccountIDs) {
			t.Errorf("%s: %d accounts listed, account group has %d", g.Name, len(accts.Accounts), len(g.AccountGroup.AccountIDs))
		}
		for _, a := range accts.Accounts {
			var l struct {
				Statements []struct {
					StatementID string `json:"statementId"`
				} `json:"statements"`
			}
			r := e.get(t, tok, base+"/accounts/"+a.AccountID+"/statements")
			wantStatus(t, r, 200)
			r.json(t, &l)
			for _, s := range l.Statements {
				path := base + "/accounts/" + a.AccountID + "/statements/" + url.PathEscape(s.StatementID)
				r := e.get(t, tok, path, "Accept", "application/json")
				wantStatus(t, r, 200)
				checkStatementReconciles(t, r)
				wantStatus(t, e.get(t, tok, path+"?format=camt053"), 200)
				statements++
			}
		}
	}
	if statements == 0 {
		t.Fatal("the demo made no statement visible")
	}
	t.Logf("%d demo statements reconcile", statements)
}

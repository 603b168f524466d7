package dataapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/store"
)

// put sends PUT path with a JSON body and checks the response like get.
func (e *env) put(t testing.TB, token, path, body string) resp {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := resp{status: res.StatusCode, header: res.Header, body: b}
	req.Body = io.NopCloser(strings.NewReader(body))
	if err := e.check(req, r); err != nil {
		t.Errorf("PUT %s → %d: %v\nbody: %s", path, r.status, err, clip(b))
	}
	return r
}

type consentOut struct {
	ID      string `json:"id"`
	Status  string `json:"status"`
	Parties []struct {
		Name, Type string
		LogoURI    string `json:"logoUri"`
	} `json:"parties"`
	CreatedTime    string `json:"createdTime"`
	ExpirationTime string `json:"expirationTime"`
	DurationType   string `json:"durationType"`
	DurationPeriod int    `json:"durationPeriod"`
	Resources      []struct {
		ResourceType string   `json:"resourceType"`
		ResourceID   string   `json:"resourceId"`
		DataClusters []string `json:"dataClusters"`
	} `json:"resources"`
}

// TestConsentAPI is issue 13 §2: the FDX Consent API. A recipient reads a
// consent of its own — status, parties, duration, and the resources granted
// now: the accounts of the account group with the data clusters of the
// scopes the job role still allows — and revokes it with a reason, at once
// (its tokens stop, the bank's connections page no longer lists it) and
// audited. Another client's consent is a 404, as is an unknown one.
func TestConsentAPI(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	fdx := fdxConsent(t, e)
	tok := e.v.issue(fdx.ID, []string{"openid", store.ScopeFDXTransactions, store.ScopeFDXStatements}, t0.Add(time.Hour))
	path := base + "/consents/" + fdx.ID

	t.Run("read", func(t *testing.T) {
		r := e.get(t, tok, path)
		wantStatus(t, r, 200)
		var c consentOut
		r.json(t, &c)
		if c.ID != fdx.ID || c.Status != "ACTIVE" || c.DurationType != "PERSISTENT" || c.CreatedTime == "" {
			t.Fatalf("consent %s", r.body)
		}
		var types []string
		for _, p := range c.Parties {
			types = append(types, p.Type+":"+p.Name)
		}
		if !slices.Equal(types, []string{"DATA_RECIPIENT:FDX Recipient", "DATA_PROVIDER:Bankfeed Test Bank"}) || c.Parties[0].LogoURI != "https://fdx.example/logo.png" {
			t.Fatalf("parties %v: %s", types, r.body)
		}
		var accounts []string
		for _, res := range c.Resources {
			accounts = append(accounts, res.ResourceID)
			// The consent granted every data scope; the clusters are the
			// consent's, FDX's and ours mapped onto FDX's, once each.
			want := []string{"ACCOUNT_BASIC", "ACCOUNT_DETAILED", "TRANSACTIONS", "STATEMENTS", "CUSTOMER_CONTACT"}
			if res.ResourceType != "ACCOUNT" || !slices.Equal(res.DataClusters, want) {
				t.Fatalf("resource %+v, want clusters %v", res, want)
			}
		}
		// The account group as it is now, not acc_out nor the other business's account.
		if want := []string{e.f.chq, e.f.loan, e.f.loc, e.f.sav}; !slices.Equal(accounts, want) {
			t.Fatalf("accounts %v, want %v", accounts, want)
		}
	})
	t.Run("granted now: the job role narrows the clusters", func(t *testing.T) {
		must(e.st.PutAssignment(ctx, store.Assignment{BusinessGroupID: e.f.bgAcme, UserID: e.f.user, JobRoleID: e.f.roleNoStmt, AccountGroupID: e.f.group}))
		t.Cleanup(func() {
			must(e.st.PutAssignment(ctx, store.Assignment{BusinessGroupID: e.f.bgAcme, UserID: e.f.user, JobRoleID: e.f.role, AccountGroupID: e.f.group}))
		})
		var c consentOut
		e.get(t, tok, path).json(t, &c)
		if len(c.Resources) == 0 || slices.Contains(c.Resources[0].DataClusters, "STATEMENTS") {
			t.Fatalf("statements still granted: %+v", c.Resources)
		}
	})
	t.Run("only its own client", func(t *testing.T) {
		// The fixture's vendor holds a consent of the same user: it may not
		// read cli_fdx's; nor may anyone read a consent that does not exist.
		vendor := e.token(t)
		wantProblem(t, e.get(t, vendor, path), 404, "1107")
		wantProblem(t, e.put(t, vendor, path+"/revocation", `{"reason":"USER_ACTION","initiator":"DATA_RECIPIENT"}`), 404, "1107")
		wantProblem(t, e.get(t, tok, base+"/consents/cns_nope"), 404, "1107")
		wantProblem(t, e.get(t, "", path), 401, "603")
		if c := must(e.st.GetConsent(ctx, fdx.ID)); !c.RevokedAt.IsZero() {
			t.Fatal("another client revoked the consent")
		}
	})
	t.Run("bad revocation requests change nothing", func(t *testing.T) {
		for _, body := range []string{``, `{`, `{"reason":"USER_ACTION"}`, `{"reason":"BORED","initiator":"DATA_RECIPIENT"}`,
			`{"reason":"USER_ACTION","initiator":"DATA_PROVIDER"}`, `{"reason":"USER_ACTION","initiator":"DATA_RECIPIENT","extra":1}`} {
			wantProblem(t, e.put(t, tok, path+"/revocation", body), 400, "401")
		}
		wantProblem(t, e.do(t, http.MethodGet, tok, path+"/revocation"), 405, "1206")
		wantProblem(t, e.do(t, http.MethodDelete, tok, path), 405, "1206")
		if c := must(e.st.GetConsent(ctx, fdx.ID)); !c.RevokedAt.IsZero() {
			t.Fatal("a bad request revoked the consent")
		}
	})
	t.Run("revoke", func(t *testing.T) {
		// Another connection of the same client, to read the consent after
		// the revocation: the revoked one's own tokens stop at once.
		must(e.st.CreateUser(ctx, store.User{ID: "usr_as2", BusinessGroupID: e.f.bgAcme, LoginID: "acme-books-2", DisplayName: "Books 2",
			AccountingSoftware: true, Status: store.UserActive}))
		must(e.st.PutAssignment(ctx, store.Assignment{BusinessGroupID: e.f.bgAcme, UserID: "usr_as2", JobRoleID: e.f.role, AccountGroupID: e.f.group}))
		second := must(e.st.CreateConsent(ctx, store.Consent{UserID: "usr_as2", ClientID: "cli_fdx", Scopes: []string{"openid", store.ScopeFDXTransactions}, GrantedAt: t0.Add(-time.Hour)}))
		tok2 := e.v.issue(second.ID, nil, t0.Add(time.Hour))

		r := e.put(t, tok, path+"/revocation", `{"reason":"USER_ACTION","initiator":"DATA_RECIPIENT"}`)
		wantStatus(t, r, 204)
		if len(r.body) != 0 {
			t.Fatalf("204 with a body: %s", r.body)
		}
		if c := must(e.st.GetConsent(ctx, fdx.ID)); c.RevokedAt.IsZero() {
			t.Fatal("not revoked in the store (the connections page lists active consents only)")
		}
		wantProblem(t, e.get(t, tok, base+"/accounts/"+e.f.chq+"/transactions"), 401, "603")
		var c consentOut
		e.get(t, tok2, path).json(t, &c)
		if c.Status != "REVOKED" || len(c.Resources) != 0 {
			t.Fatalf("after revocation: %+v", c)
		}
		// Revoking again is a no-op, and the audit has one event.
		wantStatus(t, e.put(t, tok2, path+"/revocation", `{"reason":"BUSINESS_RULE","initiator":"DATA_RECIPIENT"}`), 204)
		action := "consent.revoked"
		events, _, err := e.st.ListAudit(ctx, store.AuditFilter{BusinessGroupID: &e.f.bgAcme, Action: &action, TargetID: &fdx.ID}, store.Page{Limit: 10})
		if err != nil || len(events) != 1 {
			t.Fatalf("audit %v %v", events, err)
		}
		var details map[string]string
		if err := json.Unmarshal(events[0].After, &details); err != nil || details["by"] != "client" || details["reason"] != "USER_ACTION" ||
			details["initiator"] != "DATA_RECIPIENT" || details["clientId"] != "cli_fdx" {
			t.Fatalf("audit details %s (%v)", events[0].After, err)
		}
	})
	t.Run("a time-bound consent", func(t *testing.T) {
		// It replaces the fixture's consent, as a new authorization does.
		standing := must(e.st.GetConsent(ctx, e.f.consent))
		must(e.st.ReplaceConsent(ctx, store.Consent{UserID: e.f.user, ClientID: e.f.client, Scopes: standing.Scopes,
			GrantedAt: t0.Add(-time.Hour), ExpiresAt: t0.Add(-time.Hour).AddDate(0, 0, 90)}))
		cs := must(e.st.ListConsents(ctx, e.f.user))
		var bound store.Consent
		for _, c := range cs {
			if c.ClientID == e.f.client && c.RevokedAt.IsZero() {
				bound = c
			}
		}
		var c consentOut
		e.get(t, e.v.issue(bound.ID, nil, t0.Add(time.Hour)), base+"/consents/"+bound.ID).json(t, &c)
		if c.DurationType != "TIME_BOUND" || c.DurationPeriod != 90 || c.ExpirationTime == "" {
			t.Fatalf("time-bound consent %+v", c)
		}
	})
}

package main

import (
	"errors"
	"net/http"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/bankfeed/bankfeed/authz"
	"github.com/bankfeed/bankfeed/store"
)

// TestPasswordResetCutsSoftwareOff (issue 10, finding 5): an approved
// password reset is rule 6's "credentials changed". The vendor's tokens
// from before the reset stop at once — 401 at the data API, invalid_grant on
// refresh — and stay stopped after the user completes the new first
// sign-in: only a new authorization connects the software again.
func TestPasswordResetCutsSoftwareOff(t *testing.T) {
	b := startBank(t)
	ctx := t.Context()
	obID, obSecret := b.client(authz.ClientSpec{Name: "Online banking", FirstParty: true, RedirectURIs: []string{"http://127.0.0.1:7001/cb"}})
	vendorID, vendorSecret := b.client(authz.ClientSpec{Name: "Ledgerly", RedirectURIs: []string{"http://127.0.0.1:9999/callback"}})

	// A business with one account, two administrators and an accounting
	// software user that has completed its first sign-in.
	bg, err := b.st.CreateBusinessGroup(ctx, store.BusinessGroup{ID: "bg_reset", Name: "Reset Ltd"})
	if err != nil {
		t.Fatal(err)
	}
	le, err := b.st.CreateLegalEntity(ctx, store.LegalEntity{ID: "le_reset", BusinessGroupID: bg.ID, Name: "Reset Ltd"})
	if err != nil {
		t.Fatal(err)
	}
	acct, err := b.st.CreateAccount(ctx, store.Account{ID: store.NewID("acc"), BusinessGroupID: bg.ID, LegalEntityID: le.ID, Number: "00012-003-3000001",
		DisplayNumber: store.MaskAccountNumber("00012-003-3000001"), Type: store.AccountChecking, Currency: "CAD", Status: store.AccountOpen, OpenedOn: "2026-01-05"})
	if err != nil {
		t.Fatal(err)
	}
	books, err := b.st.CreateAccountGroup(ctx, store.AccountGroup{ID: store.NewID("ag"), BusinessGroupID: bg.ID, Name: "Books", AccountIDs: []string{acct.ID}})
	if err != nil {
		t.Fatal(err)
	}
	adminRole, err := b.st.CreateJobRole(ctx, store.JobRole{ID: store.NewID("jr"), BusinessGroupID: bg.ID, Name: "Administrator", Grants: store.AdminGrants()})
	if err != nil {
		t.Fatal(err)
	}
	readOnly, err := b.st.CreateJobRole(ctx, store.JobRole{ID: store.NewID("jr"), BusinessGroupID: bg.ID, Name: "Books reader", Grants: store.AccountingSoftwareReadOnlyGrants()})
	if err != nil {
		t.Fatal(err)
	}
	const password = "Harbour-Lights-2026"
	hash, _ := store.HashSecret(password)
	user := func(login string, software bool, role string) store.User {
		t.Helper()
		u, err := b.st.CreateUser(ctx, store.User{ID: store.NewID("usr"), BusinessGroupID: bg.ID, LoginID: login, DisplayName: login,
			AccountingSoftware: software, Status: store.UserActive, PasswordHash: hash})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.st.PutAssignment(ctx, store.Assignment{ID: store.NewID("asg"), BusinessGroupID: bg.ID, UserID: u.ID, JobRoleID: role, AccountGroupID: books.ID}); err != nil {
			t.Fatal(err)
		}
		return u
	}
	user("admin-a", false, adminRole.ID)
	user("admin-b", false, adminRole.ID)
	app := user("books-sync", true, readOnly.ID)
	A := b.userToken(obID, obSecret, "http://127.0.0.1:7001/cb", "admin-a", password)
	B := b.userToken(obID, obSecret, "http://127.0.0.1:7001/cb", "admin-b", password)

	provider, err := oidc.NewProvider(ctx, b.URL)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	vendor := oauth2.Config{ClientID: vendorID, ClientSecret: vendorSecret, Endpoint: provider.Endpoint(), RedirectURL: "http://127.0.0.1:9999/callback",
		Scopes: []string{oidc.ScopeOpenID, oidc.ScopeOfflineAccess, "accounts.read"}}
	connect := func(password, newPassword string) *oauth2.Token {
		t.Helper()
		v := oauth2.GenerateVerifier()
		cb := b.authorize(b.browser(), vendor.AuthCodeURL("state-reset", oauth2.S256ChallengeOption(v)), "books-sync", password, newPassword)
		tok, err := vendor.Exchange(ctx, cb.Query().Get("code"), oauth2.VerifierOption(v))
		if err != nil {
			t.Fatalf("exchange: %v (callback %s)", err, cb)
		}
		return tok
	}
	dead := func(when string, tok *oauth2.Token) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, b.URL+"/fdx/v6/accounts", nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized || res.Header.Get("WWW-Authenticate") == "" {
			t.Fatalf("%s: the old access token = %d (WWW-Authenticate %q), want 401 with a challenge", when, res.StatusCode, res.Header.Get("WWW-Authenticate"))
		}
		_, err = vendor.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
			t.Fatalf("%s: refresh with the old refresh token: %v, want invalid_grant", when, err)
		}
	}

	tok := connect(password, "")
	b.api(tok.AccessToken, http.MethodGet, "/fdx/v6/accounts/"+acct.ID, nil, http.StatusOK)

	// A resets the password, B approves: the connection is revoked with it.
	req := b.api(A, http.MethodPost, "/admin/v1/users/"+app.ID+"/reset-password", nil, http.StatusAccepted)["id"].(string)
	b.api(tok.AccessToken, http.MethodGet, "/fdx/v6/accounts/"+acct.ID, nil, http.StatusOK) // pending: nothing changed yet
	temp, _ := b.api(B, http.MethodPost, "/admin/v1/approvals/"+req+"/approve", map[string]any{}, http.StatusOK)["temporaryPassword"].(string)
	if temp == "" {
		t.Fatal("no temporary password on approval")
	}
	cs, err := b.st.ListConsents(ctx, app.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.RevokedAt.IsZero() {
			t.Fatalf("consent %s is not revoked after the reset", c.ID)
		}
	}
	dead("after the reset", tok)

	// The user completes the new first sign-in and consents again: the
	// new tokens work, the old ones stay dead.
	fresh := connect(temp, "Quiet-Harbour-Ledger-2027")
	b.api(fresh.AccessToken, http.MethodGet, "/fdx/v6/accounts/"+acct.ID, nil, http.StatusOK)
	dead("after the new first sign-in", tok)
}

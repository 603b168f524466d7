package authz_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/bankfeed/bankfeed/authz"
	"github.com/bankfeed/bankfeed/store"
)

// TestReauthorizationKeepsOneConnection (issue 10 §4): the same user
// authorizing the same client twice through the bank's real pages leaves one
// connection on /account/connections; the first grant's refresh token gets
// invalid_grant and its access token no longer verifies, the second grant's
// tokens work. The bank's first-party clients are not listed.
func TestReauthorizationKeepsOneConnection(t *testing.T) {
	e := newEnv(t, envOpts{})
	b, u, password := e.withPages(t)

	conf := &oauth2.Config{
		ClientID: e.vendor.ID, ClientSecret: e.secret, RedirectURL: redirectURI,
		Endpoint: oauth2.Endpoint{AuthURL: e.iss + "/oauth2/authorize", TokenURL: e.iss + "/oauth2/token", AuthStyle: oauth2.AuthStyleInHeader},
		Scopes:   []string{"openid", "profile", "offline_access", "accounts.read", "statements.read"},
	}
	ctx := context.WithValue(t.Context(), oauth2.HTTPClient, &http.Client{Timeout: 10 * time.Second})
	authorize := func() *oauth2.Token {
		t.Helper()
		verifier := oauth2.GenerateVerifier()
		loc := b.expectRedirect(b.do(http.MethodGet, conf.AuthCodeURL("state-1234567890", oauth2.S256ChallengeOption(verifier),
			oauth2.SetAuthURLParam("nonce", "nonce-1234567890")), nil))
		cb := b.toCallback(b.expectRedirect(b.consentAnswer(loc, u.LoginID, password, "Allow")), "Allow")
		tok, err := conf.Exchange(ctx, cb.Query().Get("code"), oauth2.VerifierOption(verifier))
		must(t, err)
		if tok.RefreshToken == "" {
			t.Fatalf("no refresh token: %+v", tok)
		}
		return tok
	}
	userinfo := func(tok *oauth2.Token) int {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.iss+"/userinfo", nil)
		must(t, err)
		tok.SetAuthHeader(req)
		resp, err := http.DefaultClient.Do(req)
		must(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	refresh := func(tok *oauth2.Token) (*oauth2.Token, error) {
		return conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	}
	connections := func() string {
		t.Helper()
		p := b.do(http.MethodGet, e.iss+"/account/connections", nil)
		if p.status != http.StatusOK {
			t.Fatalf("connections: %d %s", p.status, p.body)
		}
		return p.body
	}

	first := authorize()
	e.clock.Advance(time.Minute)
	second := authorize()

	if page := connections(); strings.Count(page, `/disconnect"`) != 1 || !strings.Contains(page, "Ledgerly") {
		t.Errorf("connections page lists %d connections, want one Ledgerly: %s", strings.Count(page, `/disconnect"`), page)
	}
	cs, err := e.st.ListConsents(e.ctx, u.ID)
	must(t, err)
	active := 0
	for _, c := range cs {
		if c.Active(e.clock.Now()) {
			active++
		}
	}
	if active != 1 {
		t.Errorf("%d active consents after two authorizations, want 1: %+v", active, cs)
	}
	if code := userinfo(first); code != http.StatusUnauthorized {
		t.Errorf("first grant's access token: userinfo %d, want 401", code)
	}
	var re *oauth2.RetrieveError
	if _, err := refresh(first); !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Errorf("first grant's refresh: %v, want invalid_grant", err)
	}
	if code := userinfo(second); code != http.StatusOK {
		t.Errorf("second grant's access token: userinfo %d, want 200", code)
	}
	if tok, err := refresh(second); err != nil {
		t.Errorf("second grant's refresh: %v", err)
	} else if code := userinfo(tok); code != http.StatusOK {
		t.Errorf("refreshed access token: userinfo %d, want 200", code)
	}

	// The bank's own online banking is not a connection the user manages.
	bank, err := e.st.CreateClient(e.ctx, store.Client{ID: store.NewID("cli"), Name: "Maple Online Banking", FirstParty: true,
		RedirectURIs: []string{redirectURI}, Scopes: []string{"openid"}})
	must(t, err)
	_, err = e.st.CreateConsent(e.ctx, store.Consent{UserID: u.ID, ClientID: bank.ID, Scopes: []string{"openid"}, GrantedAt: e.clock.Now()})
	must(t, err)
	if page := connections(); strings.Contains(page, "Maple Online Banking") || strings.Count(page, `/disconnect"`) != 1 {
		t.Errorf("connections page lists the first-party client: %s", page)
	}
}

// TestReauthorizeConcurrently: one user connects the same client in eight
// flows at once. Each newer grant replaces the one before (issue 10 §4), so
// a code whose grant was replaced between its reading and its use is the
// client's invalid_grant — never a 500 — and in the end one connection
// stands, whose tokens are the only ones that work: a replaced grant's
// access token verifies nowhere (introspection, userinfo, Verify, which the
// data API uses) and its refresh token is refused, even when its code was
// being exchanged while the replacement revoked it.
func TestReauthorizeConcurrently(t *testing.T) {
	e := newEnv(t, envOpts{})
	const n = 8
	var wg sync.WaitGroup
	res := make([]tokenResult, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v := oauth2.GenerateVerifier()
			q := e.codeFor(e.authorizeParams(e.vendor.ID, oauth2.S256ChallengeFromVerifier(v)), e.user.ID, allScopes)
			form := url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {redirectURI}, "code_verifier": {v}}
			res[i], errs[i] = postToken(e.iss, form, e.vendor.ID, e.secret)
		}()
	}
	wg.Wait()
	var active []store.Consent
	cs, err := e.st.ListConsents(e.ctx, e.user.ID)
	must(t, err)
	for _, c := range cs {
		if c.ClientID == e.vendor.ID && c.Active(e.clock.Now()) {
			active = append(active, c)
		}
	}
	if len(active) != 1 {
		t.Fatalf("%d active connections of the user to the client, want 1", len(active))
	}
	for i, r := range res {
		must(t, errs[i])
		switch {
		case r.Status == http.StatusOK:
			g, err := e.srv.Verify(e.ctx, r.AccessToken)
			switch {
			case err == nil && g.RequestID == active[0].ID:
				if !e.introspect(r.AccessToken) || e.userinfo(r.AccessToken) != http.StatusOK {
					t.Errorf("exchange %d: the standing grant's access token does not verify", i)
				}
			case errors.Is(err, authz.ErrInvalidToken):
				t.Run("replaced", func(t *testing.T) { e.wantTokensEnded(t, r) })
			default:
				t.Errorf("exchange %d: a replaced grant's access token (%s) still verifies: %v", i, g.RequestID, err)
			}
		case r.Status == http.StatusBadRequest && r.Error == "invalid_grant":
		default:
			t.Errorf("exchange %d: %d %s %s, want 200 or invalid_grant", i, r.Status, r.Error, r.Description)
		}
	}
}

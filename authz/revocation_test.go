package authz_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"

	"github.com/bankfeed/bankfeed/authz"
)

// TestRevocation: RFC 7009 through the endpoint. A client revoking its
// refresh or access token ends the whole grant (and the user's connection);
// a token already revoked, unknown or not the client's own is answered 200
// or refused without touching anything.
func TestRevocation(t *testing.T) {
	e := newEnv(t, envOpts{})
	revoke := func(token, hint, client, secret string) *http.Response {
		t.Helper()
		f := url.Values{"token": {token}}
		if hint != "" {
			f.Set("token_type_hint", hint)
		}
		return e.postForm("/oauth2/revoke", f, client, secret)
	}
	// ended checks that every token of tr stopped and the consent is revoked.
	ended := func(t *testing.T, tr tokenResult, consentID string) {
		t.Helper()
		if _, err := e.srv.Verify(e.ctx, tr.AccessToken); !errors.Is(err, authz.ErrInvalidToken) {
			t.Fatalf("access token verifies after revocation: %v", err)
		}
		wantOAuthError(t, e.refresh(tr.RefreshToken), "invalid_grant")
		c, err := e.st.GetConsent(e.ctx, consentID)
		must(t, err)
		if c.Active(e.clock.Now()) {
			t.Fatal("consent still active after revocation")
		}
	}
	grant := func(t *testing.T) (tokenResult, string) {
		t.Helper()
		tr := e.exchange(e.vendor.ID, e.secret)
		g, err := e.srv.Verify(e.ctx, tr.AccessToken)
		must(t, err)
		return tr, g.RequestID
	}

	t.Run("refresh token ends the grant", func(t *testing.T) {
		tr, consentID := grant(t)
		r := e.refresh(tr.RefreshToken) // a second pair in the same family
		if r.Status != http.StatusOK {
			t.Fatalf("refresh: %+v", r)
		}
		if resp := revoke(r.RefreshToken, "refresh_token", e.vendor.ID, e.secret); resp.StatusCode != http.StatusOK {
			t.Fatalf("revoke: %d %s", resp.StatusCode, readBody(resp))
		}
		ended(t, r, consentID)
		// Revoking it again, or its access token, is still a 200.
		for _, rt := range []struct{ token, hint string }{{r.RefreshToken, "refresh_token"}, {r.RefreshToken, ""}, {r.AccessToken, "access_token"}} {
			if resp := revoke(rt.token, rt.hint, e.vendor.ID, e.secret); resp.StatusCode != http.StatusOK {
				t.Fatalf("revoking a revoked token (hint %q): %d %s", rt.hint, resp.StatusCode, readBody(resp))
			}
		}
	})
	t.Run("access token ends the grant", func(t *testing.T) {
		tr, consentID := grant(t)
		if resp := revoke(tr.AccessToken, "access_token", e.vendor.ID, e.secret); resp.StatusCode != http.StatusOK {
			t.Fatalf("revoke: %d %s", resp.StatusCode, readBody(resp))
		}
		ended(t, tr, consentID)
	})
	t.Run("unknown token", func(t *testing.T) {
		for _, hint := range []string{"", "refresh_token", "access_token"} {
			if resp := revoke("ory_rt_not-a-token.nope", hint, e.vendor.ID, e.secret); resp.StatusCode != http.StatusOK {
				t.Fatalf("unknown token (hint %q): %d %s", hint, resp.StatusCode, readBody(resp))
			}
		}
	})
	t.Run("another client's token is left alone", func(t *testing.T) {
		tr, consentID := grant(t)
		other, secret, err := authz.CreateClient(e.ctx, e.st, authz.ClientSpec{Name: "Other", RedirectURIs: []string{redirectURI}, Secret: true})
		must(t, err)
		// fosite answers 200 here (it tells the client nothing about a token
		// that is not its own); what matters is that nothing is revoked.
		for _, hint := range []string{"refresh_token", "access_token"} {
			revoke(tr.RefreshToken, hint, other.ID, secret)
			revoke(tr.AccessToken, hint, other.ID, secret)
		}
		if _, err := e.srv.Verify(e.ctx, tr.AccessToken); err != nil {
			t.Fatalf("access token stopped after another client's revocation: %v", err)
		}
		if c, err := e.st.GetConsent(e.ctx, consentID); err != nil || !c.Active(e.clock.Now()) {
			t.Fatalf("consent after another client's revocation: %+v, %v", c, err)
		}
	})
	t.Run("unauthenticated", func(t *testing.T) {
		tr, _ := grant(t)
		if resp := revoke(tr.RefreshToken, "", e.vendor.ID, "wrong-secret"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("revocation with a wrong secret: %d %s", resp.StatusCode, readBody(resp))
		}
		if _, err := e.srv.Verify(e.ctx, tr.AccessToken); err != nil {
			t.Fatalf("access token stopped after a refused revocation: %v", err)
		}
	})
	t.Run("grant without consent", func(t *testing.T) {
		// A first-party client_credentials grant has no consent: its
		// revocation goes by the token records alone.
		c, secret, err := authz.CreateClient(e.ctx, e.st, authz.ClientSpec{Name: "Core feed", Secret: true, FirstParty: true})
		must(t, err)
		tr := e.token(url.Values{"grant_type": {"client_credentials"}, "scope": {"operator"}}, c.ID, secret)
		if tr.Status != http.StatusOK {
			t.Fatalf("client_credentials: %+v", tr)
		}
		g, err := e.srv.Verify(e.ctx, tr.AccessToken)
		must(t, err)
		if _, err := e.st.GetConsent(e.ctx, g.RequestID); err == nil {
			t.Fatal("a client_credentials grant has a consent; this case tests nothing")
		}
		if resp := revoke(tr.AccessToken, "access_token", c.ID, secret); resp.StatusCode != http.StatusOK {
			t.Fatalf("revoke: %d %s", resp.StatusCode, readBody(resp))
		}
		if _, err := e.srv.Verify(e.ctx, tr.AccessToken); !errors.Is(err, authz.ErrInvalidToken) {
			t.Fatalf("client_credentials token verifies after revocation: %v", err)
		}
	})
}

// TestCodeRedeemedConcurrently: of several simultaneous exchanges of one
// code exactly one gets tokens (store.TokenStore.ConsumeToken decides the race).
func TestCodeRedeemedConcurrently(t *testing.T) {
	e := newEnv(t, envOpts{})
	verifier := oauth2.GenerateVerifier()
	q := e.codeFor(e.authorizeParams(e.vendor.ID, oauth2.S256ChallengeFromVerifier(verifier)), e.user.ID, allScopes)
	form := url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}

	const n = 6
	var wg sync.WaitGroup
	results, errs := make([]tokenResult, n), make([]error, n)
	start := make(chan struct{})
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i], errs[i] = postToken(e.iss, form, e.vendor.ID, e.secret)
		}()
	}
	close(start)
	wg.Wait()
	won := 0
	for i, r := range results {
		must(t, errs[i])
		if r.Status == http.StatusOK {
			won++
		} else if r.AccessToken != "" || r.RefreshToken != "" {
			t.Fatalf("a refused exchange carries tokens: %+v", r)
		}
	}
	if won != 1 {
		t.Fatalf("%d of %d concurrent exchanges of one code got tokens, want exactly 1: %+v", won, n, results)
	}
}

// postToken is env.token for other goroutines than the test's (no t.Fatal).
func postToken(iss string, form url.Values, user, pass string) (tokenResult, error) {
	req, err := http.NewRequest(http.MethodPost, iss+"/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		return tokenResult{}, fmt.Errorf("token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return tokenResult{}, fmt.Errorf("token request: %w", err)
	}
	defer resp.Body.Close()
	var tr tokenResult
	if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil {
		return tokenResult{}, fmt.Errorf("token response (%d): %w", resp.StatusCode, err)
	}
	tr.Status = resp.StatusCode
	return tr, nil
}

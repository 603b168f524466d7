package authz_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/bankfeed/bankfeed/authz"
	"github.com/bankfeed/bankfeed/store"
)

func jwtHeader(t *testing.T, tok string) map[string]any {
	t.Helper()
	h, _, _ := strings.Cut(tok, ".")
	b, err := base64.RawURLEncoding.DecodeString(h)
	must(t, err)
	var m map[string]any
	must(t, json.Unmarshal(b, &m))
	return m
}

// TestKeyRotationAndJWTAccessTokens: RFC 9068 access tokens signed with the
// current key, old-key ID and access tokens keep verifying after rotation,
// the JWKS publishes both keys.
func TestKeyRotationAndJWTAccessTokens(t *testing.T) {
	e := newEnv(t, envOpts{cfg: func(c *authz.Config) { c.TokenFormat = "jwt" }})
	ctx := context.Background()
	before := e.exchange(e.vendor.ID, e.secret)
	h := jwtHeader(t, before.AccessToken)
	if h["typ"] != "at+jwt" || h["alg"] != "ES256" || h["kid"] == nil {
		t.Fatalf("access token header %v", h)
	}
	oldKid := jwtHeader(t, before.IDToken)["kid"]

	kid, err := e.srv.RotateKey(ctx)
	must(t, err)
	// Another client: a second grant to the same client would replace the
	// first (one connection per user and client, issue 10 §4).
	other, otherSecret, err := authz.CreateClient(ctx, e.st, authz.ClientSpec{Name: "Booksy", RedirectURIs: []string{redirectURI}, Secret: true})
	must(t, err)
	after := e.exchange(other.ID, otherSecret)
	if got := jwtHeader(t, after.IDToken)["kid"]; got != kid || got == oldKid {
		t.Fatalf("id token kid %v after rotation to %s (old %v)", got, kid, oldKid)
	}
	jwks := readBody(e.get(e.iss + "/.well-known/jwks.json"))
	if !strings.Contains(jwks, kid) || !strings.Contains(jwks, fmt.Sprint(oldKid)) {
		t.Fatalf("jwks %s lacks the current or the previous key", jwks)
	}
	provider, err := oidc.NewProvider(ctx, e.iss)
	must(t, err)
	for raw, aud := range map[string]string{before.IDToken: e.vendor.ID, after.IDToken: other.ID} {
		if _, err := provider.Verifier(&oidc.Config{ClientID: aud}).Verify(ctx, raw); err != nil {
			t.Fatalf("id token no longer verifies: %v", err)
		}
	}
	for _, at := range []string{before.AccessToken, after.AccessToken} {
		if _, err := e.srv.Verify(ctx, at); err != nil {
			t.Fatalf("access token no longer verifies: %v", err)
		}
	}
	// Tampering is caught even though the signature row exists.
	parts := strings.Split(after.AccessToken, ".")
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"someone-else"}`))
	if _, err := e.srv.Verify(ctx, strings.Join(parts, ".")); !errors.Is(err, authz.ErrInvalidToken) {
		t.Fatalf("tampered token: %v", err)
	}
}

func TestIntrospectionAndUserinfo(t *testing.T) {
	e := newEnv(t, envOpts{})
	tr := e.exchange(e.vendor.ID, e.secret)
	introspect := func(tok string) map[string]any {
		resp := e.postForm("/oauth2/introspect", url.Values{"token": {tok}}, e.vendor.ID, e.secret)
		var m map[string]any
		must(t, json.Unmarshal([]byte(readBody(resp)), &m))
		return m
	}
	if m := introspect(tr.AccessToken); m["active"] != true || m["sub"] != e.user.ID || m["client_id"] != e.vendor.ID {
		t.Fatalf("introspection %v", m)
	}
	if m := introspect("ory_at_bogus.bogus"); m["active"] != false {
		t.Fatalf("introspection of garbage %v", m)
	}
	req, _ := http.NewRequest(http.MethodGet, e.iss+"/userinfo", nil)
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Fatalf("userinfo without token: %d", resp.StatusCode)
	}
	req.Header.Set("Authorization", "Bearer "+tr.AccessToken)
	resp, err = http.DefaultClient.Do(req)
	must(t, err)
	body := readBody(buffered(t, resp))
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, e.user.ID) {
		t.Fatalf("userinfo: %d %s", resp.StatusCode, body)
	}
}

// TestConcurrentFlows: 32 full flows at once on SQLite, without error, one
// per user (a user's new grant to the same client replaces the previous one,
// issue 10 §4).
func TestConcurrentFlows(t *testing.T) {
	e := newEnv(t, envOpts{twoServers: true})
	users := make([]store.User, 32)
	for i := range users {
		users[i] = e.newUser(true, e.role)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for i := 0; i < 32; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if r := recover(); r != nil {
					errs <- fmt.Errorf("%v", r)
				}
			}()
			tr := e.exchangeFor(users[i].ID, e.vendor.ID, e.secret)
			if r := e.refresh(tr.RefreshToken); r.Status != http.StatusOK {
				errs <- fmt.Errorf("refresh: %+v", r)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

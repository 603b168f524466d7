package authz_test

import (
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"

	"github.com/bankfeed/bankfeed/authz"
	"github.com/bankfeed/bankfeed/store"
)

// redirectError follows authorize (or resume) to the client's error redirect.
func redirectError(t *testing.T, resp *http.Response, iss string) url.Values {
	t.Helper()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("status %d, want a 303 to the client: %s", resp.StatusCode, readBody(resp))
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	must(t, err)
	q := loc.Query()
	if q.Get("iss") != iss {
		t.Fatalf("error redirect %s has no iss", loc)
	}
	return q
}

func jsonError(t *testing.T, resp *http.Response) (int, string) {
	t.Helper()
	var body struct {
		Error string `json:"error"`
	}
	must(t, jsonUnmarshal(readBody(resp), &body))
	return resp.StatusCode, body.Error
}

func TestCodeNegatives(t *testing.T) {
	e := newEnv(t, envOpts{})
	exchange := func(code, verifier, redirect string) tokenResult {
		f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}}
		if verifier != "" {
			f.Set("code_verifier", verifier)
		}
		return e.token(f, e.vendor.ID, e.secret)
	}
	newCode := func() (code, verifier string) {
		verifier = oauth2.GenerateVerifier()
		q := e.codeFor(e.authorizeParams(e.vendor.ID, oauth2.S256ChallengeFromVerifier(verifier)), e.user.ID, allScopes)
		return q.Get("code"), verifier
	}

	t.Run("code reuse revokes the tokens", func(t *testing.T) {
		code, v := newCode()
		first := exchange(code, v, redirectURI)
		if first.Status != http.StatusOK {
			t.Fatalf("first exchange: %+v", first)
		}
		wantOAuthError(t, exchange(code, v, redirectURI), "invalid_grant")
		if _, err := e.srv.Verify(e.ctx, first.AccessToken); !errors.Is(err, authz.ErrInvalidToken) {
			t.Fatalf("access token survives code reuse: %v", err)
		}
		wantOAuthError(t, e.refresh(first.RefreshToken), "invalid_grant")
	})
	t.Run("wrong verifier", func(t *testing.T) {
		code, _ := newCode()
		wantOAuthError(t, exchange(code, oauth2.GenerateVerifier(), redirectURI), "invalid_grant")
	})
	t.Run("no verifier", func(t *testing.T) {
		code, _ := newCode()
		wantOAuthError(t, exchange(code, "", redirectURI), "invalid_grant")
	})
	t.Run("redirect_uri differs at the token endpoint", func(t *testing.T) {
		code, v := newCode()
		wantOAuthError(t, exchange(code, v, "http://127.0.0.1:9999/other"), "invalid_grant")
	})
	t.Run("no challenge", func(t *testing.T) {
		q := e.authorizeParams(e.vendor.ID, "x")
		q.Del("code_challenge")
		q.Del("code_challenge_method")
		if got := redirectError(t, e.get(e.iss+"/oauth2/authorize?"+q.Encode()), e.iss); got.Get("error") != "invalid_request" || got.Get("state") != "state-1234567890" {
			t.Fatalf("got %v", got)
		}
	})
	t.Run("plain method", func(t *testing.T) {
		q := e.authorizeParams(e.vendor.ID, oauth2.GenerateVerifier())
		q.Set("code_challenge_method", "plain")
		if got := redirectError(t, e.get(e.iss+"/oauth2/authorize?"+q.Encode()), e.iss); got.Get("error") != "invalid_request" {
			t.Fatalf("got %v", got)
		}
	})
	t.Run("redirect uri not registered", func(t *testing.T) {
		q := e.authorizeParams(e.vendor.ID, oauth2.GenerateVerifier())
		q.Set("redirect_uri", "https://attacker.example/cb")
		resp := e.get(e.iss + "/oauth2/authorize?" + q.Encode())
		if st, code := jsonError(t, resp); st != http.StatusBadRequest || code != "invalid_request" {
			t.Fatalf("got %d %s, want a 400 invalid_request without redirect", st, code)
		}
	})
	t.Run("unknown client", func(t *testing.T) {
		resp := e.get(e.iss + "/oauth2/authorize?" + e.authorizeParams("cli_nobody", oauth2.GenerateVerifier()).Encode())
		if st, code := jsonError(t, resp); st != http.StatusUnauthorized || code != "invalid_client" {
			t.Fatalf("got %d %s", st, code)
		}
		wantOAuthError(t, e.token(url.Values{"grant_type": {"client_credentials"}}, "cli_nobody", "secret"), "invalid_client")
		wantOAuthError(t, e.token(url.Values{"grant_type": {"client_credentials"}}, e.vendor.ID, "wrong-secret"), "invalid_client")
	})
	t.Run("client_credentials by a vendor", func(t *testing.T) {
		wantOAuthError(t, e.token(url.Values{"grant_type": {"client_credentials"}, "scope": {"accounts.read"}}, e.vendor.ID, e.secret), "unauthorized_client")
	})
	t.Run("client_credentials first party", func(t *testing.T) {
		c, secret, err := authz.CreateClient(e.ctx, e.st, authz.ClientSpec{Name: "Core feed", Secret: true, FirstParty: true})
		must(t, err)
		tr := e.token(url.Values{"grant_type": {"client_credentials"}, "scope": {"operator"}}, c.ID, secret)
		if tr.Status != http.StatusOK || tr.RefreshToken != "" {
			t.Fatalf("got %+v", tr)
		}
		g, err := e.srv.Verify(e.ctx, tr.AccessToken)
		if err != nil || !g.FirstParty || g.UserID != "" || !g.HasScope("operator") {
			t.Fatalf("grant %+v, %v", g, err)
		}
	})
	t.Run("state is optional and echoed when sent", func(t *testing.T) {
		v := oauth2.GenerateVerifier()
		q := e.authorizeParams(e.vendor.ID, oauth2.S256ChallengeFromVerifier(v))
		q.Del("state")
		got := e.codeFor(q, e.user.ID, allScopes)
		if got.Has("state") || got.Get("code") == "" || got.Get("iss") != e.iss {
			t.Fatalf("got %v", got)
		}
	})
}

func TestUserNegatives(t *testing.T) {
	e := newEnv(t, envOpts{})
	params := func() url.Values {
		return e.authorizeParams(e.vendor.ID, oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier()))
	}
	decide := func(userID string, granted []string, denied bool) url.Values {
		ch := e.startAuthorize(params())
		v := e.decideFlowInStore(ch, userID, granted, denied)
		return redirectError(t, e.get(e.iss+"/oauth2/authorize/resume?"+url.Values{"login_challenge": {ch}, "login_verifier": {v}}.Encode()), e.iss)
	}

	t.Run("consent denied", func(t *testing.T) {
		if q := decide(e.user.ID, allScopes, true); q.Get("error") != "access_denied" || q.Get("state") != "state-1234567890" {
			t.Fatalf("got %v", q)
		}
	})
	t.Run("scope outside the role is not granted", func(t *testing.T) {
		role, err := e.st.CreateJobRole(e.ctx, store.JobRole{ID: store.NewID("role"), BusinessGroupID: e.group.ID, Name: "Balances only",
			Grants: store.Grants{{Permission: store.PermAccountSummary, Rights: store.Rights(store.RightView)}}})
		must(t, err)
		u := e.newUser(true, role)
		v := oauth2.GenerateVerifier()
		q := e.codeFor(e.authorizeParams(e.vendor.ID, oauth2.S256ChallengeFromVerifier(v)), u.ID, allScopes)
		tr := e.token(url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {redirectURI}, "code_verifier": {v}}, e.vendor.ID, e.secret)
		if tr.Scope != "openid profile offline_access accounts.read" {
			t.Fatalf("scope %q: statements.read must not be granted", tr.Scope)
		}
	})
	t.Run("role allowing nothing", func(t *testing.T) {
		role, err := e.st.CreateJobRole(e.ctx, store.JobRole{ID: store.NewID("role"), BusinessGroupID: e.group.ID, Name: "Nothing", Grants: store.Grants{}})
		must(t, err)
		u := e.newUser(true, role)
		if q := decide(u.ID, allScopes, false); q.Get("error") != "access_denied" {
			t.Fatalf("got %v", q)
		}
	})
	t.Run("ordinary user for a vendor", func(t *testing.T) {
		u := e.newUser(false, e.role)
		if q := decide(u.ID, allScopes, false); q.Get("error") != "access_denied" {
			t.Fatalf("got %v", q)
		}
	})
	t.Run("locked user", func(t *testing.T) {
		u := e.newUser(true, e.role)
		_, err := e.st.UpdateUser(e.ctx, u.ID, func(u store.User) (store.User, error) { u.Status = store.UserLocked; return u, nil })
		must(t, err)
		if q := decide(u.ID, allScopes, false); q.Get("error") != "access_denied" {
			t.Fatalf("got %v", q)
		}
	})
	t.Run("verifier wrong or reused", func(t *testing.T) {
		ch := e.startAuthorize(params())
		v := e.decideFlowInStore(ch, e.user.ID, allScopes, false)
		resp := e.get(e.iss + "/oauth2/authorize/resume?" + url.Values{"login_challenge": {ch}, "login_verifier": {"nope"}}.Encode())
		if st, code := jsonError(t, resp); st != http.StatusBadRequest || code != "invalid_request" {
			t.Fatalf("wrong verifier: %d %s", st, code)
		}
		e.resume(ch, v)
		resp = e.get(e.iss + "/oauth2/authorize/resume?" + url.Values{"login_challenge": {ch}, "login_verifier": {v}}.Encode())
		if st, code := jsonError(t, resp); st != http.StatusBadRequest || code != "invalid_request" {
			t.Fatalf("reused flow: %d %s", st, code)
		}
	})
	t.Run("deleted user's refresh token", func(t *testing.T) {
		tr := e.exchange(e.vendor.ID, e.secret)
		_, err := e.st.UpdateUser(e.ctx, e.user.ID, func(u store.User) (store.User, error) {
			u.Status, u.DeletedAt = store.UserDeleted, time.Now()
			return u, nil
		})
		must(t, err)
		wantOAuthError(t, e.refresh(tr.RefreshToken), "invalid_grant")
	})
}

func TestRevokedConsentAndRoleChange(t *testing.T) {
	e := newEnv(t, envOpts{})
	t.Run("revoked consent", func(t *testing.T) {
		tr := e.exchange(e.vendor.ID, e.secret)
		g, err := e.srv.Verify(e.ctx, tr.AccessToken)
		must(t, err)
		must(t, e.st.RevokeConsent(e.ctx, g.RequestID, time.Now()))
		if _, err := e.srv.Verify(e.ctx, tr.AccessToken); !errors.Is(err, authz.ErrInvalidToken) {
			t.Fatalf("revoked consent's access token verifies: %v", err)
		}
		wantOAuthError(t, e.refresh(tr.RefreshToken), "invalid_grant")
	})
	t.Run("role no longer allows a scope", func(t *testing.T) {
		tr := e.exchange(e.vendor.ID, e.secret)
		_, err := e.st.UpdateJobRole(e.ctx, e.role.ID, func(r store.JobRole) (store.JobRole, error) {
			r.Grants = store.Grants{{Permission: store.PermAccountSummary, Rights: store.Rights(store.RightView)}}
			return r, nil
		})
		must(t, err)
		wantOAuthError(t, e.refresh(tr.RefreshToken), "invalid_grant")
	})
	t.Run("locked user's refresh", func(t *testing.T) {
		u := e.newUser(true, e.role)
		e.user = u
		// Restore a full role for this user.
		role, err := e.st.CreateJobRole(e.ctx, store.JobRole{ID: store.NewID("role"), BusinessGroupID: e.group.ID, Name: "Full " + store.RandomToken(3), Grants: store.Grants{
			{Permission: store.PermAccountSummary, Rights: store.Rights(store.RightView)},
			{Permission: store.PermManageStatements, Rights: store.Rights(store.RightView)},
		}})
		must(t, err)
		a, err := e.st.UserAssignment(e.ctx, u.ID, "")
		must(t, err)
		a.JobRoleID = role.ID
		_, err = e.st.PutAssignment(e.ctx, a)
		must(t, err)
		tr := e.exchange(e.vendor.ID, e.secret)
		_, err = e.st.UpdateUser(e.ctx, u.ID, func(u store.User) (store.User, error) { u.Status = store.UserLocked; return u, nil })
		must(t, err)
		wantOAuthError(t, e.refresh(tr.RefreshToken), "invalid_grant")
	})
}

func TestAssertionNegatives(t *testing.T) {
	e := newEnv(t, envOpts{})
	kc := e.newKeyClient(authz.ClientSpec{})
	base := func() url.Values {
		return e.authorizeParams(kc.client.ID, oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier()))
	}
	push := func(assertion string) (int, string) {
		f := base()
		f.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		f.Set("client_assertion", assertion)
		return jsonError(t, e.postForm("/oauth2/par", f, "", ""))
	}
	check := func(name, assertion string) {
		t.Run(name, func(t *testing.T) {
			if st, code := push(assertion); st != http.StatusUnauthorized || code != "invalid_client" {
				t.Fatalf("got %d %s, want 401 invalid_client", st, code)
			}
		})
	}
	check("wrong aud", kc.assertion(t, "https://other.example", nil))
	replayed := kc.assertion(t, e.iss+"/oauth2/par", nil)
	if st, _ := push(replayed); st != http.StatusCreated {
		t.Fatalf("first use of the assertion: %d", st)
	}
	check("replayed jti", replayed)
	check("expired", kc.assertion(t, e.iss, func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Minute).Unix() }))
	check("iat too far ahead", kc.assertion(t, e.iss, func(c jwt.MapClaims) { c["iat"] = time.Now().Add(time.Minute).Unix() }))
	t.Run("iat within 10 s leeway", func(t *testing.T) {
		if st, code := push(kc.assertion(t, e.iss, func(c jwt.MapClaims) { c["iat"] = time.Now().Add(5 * time.Second).Unix() })); st != http.StatusCreated {
			t.Fatalf("got %d %s", st, code)
		}
	})
	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{
		"iss": kc.client.ID, "sub": kc.client.ID, "aud": e.iss, "jti": store.RandomToken(8), "exp": time.Now().Add(time.Minute).Unix(),
	}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	must(t, err)
	check("alg none", none)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	must(t, err)
	rs := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iss": kc.client.ID, "sub": kc.client.ID, "aud": e.iss, "jti": store.RandomToken(8), "exp": time.Now().Add(time.Minute).Unix(),
	})
	rs.Header["kid"] = "k1"
	rsTok, err := rs.SignedString(rsaKey)
	must(t, err)
	check("RS256", rsTok)
}

func TestPARNegatives(t *testing.T) {
	e := newEnv(t, envOpts{cfg: func(c *authz.Config) { c.PARLifespan = 30 * time.Second }})
	kc := e.newKeyClient(authz.ClientSpec{})
	form := e.authorizeParams(kc.client.ID, oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier()))
	authorizeURI := func(uri string) string {
		return e.iss + "/oauth2/authorize?" + url.Values{"client_id": {kc.client.ID}, "request_uri": {uri}}.Encode()
	}
	t.Run("reused request_uri", func(t *testing.T) {
		uri := e.par(kc, e.iss+"/oauth2/par", form)
		e.startAuthorize(url.Values{"client_id": {kc.client.ID}, "request_uri": {uri}})
		if st, code := jsonError(t, e.get(authorizeURI(uri))); st != http.StatusBadRequest || code != "invalid_request_uri" {
			t.Fatalf("got %d %s", st, code)
		}
	})
	t.Run("expired request_uri", func(t *testing.T) {
		uri := e.par(kc, e.iss+"/oauth2/token", form)
		e.clock.Advance(31 * time.Second)
		if st, code := jsonError(t, e.get(authorizeURI(uri))); st != http.StatusBadRequest || code != "invalid_request_uri" {
			t.Fatalf("got %d %s", st, code)
		}
	})
	t.Run("redirect_uri required", func(t *testing.T) {
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		f.Del("redirect_uri")
		f.Set("scope", "accounts.read")
		if st, code := jsonError(t, e.postForm("/oauth2/par", kc.authForm(t, e.iss, f), "", "")); st != http.StatusBadRequest || code != "invalid_request" {
			t.Fatalf("got %d %s", st, code)
		}
	})
}

func TestCreateClientValidation(t *testing.T) {
	e := newEnv(t, envOpts{})
	for _, tc := range []struct {
		name string
		spec authz.ClientSpec
	}{
		{"http redirect", authz.ClientSpec{Name: "x", RedirectURIs: []string{"http://app.example/cb"}, Secret: true}},
		{"fragment", authz.ClientSpec{Name: "x", RedirectURIs: []string{"https://app.example/cb#x"}, Secret: true}},
		{"two methods", authz.ClientSpec{Name: "x", RedirectURIs: []string{"https://app.example/cb"}, Secret: true, JWKSURI: "https://app.example/jwks"}},
		{"no method", authz.ClientSpec{Name: "x", RedirectURIs: []string{"https://app.example/cb"}}},
		{"admin scope for a vendor", authz.ClientSpec{Name: "x", RedirectURIs: []string{"https://app.example/cb"}, Secret: true, Scopes: []string{"admin"}}},
		{"no name", authz.ClientSpec{RedirectURIs: []string{"https://app.example/cb"}, Secret: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := authz.CreateClient(e.ctx, e.st, tc.spec); !errors.Is(err, store.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
		})
	}
	c, secret, err := authz.CreateClient(e.ctx, e.st, authz.ClientSpec{Name: "Loop", RedirectURIs: []string{"http://[::1]:8080/cb", "https://app.example/cb"}, Secret: true})
	must(t, err)
	if secret == "" || c.SecretHash != store.HashToken(secret) || c.TokenEndpointAuthMethod != "client_secret_basic" {
		t.Fatalf("client %+v", c)
	}
}

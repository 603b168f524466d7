package authz_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/bankfeed/bankfeed/authz"
)

// introspectAs posts token to /oauth2/introspect with the given
// credentials (Basic user/pass, or an assertion form, or a header).
func (e *env) introspectAs(token string, form url.Values, user, pass, header string) (int, map[string]any) {
	e.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("token", token)
	req, err := http.NewRequest(http.MethodPost, e.iss+"/oauth2/introspect", strings.NewReader(form.Encode()))
	must(e.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	}
	if header != "" {
		req.Header.Set("Authorization", header)
	}
	resp, err := http.DefaultClient.Do(req)
	must(e.t, err)
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// keyClientTokens runs a code flow for kc (private_key_jwt).
func (e *env) keyClientTokens(kc keyClient) tokenResult {
	e.t.Helper()
	v := oauth2.GenerateVerifier()
	q := e.codeFor(e.authorizeParams(kc.client.ID, oauth2.S256ChallengeFromVerifier(v)), e.user.ID, allScopes)
	tr := e.token(kc.authForm(e.t, e.iss+"/oauth2/token", url.Values{
		"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {redirectURI}, "code_verifier": {v},
	}), "", "")
	if tr.Status != http.StatusOK {
		e.t.Fatalf("key client exchange: %+v", tr)
	}
	return tr
}

// TestIntrospectionOnlyForTheTokensClient: RFC 7662 §4 — a client learns
// about its own tokens only; any other authenticated client gets
// {"active": false}; a bearer access token is no credential; a
// private_key_jwt client may introspect (aud: the introspection endpoint
// or the issuer) and discovery says so.
func TestIntrospectionOnlyForTheTokensClient(t *testing.T) {
	e := newEnv(t, envOpts{})
	tr := e.exchange(e.vendor.ID, e.secret)
	other, otherSecret, err := authz.CreateClient(e.ctx, e.st, authz.ClientSpec{Name: "Snoop", RedirectURIs: []string{redirectURI}, Secret: true})
	must(t, err)
	kc := e.newKeyClient(authz.ClientSpec{})

	for name, tok := range map[string]string{"access": tr.AccessToken, "refresh": tr.RefreshToken} {
		if code, m := e.introspectAs(tok, nil, e.vendor.ID, e.secret, ""); code != http.StatusOK || m["active"] != true || m["client_id"] != e.vendor.ID {
			t.Fatalf("%s token, its own client: %d %v", name, code, m)
		}
		if code, m := e.introspectAs(tok, nil, other.ID, otherSecret, ""); code != http.StatusOK || len(m) != 1 || m["active"] != false {
			t.Fatalf("%s token, another client: %d %v, want only {\"active\": false}", name, code, m)
		}
		if code, m := e.introspectAs(tok, kc.authForm(t, e.iss+"/oauth2/introspect", url.Values{}), "", "", ""); code != http.StatusOK || len(m) != 1 || m["active"] != false {
			t.Fatalf("%s token, another (private_key_jwt) client: %d %v", name, code, m)
		}
	}

	// A bearer access token is no credential, even the token's own.
	own := e.exchange(other.ID, otherSecret)
	if code, m := e.introspectAs(tr.AccessToken, nil, "", "", "Bearer "+own.AccessToken); code != http.StatusUnauthorized || m["active"] == true {
		t.Fatalf("bearer credentials: %d %v", code, m)
	}

	kt := e.keyClientTokens(kc)
	for _, aud := range []string{e.iss + "/oauth2/introspect", e.iss} {
		if code, m := e.introspectAs(kt.AccessToken, kc.authForm(t, aud, url.Values{}), "", "", ""); code != http.StatusOK || m["active"] != true {
			t.Fatalf("private_key_jwt client, own token, aud %s: %d %v", aud, code, m)
		}
	}

	var meta struct {
		Introspection []string `json:"introspection_endpoint_auth_methods_supported"`
		Revocation    []string `json:"revocation_endpoint_auth_methods_supported"`
	}
	must(t, json.Unmarshal([]byte(readBody(e.get(e.iss+"/.well-known/openid-configuration"))), &meta))
	for _, m := range [][]string{meta.Introspection, meta.Revocation} {
		if !slices.Contains(m, "private_key_jwt") || !slices.Contains(m, "client_secret_basic") {
			t.Fatalf("discovery: introspection %v, revocation %v", meta.Introspection, meta.Revocation)
		}
	}
}

// TestRevocationByAnotherClient: another client's revocation answers 200
// (RFC 7009 §2.2) and revokes nothing; a private_key_jwt client revokes its
// own token with aud the revocation endpoint.
func TestRevocationByAnotherClient(t *testing.T) {
	e := newEnv(t, envOpts{})
	tr := e.exchange(e.vendor.ID, e.secret)
	other, otherSecret, err := authz.CreateClient(e.ctx, e.st, authz.ClientSpec{Name: "Snoop", RedirectURIs: []string{redirectURI}, Secret: true})
	must(t, err)
	for _, tok := range []string{tr.RefreshToken, tr.AccessToken} {
		if resp := e.postForm("/oauth2/revoke", url.Values{"token": {tok}}, other.ID, otherSecret); resp.StatusCode != http.StatusOK {
			t.Fatalf("revocation by another client: %d %s", resp.StatusCode, readBody(resp))
		}
	}
	if _, err := e.srv.Verify(e.ctx, tr.AccessToken); err != nil {
		t.Fatalf("another client's revocation revoked the access token: %v", err)
	}
	if r := e.refresh(tr.RefreshToken); r.Status != http.StatusOK {
		t.Fatalf("another client's revocation revoked the refresh token: %+v", r)
	}

	kc := e.newKeyClient(authz.ClientSpec{})
	kt := e.keyClientTokens(kc)
	resp := e.postForm("/oauth2/revoke", kc.authForm(t, e.iss+"/oauth2/revoke", url.Values{"token": {kt.RefreshToken}}), "", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("private_key_jwt revocation: %d %s", resp.StatusCode, readBody(resp))
	}
	if _, err := e.srv.Verify(e.ctx, kt.AccessToken); err == nil {
		t.Fatal("private_key_jwt revocation revoked nothing")
	}
}

package authz_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	josev4 "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/bankfeed/bankfeed/authz"
)

// jarmClaims are the claims of a JARM response (JARM §2.1, §2.2).
type jarmClaims struct {
	Iss         string `json:"iss"`
	Aud         string `json:"aud"`
	Exp         int64  `json:"exp"`
	Iat         int64  `json:"iat"`
	Code        string `json:"code"`
	State       string `json:"state"`
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// verifyJARM is what a client does with the response parameter: verify
// the JWS with the key its kid names in the server's /jwks (go-jose, ES256
// or PS256 only), then check iss, aud and exp.
func (e *env) verifyJARM(token, clientID string) jarmClaims {
	e.t.Helper()
	resp := e.get(e.iss + "/.well-known/jwks.json")
	var set josev4.JSONWebKeySet
	must(e.t, json.Unmarshal([]byte(readBody(resp)), &set))
	jws, err := josev4.ParseSigned(token, []josev4.SignatureAlgorithm{josev4.ES256, josev4.PS256})
	if err != nil {
		e.t.Fatalf("response %q is not a JWS: %v", token, err)
	}
	keys := set.Key(jws.Signatures[0].Header.KeyID)
	if len(keys) != 1 {
		e.t.Fatalf("the response's kid %q names %d keys of /jwks", jws.Signatures[0].Header.KeyID, len(keys))
	}
	payload, err := jws.Verify(keys[0].Key)
	if err != nil {
		e.t.Fatalf("response signature: %v", err)
	}
	var c jarmClaims
	must(e.t, json.Unmarshal(payload, &c))
	now := e.clock.Now().Unix()
	if c.Iss != e.iss || c.Aud != clientID {
		e.t.Fatalf("response iss %q aud %q, want %q and the client %q", c.Iss, c.Aud, e.iss, clientID)
	}
	if c.Exp <= now || c.Exp-c.Iat > 600 || c.Iat > now+1 {
		e.t.Fatalf("response iat %d exp %d (now %d): want an exp in the future, at most 10 minutes after iat", c.Iat, c.Exp, now)
	}
	return c
}

// resumeRaw follows the consent pages' redirect back to authz and returns
// authz's answer, whatever it is.
func (e *env) resumeRaw(challenge, verifier string) *http.Response {
	e.t.Helper()
	return e.get(e.iss + "/oauth2/authorize/resume?" + url.Values{"login_challenge": {challenge}, "login_verifier": {verifier}}.Encode())
}

// jarmRedirect reads the JWT of a query.jwt or fragment.jwt redirect to
// the client and checks that nothing else of the response — code, state,
// iss, error — is in the URL in clear.
func jarmRedirect(t *testing.T, resp *http.Response, fragment bool) string {
	t.Helper()
	return jarmRedirectTo(t, resp, redirectURI, fragment)
}

func jarmRedirectTo(t *testing.T, resp *http.Response, redirectURI string, fragment bool) string {
	t.Helper()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("status %d, want a redirect to the client: %s", resp.StatusCode, readBody(resp))
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	must(t, err)
	if !strings.HasPrefix(loc.String(), redirectURI) {
		t.Fatalf("redirected to %s, want the client", loc)
	}
	inQuery, inFragment := loc.Query(), url.Values{}
	if loc.Fragment != "" {
		inFragment, err = url.ParseQuery(loc.Fragment)
		must(t, err)
	}
	carrier, other := inQuery, inFragment
	if fragment {
		carrier, other = inFragment, inQuery
	}
	if len(carrier) != 1 || carrier.Get("response") == "" || len(other) != 0 {
		t.Fatalf("redirect %s: want only response, in the %s", loc, map[bool]string{true: "fragment", false: "query"}[fragment])
	}
	return carrier.Get("response")
}

// TestJARMCodeFlow: a client asks response_mode=jwt with x/oauth2, gets
// the code inside a JWT in the query (jwt is query.jwt for code), verifies
// it against /jwks and exchanges the code. Discovery lists the modes and
// the signing algorithm.
func TestJARMCodeFlow(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := context.Background()
	var meta struct {
		Modes []string `json:"response_modes_supported"`
		Algs  []string `json:"authorization_signing_alg_values_supported"`
	}
	for _, doc := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		must(t, json.Unmarshal([]byte(readBody(e.get(e.iss+doc))), &meta))
		for _, m := range []string{"query", "jwt", "query.jwt", "fragment.jwt", "form_post.jwt"} {
			if !slices.Contains(meta.Modes, m) {
				t.Fatalf("%s: response_modes_supported %v lacks %s", doc, meta.Modes, m)
			}
		}
		if !slices.Equal(meta.Algs, []string{"ES256"}) {
			t.Fatalf("%s: authorization_signing_alg_values_supported %v", doc, meta.Algs)
		}
	}

	conf := oauth2.Config{
		ClientID: e.vendor.ID, ClientSecret: e.secret, RedirectURL: redirectURI,
		Endpoint: oauth2.Endpoint{AuthURL: e.iss + "/oauth2/authorize", TokenURL: e.iss + "/oauth2/token", AuthStyle: oauth2.AuthStyleInHeader},
		Scopes:   allScopes,
	}
	verifier := oauth2.GenerateVerifier()
	u, err := url.Parse(conf.AuthCodeURL("state-jarm-123456", oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("response_mode", "jwt"), oauth2.SetAuthURLParam("nonce", "nonce-1234567890")))
	must(t, err)
	ch := e.startAuthorize(u.Query())
	c := e.verifyJARM(jarmRedirect(t, e.resumeRaw(ch, e.decideFlowInStore(ch, e.user.ID, allScopes, false)), false), e.vendor.ID)
	if c.Code == "" || c.State != "state-jarm-123456" || c.Error != "" {
		t.Fatalf("response claims %+v: want the code and the state", c)
	}
	tok, err := conf.Exchange(ctx, c.Code, oauth2.VerifierOption(verifier))
	must(t, err)
	if tok.AccessToken == "" || tok.Extra("id_token") == nil {
		t.Fatalf("token %+v", tok)
	}
}

// TestJARMModes: query.jwt and fragment.jwt redirect with the JWT where
// asked, form_post.jwt answers a page that posts it, allowed by its CSP to
// post to the client's origin and to run its one script only.
func TestJARMModes(t *testing.T) {
	e := newEnv(t, envOpts{})
	for _, mode := range []string{"query.jwt", "fragment.jwt", "form_post.jwt"} {
		t.Run(mode, func(t *testing.T) {
			q := e.authorizeParams(e.vendor.ID, oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier()))
			q.Set("response_mode", mode)
			ch := e.startAuthorize(q)
			resp := e.resumeRaw(ch, e.decideFlowInStore(ch, e.user.ID, allScopes, false))
			var token string
			switch mode {
			case "form_post.jwt":
				token = jarmForm(t, resp)
			default:
				token = jarmRedirect(t, resp, mode == "fragment.jwt")
			}
			if c := e.verifyJARM(token, e.vendor.ID); c.Code == "" || c.State != "state-1234567890" {
				t.Fatalf("response claims %+v", c)
			}
		})
	}
}

// jarmForm checks a form_post.jwt page and returns the JWT it posts.
func jarmForm(t *testing.T, resp *http.Response) string {
	t.Helper()
	body := readBody(resp)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("form_post.jwt: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "form-action http://127.0.0.1:9999;") || !strings.Contains(csp, "script-src 'sha256-") || !strings.Contains(csp, "default-src 'none'") {
		t.Fatalf("form_post.jwt CSP %q: want form-action the client's origin, one script by hash", csp)
	}
	form := regexp.MustCompile(`<form method="post" action="([^"]*)"><input type="hidden" name="response" value="([^"]*)">`).FindStringSubmatch(body)
	if form == nil || html.UnescapeString(form[1]) != redirectURI {
		t.Fatalf("form_post.jwt page: no form posting to %s:\n%s", redirectURI, body)
	}
	if strings.Count(body, `name="`) != 1 {
		t.Fatalf("form_post.jwt page posts more than the response:\n%s", body)
	}
	return html.UnescapeString(form[2])
}

// TestJARMSignedDenial: the user's "Deny" reaches the client as a signed
// access_denied with the state, and no code.
func TestJARMSignedDenial(t *testing.T) {
	e := newEnv(t, envOpts{})
	q := e.authorizeParams(e.vendor.ID, oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier()))
	q.Set("response_mode", "jwt")
	ch := e.startAuthorize(q)
	c := e.verifyJARM(jarmRedirect(t, e.resumeRaw(ch, e.decideFlowInStore(ch, e.user.ID, nil, true)), false), e.vendor.ID)
	if c.Error != "access_denied" || c.State != "state-1234567890" || c.Code != "" {
		t.Fatalf("response claims %+v: want a signed access_denied with the state", c)
	}
}

// TestJARMSignedErrorAtAuthorize: an error found at the authorization
// endpoint itself (a scope the client may not ask) is signed too, once
// client and redirect URI are known.
func TestJARMSignedErrorAtAuthorize(t *testing.T) {
	e := newEnv(t, envOpts{})
	q := e.authorizeParams(e.vendor.ID, oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier()))
	q.Set("response_mode", "query.jwt")
	q.Set("scope", "openid operator")
	c := e.verifyJARM(jarmRedirect(t, e.get(e.iss+"/oauth2/authorize?"+q.Encode()), false), e.vendor.ID)
	if c.Error != "invalid_scope" || c.State != "state-1234567890" || c.Code != "" {
		t.Fatalf("response claims %+v: want a signed invalid_scope", c)
	}
}

// TestJARMUnknownResponseMode: a mode the server does not know is refused
// without redirecting (the redirect URI is not trusted yet).
func TestJARMUnknownResponseMode(t *testing.T) {
	e := newEnv(t, envOpts{})
	q := e.authorizeParams(e.vendor.ID, oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier()))
	q.Set("response_mode", "jwt.query")
	resp := e.get(e.iss + "/oauth2/authorize?" + q.Encode())
	body := readBody(resp)
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" || !strings.Contains(body, "unsupported_response_mode") {
		t.Fatalf("unknown response_mode: %d %q %s; want 400 unsupported_response_mode, no redirect", resp.StatusCode, resp.Header.Get("Location"), body)
	}
}

// TestJARMUnsupportedResponseType: jwt with a response type that would
// return a token (which bankfeed does not issue) is refused, signed, and in
// the fragment: such a response never goes in the query (JARM §2.3.1).
func TestJARMUnsupportedResponseType(t *testing.T) {
	e := newEnv(t, envOpts{})
	for _, mode := range []string{"jwt", "query.jwt"} {
		q := e.authorizeParams(e.vendor.ID, oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier()))
		q.Set("response_mode", mode)
		q.Set("response_type", "code id_token")
		c := e.verifyJARM(jarmRedirect(t, e.get(e.iss+"/oauth2/authorize?"+q.Encode()), true), e.vendor.ID)
		if c.Error != "unsupported_response_type" || c.Code != "" {
			t.Fatalf("%s with code id_token: claims %+v, want a signed unsupported_response_type", mode, c)
		}
	}
}

// TestJARMThroughPAR: response_mode inside a signed request object pushed
// at PAR holds for the authorization with its request_uri; the code in the
// JWT is exchanged with the client's assertion.
func TestJARMThroughPAR(t *testing.T) {
	e := newEnv(t, envOpts{})
	kc := e.newKeyClient(authz.ClientSpec{RequirePAR: true, RequireSignedRequestObject: true})
	verifier := oauth2.GenerateVerifier()
	form := e.authorizeParams(kc.client.ID, oauth2.S256ChallengeFromVerifier(verifier))
	form.Set("response_mode", "jwt")
	resp := e.parObject(kc, e.requestObject(kc, form, nil), nil)
	body := readBody(resp)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("par: %d %s", resp.StatusCode, body)
	}
	var out struct {
		RequestURI string `json:"request_uri"`
	}
	must(t, json.Unmarshal([]byte(body), &out))
	ch := e.startAuthorize(url.Values{"client_id": {kc.client.ID}, "request_uri": {out.RequestURI}})
	c := e.verifyJARM(jarmRedirect(t, e.resumeRaw(ch, e.decideFlowInStore(ch, e.user.ID, allScopes, false)), false), kc.client.ID)
	tr := e.token(kc.authForm(t, e.iss, url.Values{
		"grant_type": {"authorization_code"}, "code": {c.Code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier},
	}), "", "")
	if tr.Status != http.StatusOK || tr.AccessToken == "" {
		t.Fatalf("token: %+v", tr)
	}
}

// TestJARMFAPI2: in the fapi2 profile a DPoP-bound, private_key_jwt client
// pushing response_mode=jwt gets its code signed, and exchanges it with a
// proof.
func TestJARMFAPI2(t *testing.T) {
	e := fapiEnv(t, nil)
	kc := e.fapiClient()
	k := newDPoPKey(t)
	verifier := oauth2.GenerateVerifier()
	resp := e.postNonced("/oauth2/par", func() url.Values {
		f := fapiParams(e, kc, verifier)
		f.Set("response_mode", "jwt")
		return kc.authForm(e.t, e.iss, f)
	}, k)
	body := readBody(resp)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("par: %d %s", resp.StatusCode, body)
	}
	var par struct {
		RequestURI string `json:"request_uri"`
	}
	must(t, json.Unmarshal([]byte(body), &par))
	ch := e.startAuthorize(url.Values{"client_id": {kc.client.ID}, "request_uri": {par.RequestURI}})
	c := e.verifyJARM(jarmRedirectTo(t, e.resumeRaw(ch, e.decideFlowInStore(ch, e.user.ID, allScopes, false)), fapiRedirect, false), kc.client.ID)
	r := decodeResult(t, e.postNonced("/oauth2/token", func() url.Values { return kc.authForm(t, e.iss, fapiCodeForm(c.Code, verifier)) }, k))
	if r.Status != http.StatusOK || r.TokenType != "DPoP" {
		t.Fatalf("exchange: %d %s %s (token_type %q)", r.Status, r.Error, r.Description, r.TokenType)
	}
}

package authz_test

import (
	"bytes"
	"encoding/base64"
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

// TestExchangeTakesPKCEAndOIDCSessions: a code exchange reads its PKCE and
// OpenID Connect sessions and deletes them, both in one statement (issue
// 15). A wrong verifier still spends the PKCE session, and the OpenID
// Connect one with it (the right one afterwards is refused: nothing
// reusable is left); a successful exchange leaves neither session behind
// and gets its ID token; a code without openid, which has no OpenID
// Connect session, is exchanged without one.
func TestExchangeTakesPKCEAndOIDCSessions(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := t.Context()
	codeSig := func(code string) string { return code[strings.LastIndex(code, ".")+1:] }
	gone := func(kind store.TokenKind, sig string) {
		t.Helper()
		if _, err := e.st.GetToken(ctx, kind, sig); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s session after the exchange: err = %v, want ErrNotFound", kind, err)
		}
	}
	exchange := func(code, verifier string) tokenResult {
		return e.token(url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {redirectURI}, "code_verifier": {verifier}}, e.vendor.ID, e.secret)
	}

	verifier := oauth2.GenerateVerifier()
	code := e.codeFor(e.authorizeParams(e.vendor.ID, oauth2.S256ChallengeFromVerifier(verifier)), e.user.ID, allScopes).Get("code")
	must(t, func() error { _, err := e.st.GetToken(ctx, store.TokenPKCE, codeSig(code)); return err }())
	wantOAuthError(t, exchange(code, oauth2.GenerateVerifier()), "invalid_grant")
	gone(store.TokenPKCE, codeSig(code))
	gone(store.TokenOIDC, store.HashToken(code))
	wantOAuthError(t, exchange(code, verifier), "invalid_grant")

	verifier = oauth2.GenerateVerifier()
	code = e.codeFor(e.authorizeParams(e.vendor.ID, oauth2.S256ChallengeFromVerifier(verifier)), e.user.ID, allScopes).Get("code")
	must(t, func() error { _, err := e.st.GetToken(ctx, store.TokenOIDC, store.HashToken(code)); return err }())
	tr := exchange(code, verifier)
	if tr.Status != http.StatusOK || tr.AccessToken == "" || tr.IDToken == "" {
		t.Fatalf("exchange: %+v", tr)
	}
	gone(store.TokenPKCE, codeSig(code))
	gone(store.TokenOIDC, store.HashToken(code))
	if rec, err := e.st.GetToken(ctx, store.TokenAuthorizeCode, codeSig(code)); err != nil || rec.Active {
		t.Errorf("code after the exchange: %+v, %v; want it kept inactive", rec, err)
	}
	wantOAuthError(t, exchange(code, verifier), "invalid_grant")

	verifier = oauth2.GenerateVerifier()
	q := e.authorizeParams(e.vendor.ID, oauth2.S256ChallengeFromVerifier(verifier))
	q.Set("scope", "offline_access accounts.read")
	code = e.codeFor(q, e.user.ID, []string{"offline_access", "accounts.read"}).Get("code")
	if _, err := e.st.GetToken(ctx, store.TokenOIDC, store.HashToken(code)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("OpenID Connect session of a code without openid: %v, want none", err)
	}
	tr = exchange(code, verifier)
	if tr.Status != http.StatusOK || tr.AccessToken == "" || tr.RefreshToken == "" || tr.IDToken != "" {
		t.Fatalf("exchange without openid: %+v", tr)
	}
	gone(store.TokenPKCE, codeSig(code))
}

// TestCodeReadTakesItsClientsSessions: on a code exchange by the client
// the code was issued to, the code's read takes its PKCE and OpenID
// Connect sessions in the same statement (issue 15), so the client spends
// the code by presenting it even when fosite refuses the exchange before
// the PKCE handler (a redirect_uri that differs: the right one afterwards
// is refused too, as after a wrong verifier); another client presenting
// the code takes nothing, and the code's own client still exchanges it.
func TestCodeReadTakesItsClientsSessions(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := t.Context()
	codeSig := func(code string) string { return code[strings.LastIndex(code, ".")+1:] }
	sessions := func(code string) (pkce, oidc error) {
		_, pkce = e.st.GetToken(ctx, store.TokenPKCE, codeSig(code))
		_, oidc = e.st.GetToken(ctx, store.TokenOIDC, store.HashToken(code))
		return pkce, oidc
	}
	exchange := func(clientID, secret, code, redirect, verifier string) tokenResult {
		return e.token(url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {redirect}, "code_verifier": {verifier}}, clientID, secret)
	}
	other, otherSecret, err := authz.CreateClient(ctx, e.st, authz.ClientSpec{Name: "Other books", RedirectURIs: []string{redirectURI}, Secret: true})
	must(t, err)

	verifier := oauth2.GenerateVerifier()
	code := e.codeFor(e.authorizeParams(e.vendor.ID, oauth2.S256ChallengeFromVerifier(verifier)), e.user.ID, allScopes).Get("code")
	wantOAuthError(t, exchange(other.ID, otherSecret, code, redirectURI, verifier), "invalid_grant")
	if pkce, oidc := sessions(code); pkce != nil || oidc != nil {
		t.Fatalf("after another client's attempt: PKCE %v, OpenID Connect %v; want both left", pkce, oidc)
	}
	if tr := exchange(e.vendor.ID, e.secret, code, redirectURI, verifier); tr.Status != http.StatusOK || tr.IDToken == "" {
		t.Fatalf("the code's client after another's attempt: %+v", tr)
	}

	verifier = oauth2.GenerateVerifier()
	code = e.codeFor(e.authorizeParams(e.vendor.ID, oauth2.S256ChallengeFromVerifier(verifier)), e.user.ID, allScopes).Get("code")
	wantOAuthError(t, exchange(e.vendor.ID, e.secret, code, redirectURI+"/other", verifier), "invalid_grant")
	if pkce, oidc := sessions(code); !errors.Is(pkce, store.ErrNotFound) || !errors.Is(oidc, store.ErrNotFound) {
		t.Fatalf("after a redirect_uri that differs: PKCE %v, OpenID Connect %v; want both taken", pkce, oidc)
	}
	wantOAuthError(t, exchange(e.vendor.ID, e.secret, code, redirectURI, verifier), "invalid_grant")
}

// TestPARRequestURIUsedOnce: a pushed request lives in its request_uri,
// sealed, and nothing is stored for it (issue 15); the request_uri still
// starts one flow only, however many authorization requests race with it
// (the flow it names is a duplicate for all but one), and is refused,
// unredirected, once used, once expired, altered, overlong, or of the
// unsealed form earlier versions stored.
func TestPARRequestURIUsedOnce(t *testing.T) {
	e := newEnv(t, envOpts{})
	kc := e.newKeyClient(authz.ClientSpec{RequirePAR: true})
	authorize := func(requestURI string) *http.Response {
		t.Helper()
		resp, err := e.browser.Get(e.iss + "/oauth2/authorize?" + url.Values{"client_id": {kc.client.ID}, "request_uri": {requestURI}}.Encode())
		must(t, err)
		return resp
	}
	refused := func(requestURI, what string) {
		t.Helper()
		resp := authorize(requestURI)
		if st, code := jsonError(t, resp); st != http.StatusBadRequest || code != "invalid_request_uri" || resp.Header.Get("Location") != "" {
			t.Fatalf("%s request_uri: %d %s, location %q; want 400 invalid_request_uri, unredirected", what, st, code, resp.Header.Get("Location"))
		}
	}
	form := e.authorizeParams(kc.client.ID, oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier()))
	requestURI := e.par(kc, e.iss, form)
	if _, err := e.st.GetToken(t.Context(), store.TokenPAR, store.HashToken(requestURI)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("pushed request stored: %v, want nothing stored", err)
	}
	sealed, err := base64.RawURLEncoding.DecodeString(requestURI[strings.LastIndex(requestURI, ".")+1:])
	must(t, err)
	for _, k := range []string{"state", "nonce", "code_challenge", "redirect_uri"} {
		if v := form.Get(k); strings.Contains(requestURI, v) || bytes.Contains(sealed, []byte(v)) {
			t.Errorf("the request_uri shows the request's %s in the clear", k)
		}
	}

	const racers = 8
	statuses := make(chan int, racers)
	var wg sync.WaitGroup
	for range racers {
		wg.Go(func() {
			resp, err := e.browser.Get(e.iss + "/oauth2/authorize?" + url.Values{"client_id": {kc.client.ID}, "request_uri": {requestURI}}.Encode())
			if err != nil {
				statuses <- 0
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		})
	}
	wg.Wait()
	close(statuses)
	started := 0
	for st := range statuses {
		switch st {
		case http.StatusSeeOther:
			started++
		case http.StatusBadRequest:
		default:
			t.Errorf("racing authorization request: %d", st)
		}
	}
	if started != 1 {
		t.Fatalf("%d of %d racing authorization requests started a flow with one request_uri, want 1", started, racers)
	}
	// The flow keeps the pushed request's form, not the request_uri it
	// came in (about 1.2 KB, which took the flow's row past PostgreSQL's
	// TOAST threshold).
	kept, err := authz.PushedFlowForm(t.Context(), e.srv, requestURI)
	must(t, err)
	if kept.Get("code_challenge") != form.Get("code_challenge") || kept.Get("state") != form.Get("state") {
		t.Errorf("the flow's form lost the pushed request: %v", kept)
	}
	if kept.Has("request_uri") {
		t.Errorf("the flow keeps the request_uri it was started by (%d bytes)", len(kept.Get("request_uri")))
	}
	refused(requestURI, "a used")

	requestURI = e.par(kc, e.iss, form)
	altered := []byte(requestURI)
	altered[len(altered)-10] ^= 1
	refused(string(altered), "an altered")
	refused("urn:ietf:params:oauth:request_uri:"+store.RandomToken(32), "an unsealed (stored by an earlier version)")
	refused(requestURI+strings.Repeat("A", 40<<10), "an overlong")
	e.clock.Advance(91 * time.Second) // past the default 90 s
	refused(requestURI, "an expired")
}

// TestResumeFinishesItsFlowOnce: the resume reads its flow and marks it
// done in one statement, in the transaction that issues the code (issue
// 15). A wrong verifier changes nothing; a failure after the mark (the
// client deleted meanwhile) rolls it back, the flow still decided; a
// refusal to the client sticks (the flow done); the code is issued once.
func TestResumeFinishesItsFlowOnce(t *testing.T) {
	e := newEnv(t, envOpts{})
	state := func(ch string) store.AuthFlowState {
		t.Helper()
		f, err := e.st.GetAuthFlow(e.ctx, ch)
		must(t, err)
		return f.State
	}
	refusedUnredirected := func(ch, v, want string) {
		t.Helper()
		resp := e.get(e.iss + "/oauth2/authorize/resume?" + url.Values{"login_challenge": {ch}, "login_verifier": {v}}.Encode())
		if st, code := jsonError(t, resp); st < 400 || code != want {
			t.Fatalf("resume: %d %s, want %s without a redirect", st, code, want)
		}
	}
	params := func(clientID string) url.Values {
		return e.authorizeParams(clientID, oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier()))
	}

	ch := e.startAuthorize(params(e.vendor.ID))
	v := e.decideFlowInStore(ch, e.user.ID, allScopes, false)
	refusedUnredirected(ch, "nope", "invalid_request")
	if st := state(ch); st != store.FlowDecided {
		t.Fatalf("after a wrong verifier the flow is %s, want decided", st)
	}
	if loc := e.resume(ch, v); loc.Query().Get("code") == "" {
		t.Fatalf("resume: %s, want a code", loc)
	}
	if st := state(ch); st != store.FlowDone {
		t.Fatalf("after the resume the flow is %s, want done", st)
	}
	refusedUnredirected(ch, v, "invalid_request")

	ch = e.startAuthorize(params(e.vendor.ID))
	v = e.decideFlowInStore(ch, e.user.ID, allScopes, true)
	if q := redirectError(t, e.get(e.iss+"/oauth2/authorize/resume?"+url.Values{"login_challenge": {ch}, "login_verifier": {v}}.Encode()), e.iss); q.Get("error") != "access_denied" {
		t.Fatalf("denied flow: %v", q)
	}
	if st := state(ch); st != store.FlowDone {
		t.Fatalf("after a refusal the flow is %s, want done", st)
	}

	kc := e.newKeyClient(authz.ClientSpec{})
	ch = e.startAuthorize(params(kc.client.ID))
	v = e.decideFlowInStore(ch, e.user.ID, allScopes, false)
	must(t, e.st.DeleteClient(e.ctx, kc.client.ID))
	e.clock.Advance(3 * time.Second) // past the client cache
	refusedUnredirected(ch, v, "invalid_client")
	if st := state(ch); st != store.FlowDecided {
		t.Fatalf("after a failure past the mark the flow is %s, want decided (rolled back)", st)
	}
}

// TestResumeJudgesTheUserReadWithItsFlow: the resume judges the flow's user,
// assignment and role as the statement that finishes the flow reads them
// (issue 15), not as they were at the consent page: a user gone, locked or
// left without an assignment since is refused with access_denied, and the
// refusal sticks (the flow done, no code).
func TestResumeJudgesTheUserReadWithItsFlow(t *testing.T) {
	e := newEnv(t, envOpts{})
	refused := func(what, userID, wantHint string) {
		t.Helper()
		ch := e.startAuthorize(e.authorizeParams(e.vendor.ID, oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())))
		v := e.decideFlowInStore(ch, userID, allScopes, false)
		q := redirectError(t, e.get(e.iss+"/oauth2/authorize/resume?"+url.Values{"login_challenge": {ch}, "login_verifier": {v}}.Encode()), e.iss)
		if q.Get("error") != "access_denied" || !strings.Contains(q.Get("error_description"), wantHint) {
			t.Errorf("%s: %v, want access_denied saying %q", what, q, wantHint)
		}
		if f, err := e.st.GetAuthFlow(e.ctx, ch); err != nil || f.State != store.FlowDone {
			t.Errorf("%s: flow %+v, %v; want done", what, f, err)
		}
	}
	refused("a user gone", "usr_gone", "cannot authorize this application")

	unassigned, err := e.st.CreateUser(e.ctx, store.User{BusinessGroupID: e.user.BusinessGroupID, LoginID: "unassigned.books",
		DisplayName: "Unassigned", AccountingSoftware: true, Status: store.UserActive})
	must(t, err)
	refused("a user without an assignment", unassigned.ID, "job role allows none")

	_, err = e.st.UpdateUser(e.ctx, e.user.ID, func(u store.User) (store.User, error) {
		u.Status = store.UserLocked
		return u, nil
	})
	must(t, err)
	refused("a locked user", e.user.ID, "cannot authorize this application")
}

// TestCodeExchangeStampsItsConsentUsed: a code's consent is stamped used by
// the code's consumption, in the tokens' transaction (issue 15: it was a
// statement of its own before the transaction): an exchange refused for a
// wrong verifier leaves it unused, a successful one stamps it.
func TestCodeExchangeStampsItsConsentUsed(t *testing.T) {
	e := newEnv(t, envOpts{})
	lastUsed := func() time.Time {
		t.Helper()
		cs, err := e.st.ListConsents(e.ctx, e.user.ID)
		must(t, err)
		for _, c := range cs {
			if c.RevokedAt.IsZero() {
				return c.LastUsedAt
			}
		}
		t.Fatal("no standing consent")
		return time.Time{}
	}
	exchange := func(code, verifier string) tokenResult {
		return e.token(url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {redirectURI}, "code_verifier": {verifier}}, e.vendor.ID, e.secret)
	}
	verifier := oauth2.GenerateVerifier()
	code := e.codeFor(e.authorizeParams(e.vendor.ID, oauth2.S256ChallengeFromVerifier(verifier)), e.user.ID, allScopes).Get("code")
	if at := lastUsed(); !at.IsZero() {
		t.Fatalf("a new consent was used at %v", at)
	}
	wantOAuthError(t, exchange(code, oauth2.GenerateVerifier()), "invalid_grant")
	if at := lastUsed(); !at.IsZero() {
		t.Errorf("after a refused exchange the consent was used at %v, want never", at)
	}

	verifier = oauth2.GenerateVerifier()
	code = e.codeFor(e.authorizeParams(e.vendor.ID, oauth2.S256ChallengeFromVerifier(verifier)), e.user.ID, allScopes).Get("code")
	before := e.clock.Now()
	if tr := exchange(code, verifier); tr.Status != http.StatusOK {
		t.Fatalf("exchange: %+v", tr)
	}
	if at := lastUsed(); at.Before(before) {
		t.Errorf("after the exchange the consent was last used at %v, want stamped", at)
	}
}

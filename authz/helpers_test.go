package authz_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v3"
	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/authz"
	"github.com/bankfeed/bankfeed/consent"
	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/store/gormstore"
	"github.com/bankfeed/bankfeed/store/gormstore/gormtest"
)

// clock is real time plus an offset tests move forward. Frozen, it stays at
// the moment of Freeze (plus what Advance adds), so that a test about a
// deadline — the refresh grace period, the key cache — does not depend on
// how fast the machine runs it.
type clock struct {
	off    atomic.Int64
	frozen atomic.Pointer[time.Time]
}

func (c *clock) Now() time.Time {
	base := time.Now()
	if f := c.frozen.Load(); f != nil {
		base = *f
	}
	return base.Add(time.Duration(c.off.Load()))
}

func (c *clock) Advance(d time.Duration) { c.off.Add(int64(d)) }

// Freeze stops the clock at its current reading.
func (c *clock) Freeze() {
	now := time.Now()
	c.frozen.CompareAndSwap(nil, &now)
}

// env is one database, one or two authorization servers behind one URL.
type env struct {
	t      testing.TB
	ctx    context.Context
	st     *gormstore.Store
	outage *gormtest.Outage // with envOpts.outage
	clock  *clock
	srv    *authz.Server // serves everything (or only /oauth2/authorize* with two)
	srv2   *authz.Server // with two replicas: token, PAR, revoke, introspect…
	ts     *httptest.Server
	echo   *echo.Echo       // the first replica's router (mount more pages on it)
	pages  *consent.Handler // the bank's pages, once withPages mounted them
	iss    string

	group   store.BusinessGroup
	role    store.JobRole // View on Account summary and Manage statements
	user    store.User    // accounting software user, active
	vendor  store.Client  // client_secret_basic
	secret  string
	browser *http.Client // stops at every redirect
}

type envOpts struct {
	twoServers bool
	cfg        func(*authz.Config)
	// outage puts the database behind a gormtest.Outage (env.outage).
	outage bool
}

var (
	tokenSecret = []byte("0123456789abcdef0123456789abcdef-test")
	kek         = []byte("kek-kek-kek-kek-kek-kek-kek-kek!")
)

const redirectURI = "http://127.0.0.1:9999/callback"

func newEnv(t testing.TB, o envOpts) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t, ctx: ctx, clock: &clock{}}
	var st *gormstore.Store
	if o.outage {
		e.outage = gormtest.OpenOutage(t, "authz_test", gormstore.Config{Now: e.clock.Now})
		st = e.outage.Store
	} else {
		st = gormtest.Open(t, "authz_test", gormstore.Config{Now: e.clock.Now})
	}
	e.st = st

	var ea, eb *echo.Echo
	e.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if eb != nil && !strings.HasPrefix(r.URL.Path, "/oauth2/authorize") {
			eb.ServeHTTP(w, r)
			return
		}
		ea.ServeHTTP(w, r)
	}))
	t.Cleanup(e.ts.Close)
	e.iss = e.ts.URL

	mk := func() *authz.Server {
		cfg := authz.Config{
			Store:              st,
			Issuer:             e.iss,
			Logger:             slog.New(slog.NewTextHandler(io.Discard, nil)),
			Now:                e.clock.Now,
			TokenSecret:        tokenSecret,
			KeyEncryptionKey:   kek,
			RefreshGracePeriod: 2 * time.Second,
		}
		if o.cfg != nil {
			o.cfg(&cfg)
		}
		s, err := authz.New(ctx, cfg)
		if err != nil {
			t.Fatalf("authz.New: %v", err)
		}
		return s
	}
	e.srv = mk()
	ea = echo.New()
	e.srv.Mount(ea)
	e.echo = ea
	if o.twoServers {
		e.srv2 = mk()
		eb = echo.New()
		e.srv2.Mount(eb)
	}
	e.browser = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	e.seed()
	return e
}

func (e *env) seed() {
	t, ctx := e.t, e.ctx
	t.Helper()
	var err error
	e.group, err = e.st.CreateBusinessGroup(ctx, store.BusinessGroup{ID: store.NewID("bg"), Name: "Maple Foods", LegalName: "Maple Foods Inc."})
	must(t, err)
	e.role, err = e.st.CreateJobRole(ctx, store.JobRole{ID: store.NewID("role"), BusinessGroupID: e.group.ID, Name: "Bookkeeping", Grants: store.Grants{
		{Permission: store.PermAccountSummary, Rights: store.Rights(store.RightView)},
		{Permission: store.PermManageStatements, Rights: store.Rights(store.RightView)},
	}})
	must(t, err)
	e.user = e.newUser(true, e.role)
	e.vendor, e.secret, err = authz.CreateClient(ctx, e.st, authz.ClientSpec{Name: "Ledgerly", RedirectURIs: []string{redirectURI}, Secret: true})
	must(t, err)
}

// newUser creates an active user assigned role (in the overview context).
func (e *env) newUser(accountingSoftware bool, role store.JobRole) store.User {
	t, ctx := e.t, e.ctx
	t.Helper()
	u, err := e.st.CreateUser(ctx, store.User{
		ID: store.NewID("usr"), BusinessGroupID: e.group.ID, LoginID: "user-" + store.RandomToken(6),
		DisplayName: "Avery Clerk", AccountingSoftware: accountingSoftware, Status: store.UserActive,
	})
	must(t, err)
	ag, err := e.st.CreateAccountGroup(ctx, store.AccountGroup{ID: store.NewID("ag"), BusinessGroupID: e.group.ID, Name: "All " + store.RandomToken(4)})
	must(t, err)
	_, err = e.st.PutAssignment(ctx, store.Assignment{ID: store.NewID("asg"), BusinessGroupID: e.group.ID, UserID: u.ID, JobRoleID: role.ID, AccountGroupID: ag.ID})
	must(t, err)
	return u
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// authorizeParams are the usual vendor request parameters.
func (e *env) authorizeParams(clientID, challenge string) url.Values {
	return url.Values{
		"client_id":             {clientID},
		"response_type":         {"code"},
		"redirect_uri":          {redirectURI},
		"scope":                 {"openid profile offline_access accounts.read statements.read"},
		"code_challenge":        {challenge},
		"code_challenge_method": {"S256"},
		"state":                 {"state-1234567890"},
		"nonce":                 {"nonce-1234567890"},
	}
}

// startAuthorize sends the browser to /oauth2/authorize and returns the
// login challenge the server redirected to.
func (e *env) startAuthorize(q url.Values) string {
	e.t.Helper()
	resp := e.get(e.iss + "/oauth2/authorize?" + q.Encode())
	if resp.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("authorize: status %d: %s", resp.StatusCode, readBody(resp))
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	must(e.t, err)
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != e.iss+"/login" {
		e.t.Fatalf("authorize redirected to %q, want the login page (location %s)", got, loc)
	}
	ch := loc.Query().Get("login_challenge")
	if ch == "" {
		e.t.Fatalf("no login_challenge in %s", loc)
	}
	return ch
}

func (e *env) get(u string) *http.Response {
	e.t.Helper()
	resp, err := e.browser.Get(u)
	must(e.t, err)
	return buffered(e.t, resp)
}

// decideFlowInStore is a shortcut past the sign-in and consent pages: it
// writes on the AuthFlow what package consent records there (user, auth
// time, scopes, decision, verifier hash, state decided) and returns the
// verifier the pages would hand back. It is used where the test is about
// authz's own rules, not the pages; the real pages are exercised by
// consent_e2e_test.go and by the browser test in cmd/bankfeed.
func (e *env) decideFlowInStore(challenge, userID string, granted []string, denied bool) string {
	e.t.Helper()
	verifier := store.RandomToken(32)
	_, err := e.st.UpdateAuthFlow(e.ctx, challenge, func(f store.AuthFlow) (store.AuthFlow, error) {
		f.UserID = userID
		f.AuthTime = e.clock.Now()
		f.GrantedScopes = granted
		f.Denied = denied
		f.VerifierHash = store.HashToken(verifier)
		f.State = store.FlowDecided
		return f, nil
	})
	must(e.t, err)
	return verifier
}

// resume follows the consent pages' redirect back to authz and returns the
// redirect to the client (parsed) or fails.
func (e *env) resume(challenge, verifier string) *url.URL {
	e.t.Helper()
	resp := e.get(e.iss + "/oauth2/authorize/resume?" + url.Values{"login_challenge": {challenge}, "login_verifier": {verifier}}.Encode())
	if resp.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("resume: status %d: %s", resp.StatusCode, readBody(resp))
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	must(e.t, err)
	if !strings.HasPrefix(loc.String(), redirectURI) {
		e.t.Fatalf("resume redirected to %s, want the client", loc)
	}
	return loc
}

// codeFor runs authorize → decideFlowInStore (no pages) → resume for the
// env's user and returns the redirect query.
func (e *env) codeFor(q url.Values, userID string, granted []string) url.Values {
	e.t.Helper()
	ch := e.startAuthorize(q)
	v := e.decideFlowInStore(ch, userID, granted, false)
	return e.resume(ch, v).Query()
}

var allScopes = []string{"openid", "profile", "offline_access", "accounts.read", "statements.read"}

func readBody(resp *http.Response) string {
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// tokenResult is a token endpoint answer.
type tokenResult struct {
	Status       int
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	IDToken      string `json:"id_token"`
	Scope        string `json:"scope"`
	Error        string `json:"error"`
	Description  string `json:"error_description"`
}

// postForm posts to an endpoint with optional Basic credentials.
func (e *env) postForm(path string, form url.Values, user, pass string) *http.Response {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.iss+path, strings.NewReader(form.Encode()))
	must(e.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	}
	resp, err := http.DefaultClient.Do(req)
	must(e.t, err)
	return buffered(e.t, resp)
}

func (e *env) token(form url.Values, user, pass string) tokenResult {
	e.t.Helper()
	resp := e.postForm("/oauth2/token", form, user, pass)
	var tr tokenResult
	if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil {
		e.t.Fatalf("token response: %v", err)
	}
	tr.Status = resp.StatusCode
	return tr
}

func (e *env) refresh(rt string) tokenResult {
	e.t.Helper()
	return e.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, e.vendor.ID, e.secret)
}

func wantOAuthError(t testing.TB, tr tokenResult, want string) {
	t.Helper()
	if tr.Error != want {
		t.Fatalf("error = %q (%s), status %d; want %q", tr.Error, tr.Description, tr.Status, want)
	}
}

// keyClient is a private_key_jwt client with an ES256 key.
type keyClient struct {
	client store.Client
	key    *ecdsa.PrivateKey
}

func (e *env) newKeyClient(spec authz.ClientSpec) keyClient {
	e.t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(e.t, err)
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Use: "sig", Algorithm: "ES256"}}}
	raw, err := json.Marshal(set)
	must(e.t, err)
	spec.JWKS = raw
	if spec.Name == "" {
		spec.Name = "Booksy"
	}
	if spec.RedirectURIs == nil {
		spec.RedirectURIs = []string{redirectURI}
	}
	c, _, err := authz.CreateClient(e.ctx, e.st, spec)
	must(e.t, err)
	return keyClient{client: c, key: key}
}

// assertion builds a client assertion; mutate adjusts claims and method.
func (k keyClient) assertion(t testing.TB, aud any, mutate func(jwt.MapClaims)) string {
	t.Helper()
	now := time.Now()
	claims := jwt.MapClaims{
		"iss": k.client.ID, "sub": k.client.ID, "aud": aud,
		"jti": store.RandomToken(16), "iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
	}
	if mutate != nil {
		mutate(claims)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	tok.Header["kid"] = "k1"
	s, err := tok.SignedString(k.key)
	must(t, err)
	return s
}

func (k keyClient) authForm(t testing.TB, aud any, form url.Values) url.Values {
	form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
	form.Set("client_assertion", k.assertion(t, aud, nil))
	return form
}

// buffered reads and closes the body so callers need not.
func buffered(t testing.TB, resp *http.Response) *http.Response {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	must(t, err)
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

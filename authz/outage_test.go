package authz_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/oauth2"

	"github.com/bankfeed/bankfeed/authz"
	"github.com/bankfeed/bankfeed/consent"
	"github.com/bankfeed/bankfeed/internal/syncbuf"
	"github.com/bankfeed/bankfeed/store"
)

// TestOutageIsTemporarilyUnavailable: with the database gone (PostgreSQL
// behind a proxy the test cuts, SQLite's pools closed) and the client and
// key caches expired, every OAuth endpoint that reads the store answers
// 503 with Retry-After and temporarily_unavailable — never invalid_client,
// request_unauthorized, an inactive token or fosite's unrecognizable
// "error" — and logs the failure at error level without a secret or token.
// Once PostgreSQL is back the same client, access and refresh tokens work:
// the refresh attempted during the outage revoked nothing (issue 11,
// finding 2).
func TestOutageIsTemporarilyUnavailable(t *testing.T) {
	logs := &syncbuf.Buffer{}
	var e *env
	e = newEnv(t, envOpts{outage: true, cfg: func(c *authz.Config) {
		c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		// As served: a browser with the session cookie starts at consent.
		c.SessionCookie = consent.SessionCookie
		c.StartConsent = func(c echo.Context, f store.AuthFlow, cl store.Client, ui string) (bool, error) {
			return e.pages.StartConsent(c, f, cl, ui)
		}
	}})
	e.withPages(t)
	fp, fpSecret, err := authz.CreateClient(e.ctx, e.st, authz.ClientSpec{Name: "Core feed", Secret: true, FirstParty: true})
	must(t, err)
	tr := e.exchange(e.vendor.ID, e.secret)
	kc := e.newKeyClient(authz.ClientSpec{})

	// Past the 2 s client cache and the 10 s key cache: every request reads
	// the store.
	e.clock.Advance(15 * time.Second)
	e.outage.Cut(t)

	verifier := oauth2.GenerateVerifier()
	authorizeQuery := e.authorizeParams(e.vendor.ID, oauth2.S256ChallengeFromVerifier(verifier))
	post := func(path string, form url.Values, user, pass string) func() *http.Response {
		return func() *http.Response { return e.postForm(path, form, user, pass) }
	}
	bearer := func(path, token string) func() *http.Response {
		return func() *http.Response {
			req, err := http.NewRequest(http.MethodGet, e.iss+path, nil)
			must(t, err)
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			must(t, err)
			return buffered(t, resp)
		}
	}
	cases := []struct {
		name string
		do   func() *http.Response
		html bool // a browser's page instead of RFC 6749 JSON
	}{
		{"refresh_token", post("/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}}, e.vendor.ID, e.secret), false},
		{"authorization_code", post("/oauth2/token", url.Values{"grant_type": {"authorization_code"}, "code": {"ory_ac_x.y"}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}, e.vendor.ID, e.secret), false},
		{"client_credentials", post("/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "scope": {"operator"}}, fp.ID, fpSecret), false},
		{"private_key_jwt", post("/oauth2/token", kc.authForm(t, e.iss, url.Values{"grant_type": {"client_credentials"}}), "", ""), false},
		{"introspect", post("/oauth2/introspect", url.Values{"token": {tr.AccessToken}}, fp.ID, fpSecret), false},
		{"revoke", post("/oauth2/revoke", url.Values{"token": {tr.RefreshToken}}, e.vendor.ID, e.secret), false},
		{"par", post("/oauth2/par", authorizeQuery, e.vendor.ID, e.secret), false},
		{"userinfo", bearer("/userinfo", tr.AccessToken), false},
		{"authorize", func() *http.Response { return e.get(e.iss + "/oauth2/authorize?" + authorizeQuery.Encode()) }, true},
		{"authorize with a session cookie", func() *http.Response {
			req, err := http.NewRequest(http.MethodGet, e.iss+"/oauth2/authorize?"+authorizeQuery.Encode(), nil)
			must(t, err)
			req.AddCookie(&http.Cookie{Name: consent.SessionCookie, Value: "a-session"})
			resp, err := http.DefaultTransport.RoundTrip(req)
			must(t, err)
			return buffered(t, resp)
		}, true},
		{"resume", func() *http.Response {
			return e.get(e.iss + "/oauth2/authorize/resume?login_challenge=abc&login_verifier=def")
		}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(logs.String())
			resp := tc.do()
			body := readBody(resp)
			if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
				t.Fatalf("status %d, Retry-After %q, body %s; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"), body)
			}
			if tc.html {
				if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(body, "temporarily_unavailable") {
					t.Errorf("page %q (%s), want an HTML page naming temporarily_unavailable", body, resp.Header.Get("Content-Type"))
				}
			} else {
				var oe struct {
					Error string `json:"error"`
				}
				if err := json.Unmarshal([]byte(body), &oe); err != nil || oe.Error != "temporarily_unavailable" {
					t.Errorf("body %s, want error temporarily_unavailable", body)
				}
			}
			logged := logs.String()[before:]
			if !strings.Contains(logged, "level=ERROR") || !strings.Contains(logged, "database unavailable") {
				t.Errorf("log %q, want an error line naming the outage", logged)
			}
		})
	}
	// The published keys and the discovery documents stay served from
	// memory: the key ring keeps its last keys when a reload fails.
	for _, path := range []string{"/.well-known/jwks.json", "/.well-known/openid-configuration"} {
		if resp := e.get(e.iss + path); resp.StatusCode != http.StatusOK {
			t.Errorf("%s during the outage: %d, want the keys and metadata still served", path, resp.StatusCode)
		}
	}
	for _, secret := range []string{e.secret, fpSecret, tr.AccessToken, tr.RefreshToken, tr.IDToken} {
		if strings.Contains(logs.String(), secret) {
			t.Fatalf("a secret or token is in the log")
		}
	}

	if !e.outage.CanRestore() {
		return // SQLite: a closed store does not come back
	}
	e.outage.Restore(t)
	r2 := e.refresh(tr.RefreshToken)
	if r2.Status != http.StatusOK || r2.AccessToken == "" {
		t.Fatalf("refresh after the outage: %d %s %s; the family must still stand", r2.Status, r2.Error, r2.Description)
	}
	if _, err := e.srv.Verify(e.ctx, r2.AccessToken); err != nil {
		t.Fatalf("new access token after the outage: %v", err)
	}
	cc := e.token(url.Values{"grant_type": {"client_credentials"}, "scope": {"operator"}}, fp.ID, fpSecret)
	if cc.Status != http.StatusOK {
		t.Fatalf("client_credentials after the outage: %d %s", cc.Status, cc.Error)
	}
}

// TestOutageRefreshWithCachedClient: with the client still in the 2 s cache
// (the clock frozen), a refresh during the outage gets past client
// authentication to the refresh token's read, and is still 503
// temporarily_unavailable — not invalid_grant, and without revoking the
// family: once PostgreSQL is back the same refresh token works, and the
// access token it was issued with is still active at introspection
// (issue 11, finding 2).
func TestOutageRefreshWithCachedClient(t *testing.T) {
	e := newEnv(t, envOpts{outage: true})
	e.clock.Freeze()
	tr := e.exchange(e.vendor.ID, e.secret)
	e.outage.Cut(t)
	for range 2 { // a vendor's retry too
		r := e.refresh(tr.RefreshToken)
		if r.Status != http.StatusServiceUnavailable || r.Error != "temporarily_unavailable" {
			t.Fatalf("refresh during the outage: %d %s %s; want 503 temporarily_unavailable", r.Status, r.Error, r.Description)
		}
	}
	if !e.outage.CanRestore() {
		return
	}
	e.outage.Restore(t)
	resp := e.postForm("/oauth2/introspect", url.Values{"token": {tr.AccessToken}}, e.vendor.ID, e.secret)
	if body := readBody(resp); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"active":true`) {
		t.Fatalf("introspection after the outage: %d %s; want the access token active", resp.StatusCode, body)
	}
	if r := e.refresh(tr.RefreshToken); r.Status != http.StatusOK || r.AccessToken == "" {
		t.Fatalf("refresh after the outage: %d %s %s; the family must still stand", r.Status, r.Error, r.Description)
	}
}

// TestOutageAtAllowIsUnavailable: the database goes away between the
// consent form's read and its Allow (authz.Server.Finish, which tries the
// one-statement AllowReadAuthFlow first). The browser gets the 503 page
// with Retry-After, not an error sent to the vendor nor a code; once
// PostgreSQL is back the flow is still at consent, with no consent stored,
// and the same form's Allow goes through.
func TestOutageAtAllowIsUnavailable(t *testing.T) {
	e := newEnv(t, envOpts{outage: true})
	var cut atomic.Bool
	b, u, password := e.withPages(t, func(c *consent.Config) {
		c.Finish = func(ec echo.Context, read store.AuthFlow, access store.Access, d store.FlowDecision) error {
			if cut.CompareAndSwap(false, true) {
				e.outage.Cut(t)
			}
			return e.srv.Finish(ec, read, access, d)
		}
	})
	q := e.authorizeParams(e.vendor.ID, oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier()))
	f, loc := b.consentForm(b.expectRedirect(b.do(http.MethodGet, e.iss+"/oauth2/authorize?"+q.Encode(), nil)), u.LoginID, password, "Allow")
	p := f.submit(b, "Allow")
	if p.status != http.StatusServiceUnavailable || p.header.Get("Retry-After") == "" || strings.Contains(p.header.Get("Location"), "code=") {
		t.Fatalf("Allow during the outage: %d, Retry-After %q, Location %q; want the 503 page", p.status, p.header.Get("Retry-After"), p.header.Get("Location"))
	}
	if !e.outage.CanRestore() {
		return
	}
	e.outage.Restore(t)
	at, err := url.Parse(loc)
	must(t, err)
	fl, err := e.st.GetAuthFlow(e.ctx, at.Query().Get("login_challenge"))
	if err != nil || fl.State != store.FlowConsent {
		t.Fatalf("the flow after the outage: %+v, %v; want it still at consent", fl, err)
	}
	if cs, err := e.st.ListConsents(e.ctx, u.ID); err != nil || len(cs) != 0 {
		t.Fatalf("consents after the outage: %v, %v; want none", cs, err)
	}
	cb, err := url.Parse(b.expectRedirect(f.submit(b, "Allow")))
	if err != nil || !strings.HasPrefix(cb.String(), redirectURI) || cb.Query().Get("code") == "" {
		t.Fatalf("Allow after the outage: %v, %v; want the vendor's redirect with a code", cb, err)
	}
}

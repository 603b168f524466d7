package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/internal/syncbuf"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/bankfeed/bankfeed/authz"
	"github.com/bankfeed/bankfeed/internal/apihttp/openapitest"
	"github.com/bankfeed/bankfeed/store/gormstore"
	"github.com/bankfeed/bankfeed/store/gormstore/gormtest"
)

// TestOutageEndToEnd: the whole wiring (newHandler, authz's real token
// verification) on a database taken away under it — PostgreSQL through a
// proxy the test cuts, or SQLite's pools closed. After the 2 s client cache
// (the server's clock, moved on), an operator's and an administrator's
// requests at /ops/v1 and /admin/v1 and a client_credentials grant answer
// and the data API answer 503 with Retry-After (problem+json unavailable, RFC 6749
// temporarily_unavailable), not 401; the failures are logged at error level
// without a token or secret. On PostgreSQL, once the proxy is back, the
// same tokens and client work: nothing was revoked (issue 11, findings 2
// and 3).
func TestOutageEndToEnd(t *testing.T) {
	var off atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(off.Load())) }
	o := gormtest.OpenOutage(t, "cmd_outage", gormstore.Config{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t)
	cfg.Issuer = "http://" + ln.Addr().String()
	logs := &syncbuf.Buffer{}
	h, err := newHandler(t.Context(), cfg, deps{Store: o.Store, Logger: slog.New(slog.NewTextHandler(logs, nil)), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(openapitest.Wrap(t, h))
	ts.Listener.Close()
	ts.Listener = ln
	ts.Start()
	t.Cleanup(ts.Close)
	b := &bank{t: t, URL: cfg.Issuer, st: o.Store}

	opsID, opsSecret := b.client(authz.ClientSpec{Name: "Core banking feed", FirstParty: true})
	obID, obSecret := b.client(authz.ClientSpec{Name: "Online banking", FirstParty: true, RedirectURIs: []string{"http://127.0.0.1:7001/cb"}})
	ops := clientcredentials.Config{ClientID: opsID, ClientSecret: opsSecret, TokenURL: b.URL + "/oauth2/token", Scopes: []string{"operator"}}
	opTok, err := ops.Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	op := opTok.AccessToken
	bg := b.api(op, http.MethodPost, "/ops/v1/business-groups", map[string]any{"name": "Maple Leaf Manufacturing", "legalName": "Maple Leaf Manufacturing Inc."}, http.StatusCreated)["id"].(string)
	added := b.api(op, http.MethodPost, "/ops/v1/business-groups/"+bg+"/administrators",
		map[string]any{"loginId": "admin-a", "displayName": "Olivia Bennett", "email": "olivia@maple.example"}, http.StatusCreated)
	temp, _ := added["temporaryPassword"].(string)
	const password = "Harbour-Lights-2026"
	b.firstSignInToken(obID, obSecret, "http://127.0.0.1:7001/cb", "admin-a", temp, password)
	// Signed in again for one token the administration and the data API
	// take (a new grant to the same client replaces the first).
	conf := oauth2.Config{ClientID: obID, ClientSecret: obSecret, RedirectURL: "http://127.0.0.1:7001/cb", Scopes: []string{"openid", "admin", "accounts.read"},
		Endpoint: oauth2.Endpoint{AuthURL: b.URL + "/oauth2/authorize", TokenURL: b.URL + "/oauth2/token", AuthStyle: oauth2.AuthStyleInHeader}}
	v := oauth2.GenerateVerifier()
	cb := b.authorize(b.browser(), conf.AuthCodeURL("online-banking-state", oauth2.S256ChallengeOption(v)), "admin-a", password, "")
	dataTok, err := conf.Exchange(t.Context(), cb.Query().Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatalf("data API token: %v", err)
	}
	admin := dataTok.AccessToken

	type call struct{ token, method, path string }
	calls := []call{
		{admin, http.MethodGet, "/admin/v1/users"},
		{op, http.MethodGet, "/ops/v1/business-groups"},
		{op, http.MethodGet, "/ops/v1/business-groups/" + bg},
		{admin, http.MethodGet, "/fdx/v6/accounts"},
	}
	send := func(c call) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), c.method, b.URL+c.path, nil)
		req.Header.Set("Authorization", "Bearer "+c.token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res, body
	}
	grant := func() (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, b.URL+"/oauth2/token",
			strings.NewReader(url.Values{"grant_type": {"client_credentials"}, "scope": {"operator"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(opsID, opsSecret)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res, body
	}
	for _, c := range calls {
		if res, body := send(c); res.StatusCode != http.StatusOK {
			t.Fatalf("%s before the outage: %d %s", c.path, res.StatusCode, body)
		}
	}

	off.Add(int64(3 * time.Second)) // past the client cache
	o.Cut(t)
	for _, c := range calls {
		res, body := send(c)
		var p struct {
			Type string `json:"type"`
		}
		_ = json.Unmarshal(body, &p)
		if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" ||
			res.Header.Get("Content-Type") != "application/problem+json" || p.Type != "urn:bankfeed:problem:unavailable" {
			t.Errorf("%s during the outage: %d (Retry-After %q) %s; want the 503 unavailable problem", c.path, res.StatusCode, res.Header.Get("Retry-After"), body)
		}
	}
	res, body := grant()
	var oe struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(body, &oe)
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" || oe.Error != "temporarily_unavailable" {
		t.Errorf("client_credentials during the outage: %d (Retry-After %q) %s; want 503 temporarily_unavailable", res.StatusCode, res.Header.Get("Retry-After"), body)
	}
	l := logs.String()
	if n := strings.Count(l, "level=ERROR"); n < len(calls)+1 {
		t.Errorf("%d error lines for %d failed requests:\n%s", n, len(calls)+1, l)
	}
	for name, secret := range map[string]string{"operator token": op, "access token": admin, "refresh token": dataTok.RefreshToken,
		"client secret": opsSecret, "online banking secret": obSecret, "temporary password": temp, "password": password} {
		if secret != "" && strings.Contains(l, secret) {
			t.Errorf("the %s is in the log", name)
		}
	}

	if !o.CanRestore() {
		return // SQLite: a closed store does not come back
	}
	o.Restore(t)
	for _, c := range calls {
		if res, body := send(c); res.StatusCode != http.StatusOK {
			t.Errorf("%s after the outage: %d %s; the token must still work", c.path, res.StatusCode, body)
		}
	}
	if res, body := grant(); res.StatusCode != http.StatusOK {
		t.Errorf("client_credentials after the outage: %d %s", res.StatusCode, body)
	}
}

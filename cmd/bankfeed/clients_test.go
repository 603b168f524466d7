package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v3"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/bankfeed/bankfeed/config"
	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/store/gormstore"
)

// cli runs one bankfeed command through run() against the data directory dir.
func cli(t *testing.T, dir string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	err = run(t.Context(), append(args, "--data-dir", dir), env(), &out, &errb)
	return out.String(), errb.String(), err
}

// migratedDir is a fresh data directory with every migration applied.
func migratedDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	if _, stderr, err := cli(t, dir, "migrate"); err != nil {
		t.Fatalf("migrate: %v\n%s", err, stderr)
	}
	return dir
}

// dirConfig is the configuration the commands use for dir, with its secrets.
func dirConfig(t *testing.T, dir string) config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = dir
	if _, err := cfg.EnsureSecrets(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// dirStore opens the SQLite database of dir, as serve would.
func dirStore(t *testing.T, dir string) *gormstore.Store {
	t.Helper()
	st, err := gormstore.Open(t.Context(), gormstore.Config{DSN: filepath.Join(dir, config.DatabaseFile), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// createClient runs clients create with args and decodes what it prints.
func createClient(t *testing.T, dir string, args ...string) clientJSON {
	t.Helper()
	out, stderr, err := cli(t, dir, append([]string{"clients", "create"}, args...)...)
	if err != nil {
		t.Fatalf("clients create: %v\n%s", err, stderr)
	}
	c, _ := decodeClient(t, out)
	return c
}

func decodeClient(t *testing.T, s string) (clientJSON, map[string]any) {
	t.Helper()
	var c clientJSON
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		t.Fatalf("not client JSON: %v\n%s", err, s)
	}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return c, m
}

func listClients(t *testing.T, dir string) []clientJSON {
	t.Helper()
	out, stderr, err := cli(t, dir, "clients", "list", "--json")
	if err != nil {
		t.Fatalf("clients list: %v\n%s", err, stderr)
	}
	var cs []clientJSON
	if err := json.Unmarshal([]byte(out), &cs); err != nil {
		t.Fatalf("clients list --json: %v\n%s", err, out)
	}
	return cs
}

func TestClientsSecretCreateShowListDelete(t *testing.T) {
	dir := migratedDir(t)
	out, stderr, err := cli(t, dir, "clients", "create", "--name", "Ledgerly",
		"--redirect-uri", "https://app.ledgerly.example/cb", "--redirect-uri", "http://127.0.0.1:9999/callback",
		"--secret", "--require-par", "--logo-uri", "https://ledgerly.example/logo.png",
		"--policy-uri", "https://ledgerly.example/privacy", "--tos-uri", "https://ledgerly.example/terms")
	if err != nil {
		t.Fatalf("clients create: %v\n%s", err, stderr)
	}
	created, raw := decodeClient(t, out)
	if !strings.HasPrefix(out, "{\n  \"clientId\"") {
		t.Errorf("not indented JSON starting with clientId:\n%s", out)
	}
	if created.ClientID == "" || len(created.ClientSecret) < 32 {
		t.Fatalf("no client ID or secret: %+v", created)
	}
	secret := created.ClientSecret
	want := clientJSON{
		ClientID:                created.ClientID,
		ClientSecret:            secret,
		Name:                    "Ledgerly",
		RedirectURIs:            []string{"https://app.ledgerly.example/cb", "http://127.0.0.1:9999/callback"},
		GrantTypes:              []string{"authorization_code", "refresh_token"},
		Scopes:                  append([]string{"openid", "profile", "offline_access"}, store.DataScopes...),
		TokenEndpointAuthMethod: "client_secret_basic",
		RequirePAR:              true,
		LogoURI:                 "https://ledgerly.example/logo.png",
		PolicyURI:               "https://ledgerly.example/privacy",
		TOSURI:                  "https://ledgerly.example/terms",
		CreatedAt:               created.CreatedAt,
	}
	if d := cmp.Diff(want, created); d != "" {
		t.Errorf("created client (-want +got):\n%s", d)
	}
	if raw["firstParty"] != false || raw["requirePar"] != true {
		t.Errorf("firstParty/requirePar not printed as booleans: %v", raw)
	}
	if strings.Contains(stderr, secret) {
		t.Error("the secret reached stderr (the log)")
	}

	// The store keeps the hash only; show and list print neither.
	st := dirStore(t, dir)
	stored, err := st.GetClient(t.Context(), created.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.SecretHash == "" || stored.SecretHash == secret {
		t.Fatalf("secret not stored hashed: %q", stored.SecretHash)
	}
	out, stderr, err = cli(t, dir, "clients", "show", created.ClientID)
	if err != nil {
		t.Fatalf("clients show: %v\n%s", err, stderr)
	}
	shown, raw := decodeClient(t, out)
	if _, ok := raw["clientSecret"]; ok || strings.Contains(out, secret) || strings.Contains(out, stored.SecretHash) {
		t.Errorf("show prints the secret or its hash:\n%s", out)
	}
	want.ClientSecret = ""
	if d := cmp.Diff(want, shown); d != "" {
		t.Errorf("shown client (-want +got):\n%s", d)
	}

	out, _, err = cli(t, dir, "clients", "list")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "CLIENT ID") || !strings.Contains(out, created.ClientID) || !strings.Contains(out, "Ledgerly") ||
		!strings.Contains(out, "client_secret_basic") || !strings.Contains(out, "1 client(s)") {
		t.Errorf("list table:\n%s", out)
	}
	if strings.Contains(out, secret) || strings.Contains(out, stored.SecretHash) {
		t.Errorf("list prints the secret or its hash:\n%s", out)
	}
	if cs := listClients(t, dir); len(cs) != 1 || cs[0].ClientID != created.ClientID || cs[0].ClientSecret != "" {
		t.Errorf("list --json = %+v", cs)
	}

	out, stderr, err = cli(t, dir, "clients", "delete", created.ClientID)
	if err != nil {
		t.Fatalf("clients delete: %v\n%s", err, stderr)
	}
	if !strings.Contains(out, "deleted client "+created.ClientID) {
		t.Errorf("delete output: %q", out)
	}
	if cs := listClients(t, dir); len(cs) != 0 {
		t.Errorf("client still listed after delete: %+v", cs)
	}
	if _, err := st.GetClient(t.Context(), created.ClientID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetClient after delete: %v; want ErrNotFound", err)
	}
	for action, after := range map[string]string{
		"client.created": `{"firstParty":false,"name":"Ledgerly","tokenEndpointAuthMethod":"client_secret_basic"}`,
		"client.deleted": `{"name":"Ledgerly"}`,
	} {
		if es := clientEvents(t, dir, action, created.ClientID); len(es) != 1 || string(es[0].After) != after {
			t.Errorf("%s events: %+v; want one with after %s", action, es, after)
		}
	}

	for _, cmd := range []string{"delete", "show"} {
		t.Run(cmd+" unknown ID", func(t *testing.T) {
			code, stdout, stderr := runMain(t, nil, "clients", cmd, created.ClientID, "--data-dir", dir)
			if code == 0 || stdout != "" || !strings.Contains(stderr, `no client with ID "`+created.ClientID+`"`) {
				t.Errorf("exit %d, stdout %q, stderr %q; want non-zero and a clear message", code, stdout, stderr)
			}
		})
	}
}

// writeJWKS generates an ES256 key and writes its public JWKS to a file.
func writeJWKS(t *testing.T, private bool) (path, kid string) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k := jose.JSONWebKey{Key: priv, KeyID: "vendor-key-1", Algorithm: "ES256", Use: "sig"}
	if !private {
		k = k.Public()
	}
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{k}})
	if err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, k.KeyID
}

func TestClientsCreateJWKSFile(t *testing.T) {
	dir := migratedDir(t)
	jwks, kid := writeJWKS(t, false)
	out, stderr, err := cli(t, dir, "clients", "create", "--name", "Xerox Books",
		"--redirect-uri", "https://books.example/oauth/callback", "--jwks-file", jwks, "--scope", "accounts.read", "--scope", "openid")
	if err != nil {
		t.Fatalf("clients create: %v\n%s", err, stderr)
	}
	c, raw := decodeClient(t, out)
	if _, ok := raw["clientSecret"]; ok {
		t.Errorf("a private_key_jwt client got a secret:\n%s", out)
	}
	if c.TokenEndpointAuthMethod != "private_key_jwt" || c.TokenEndpointAuthSigningAlg != "ES256" {
		t.Errorf("auth method %q alg %q; want private_key_jwt ES256", c.TokenEndpointAuthMethod, c.TokenEndpointAuthSigningAlg)
	}
	if d := cmp.Diff([]string{"accounts.read", "openid"}, c.Scopes); d != "" {
		t.Errorf("scopes (-want +got):\n%s", d)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(c.JWKS, &set); err != nil || len(set.Keys) != 1 || set.Keys[0].KeyID != kid || !set.Keys[0].IsPublic() {
		t.Errorf("printed JWKS %s (%v); want the public key %s", c.JWKS, err, kid)
	}
	stored, err := dirStore(t, dir).GetClient(t.Context(), c.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.SecretHash != "" || len(stored.JWKS) == 0 {
		t.Errorf("stored client: secret hash %q, JWKS %s", stored.SecretHash, stored.JWKS)
	}
}

func TestClientsCreateInvalid(t *testing.T) {
	dir := migratedDir(t)
	jwks, _ := writeJWKS(t, false)
	privJWKS, _ := writeJWKS(t, true)
	base := []string{"clients", "create", "--name", "V", "--redirect-uri", "https://v.example/cb"}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no auth method", base, "choose exactly one authentication method"},
		{"two auth methods", append(base, "--secret", "--jwks-file", jwks), "choose exactly one authentication method"},
		{"three auth methods", append(base, "--secret", "--jwks-file", jwks, "--jwks-uri", "https://v.example/jwks"), "choose exactly one authentication method"},
		{"http redirect off loopback", []string{"clients", "create", "--name", "V", "--secret", "--redirect-uri", "http://v.example/cb"},
			"--redirect-uri: \"http://v.example/cb\": http is allowed only for http://127.0.0.1:port"},
		{"http localhost by name", []string{"clients", "create", "--name", "V", "--secret", "--redirect-uri", "http://localhost:9999/cb"},
			"http is allowed only for"},
		{"fragment", []string{"clients", "create", "--name", "V", "--secret", "--redirect-uri", "https://v.example/cb#x"},
			"must not have a fragment"},
		{"no redirect URI for a vendor", []string{"clients", "create", "--name", "V", "--secret"}, "--redirect-uri: a vendor client needs at least one redirect URI"},
		{"no name", []string{"clients", "create", "--secret", "--redirect-uri", "https://v.example/cb"}, `required flag(s) "name" not set`},
		{"http logo", append(base, "--secret", "--logo-uri", "http://v.example/logo.png"), "--logo-uri: must be an https URL"},
		{"vendor asks for operator", append(base, "--secret", "--scope", "operator"), `--scope: scope "operator" is not available`},
		{"private key in the JWKS", append(base, "--jwks-file", privJWKS), "--jwks-file: register public keys only"},
		{"missing JWKS file", append(base, "--jwks-file", filepath.Join(dir, "nope.json")), "--jwks-file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := cli(t, dir, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v; want one containing %q", err, tt.want)
			}
			if out != "" {
				t.Errorf("stdout not empty: %q", out)
			}
		})
	}
	if cs := listClients(t, dir); len(cs) != 0 {
		t.Errorf("invalid input still created clients: %+v", cs)
	}

	t.Run("exit status", func(t *testing.T) {
		code, stdout, stderr := runMain(t, nil, "clients", "create", "--name", "V", "--redirect-uri", "https://v.example/cb", "--data-dir", dir)
		if code == 0 || stdout != "" || !strings.Contains(stderr, "--jwks-file F, --jwks-uri U or --secret") {
			t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
	})
}

func TestClientsNeedMigratedDatabase(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	_, _, err := cli(t, dir, "clients", "list")
	if err == nil || !strings.Contains(err.Error(), "bankfeed migrate") {
		t.Errorf("clients list on an unmigrated database: %v; want a hint to run bankfeed migrate", err)
	}
}

// TestClientsSecretWorks: the printed secret gets a client_credentials token
// from the real handler for a first-party client, and that token is accepted
// by the operator API.
func TestClientsSecretWorks(t *testing.T) {
	dir := migratedDir(t)
	c := createClient(t, dir, "--name", "Core banking feed", "--first-party", "--secret", "--scope", "operator")
	if !c.FirstParty || !strings.Contains(strings.Join(c.GrantTypes, " "), "client_credentials") ||
		strings.Join(c.Scopes, " ") != "operator" || len(c.RedirectURIs) != 0 {
		t.Fatalf("first-party client: %+v", c)
	}

	ts := httptest.NewUnstartedServer(nil)
	cfg := dirConfig(t, dir)
	cfg.Issuer = "http://" + ts.Listener.Addr().String()
	h, err := newHandler(t.Context(), cfg, deps{Store: dirStore(t, dir), Logger: slog.New(slog.DiscardHandler), Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = h
	ts.Start()
	t.Cleanup(ts.Close)

	cc := clientcredentials.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret, TokenURL: ts.URL + "/oauth2/token",
		Scopes: []string{"operator"}, AuthStyle: oauth2.AuthStyleInHeader}
	tok, err := cc.Token(t.Context())
	if err != nil {
		t.Fatalf("client_credentials with the printed secret: %v", err)
	}
	if !tok.Valid() {
		t.Fatalf("token not valid: %+v", tok)
	}
	res, err := cc.Client(t.Context()).Get(ts.URL + "/ops/v1/business-groups")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("GET /ops/v1/business-groups with the token = %d %s", res.StatusCode, body)
	}

	wrong := cc
	wrong.ClientSecret = c.ClientSecret + "x"
	var re *oauth2.RetrieveError
	if _, err := wrong.Token(t.Context()); !errors.As(err, &re) || re.ErrorCode != "invalid_client" {
		t.Errorf("wrong secret: %v; want invalid_client", err)
	}
}

// testClock is real time plus an offset a test moves forward: the server's
// clock (deps.Now), while the CLI stamps with the real one.
type testClock struct{ off atomic.Int64 }

func (c *testClock) now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *testClock) advance(d time.Duration) { c.off.Add(int64(d)) }

// startDirServer serves the real handler on dir's database with clock now;
// it returns the issuer URL.
func startDirServer(t *testing.T, dir string, now func() time.Time) string {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	cfg := dirConfig(t, dir)
	cfg.Issuer = "http://" + ts.Listener.Addr().String()
	cfg.DataAPI.RateLimitPerMinute = 0
	h, err := newHandler(t.Context(), cfg, deps{Store: dirStore(t, dir), Logger: slog.New(slog.DiscardHandler), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = h
	ts.Start()
	t.Cleanup(ts.Close)
	return ts.URL
}

// afterCacheTTL moves the server's clock past the client cache (2 s).
const afterCacheTTL = 3 * time.Second

// clientEvents are the audit events of action about client id.
func clientEvents(t *testing.T, dir, action, id string) []store.AuditEvent {
	t.Helper()
	es, _, err := dirStore(t, dir).ListAudit(t.Context(), store.AuditFilter{Action: &action, TargetID: &id}, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if e.ActorID != "cli" || e.BusinessGroupID != "" || e.TargetType != "client" || e.Outcome != "success" ||
			e.RemoteAddr != "" || e.UserAgent != "bankfeed-cli/"+buildVersion() {
			t.Errorf("%s event: actor %q, group %q, target %s %s, outcome %q, remote %q, user agent %q", action,
				e.ActorID, e.BusinessGroupID, e.TargetType, e.TargetID, e.Outcome, e.RemoteAddr, e.UserAgent)
		}
	}
	return es
}

// TestClientsRotateSecret (issue 10 §4): rotate-secret prints a new secret
// once; with --keep-old both secrets get tokens from the real token endpoint
// until the overlap ends by the server's clock, then only the new one; with
// the default (no overlap) the old one stops once the client cache (2 s)
// has passed; a rotation during an overlap replaces the previous secret, so
// two secrets at most are ever valid. Tokens issued before keep working.
func TestClientsRotateSecret(t *testing.T) {
	dir := migratedDir(t)
	c := createClient(t, dir, "--name", "Core banking feed", "--first-party", "--secret", "--scope", "operator")
	clk := &testClock{}
	issuer := startDirServer(t, dir, clk.now)
	token := func(secret string) (*oauth2.Token, error) {
		cc := clientcredentials.Config{ClientID: c.ClientID, ClientSecret: secret, TokenURL: issuer + "/oauth2/token",
			Scopes: []string{"operator"}, AuthStyle: oauth2.AuthStyleInHeader}
		return cc.Token(t.Context())
	}
	works := func(when, secret string) {
		t.Helper()
		if _, err := token(secret); err != nil {
			t.Errorf("%s: client_credentials: %v; want a token", when, err)
		}
	}
	refused := func(when, secret string) {
		t.Helper()
		var re *oauth2.RetrieveError
		if _, err := token(secret); !errors.As(err, &re) || re.ErrorCode != "invalid_client" {
			t.Errorf("%s: client_credentials: %v; want invalid_client", when, err)
		}
	}
	opsStatus := func(tok *oauth2.Token) int {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, issuer+"/ops/v1/business-groups", nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	rotate := func(keepOld time.Duration) string {
		t.Helper()
		args := []string{"clients", "rotate-secret", c.ClientID}
		if keepOld != 0 {
			args = append(args, "--keep-old", keepOld.String())
		}
		start := time.Now()
		out, stderr, err := cli(t, dir, args...)
		if err != nil {
			t.Fatalf("clients rotate-secret %v: %v\n%s", args, err, stderr)
		}
		got, raw := decodeClient(t, out)
		if got.ClientID != c.ClientID || got.Name != c.Name || len(got.ClientSecret) < 32 || got.TokenEndpointAuthMethod != "client_secret_basic" {
			t.Fatalf("rotate-secret printed %s", out)
		}
		if strings.Contains(stderr, got.ClientSecret) {
			t.Error("the new secret reached stderr (the log)")
		}
		exp, _ := raw["previousSecretExpiresAt"].(string)
		if keepOld == 0 {
			if exp != "" {
				t.Errorf("rotate-secret without --keep-old printed previousSecretExpiresAt %q", exp)
			}
		} else if at, err := time.Parse(time.RFC3339Nano, exp); err != nil || at.Before(start.Add(keepOld)) || at.After(time.Now().Add(keepOld)) {
			t.Errorf("previousSecretExpiresAt = %q (%v); want %s from now", exp, err, keepOld)
		}
		return got.ClientSecret
	}

	s1 := c.ClientSecret
	before, err := token(s1) // also puts the client in the server's cache
	if err != nil {
		t.Fatal(err)
	}

	// No overlap: the old secret stops once the server's client cache has
	// passed; the new one works at once.
	s2 := rotate(0)
	if s2 == s1 {
		t.Fatal("rotate-secret printed the old secret")
	}
	works("right after a rotation without overlap (cached client)", s2)
	clk.advance(afterCacheTTL)
	refused("after a rotation without overlap", s1)
	works("after a rotation without overlap", s2)
	if st := opsStatus(before); st != http.StatusOK {
		t.Errorf("a token from before the rotation = %d; want 200", st)
	}

	// An hour's overlap: both secrets work until it ends by the server's clock.
	s3 := rotate(time.Hour)
	works("right after the rotation (cached client)", s3)
	works("during the overlap", s2)
	if st := opsStatus(before); st != http.StatusOK {
		t.Errorf("a token from before the rotations = %d; want 200", st)
	}
	clk.advance(59 * time.Minute)
	works("a minute before the overlap ends", s2)
	works("a minute before the overlap ends", s3)
	clk.advance(time.Minute + afterCacheTTL)
	refused("after the overlap", s2)
	refused("after the overlap", s1)
	works("after the overlap", s3)

	// A rotation during an overlap replaces the previous secret. (The
	// server's clock is now an hour ahead of the CLI's: a longer overlap.)
	s4 := rotate(3 * time.Hour)
	s5 := rotate(3 * time.Hour)
	clk.advance(afterCacheTTL)
	refused("after two rotations in one overlap", s3)
	works("after two rotations in one overlap", s4)
	works("after two rotations in one overlap", s5)

	stored, err := dirStore(t, dir).GetClient(t.Context(), c.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	es := clientEvents(t, dir, "client.secret_rotated", c.ClientID)
	if len(es) != 4 {
		t.Fatalf("%d client.secret_rotated events; want 4", len(es))
	}
	if string(es[0].After) != `{"keepOld":"0s"}` || string(es[1].After) != `{"keepOld":"1h0m0s"}` || string(es[3].After) != `{"keepOld":"3h0m0s"}` {
		t.Errorf("events' after: %s, %s; want the overlap", es[0].After, es[1].After)
	}
	for _, e := range es {
		for _, s := range []string{s1, s2, s3, s4, s5, stored.SecretHash, stored.PreviousSecretHash} {
			if strings.Contains(string(e.Before)+string(e.After), s) {
				t.Errorf("an audit event holds a secret or its hash: %+v", e)
			}
		}
	}
}

func TestClientsRotateSecretRefused(t *testing.T) {
	dir := migratedDir(t)
	jwks, _ := writeJWKS(t, false)
	keyed := createClient(t, dir, "--name", "Keys", "--redirect-uri", "https://keys.example/cb", "--jwks-file", jwks)
	secret := createClient(t, dir, "--name", "Secret", "--redirect-uri", "https://secret.example/cb", "--secret")
	st := dirStore(t, dir)
	was, err := st.GetClient(t.Context(), secret.ClientID)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"private_key_jwt", []string{keyed.ClientID}, "uses private_key_jwt"},
		{"overlap too long", []string{secret.ClientID, "--keep-old", "721h"}, "--keep-old: at most 720h"},
		{"negative overlap", []string{secret.ClientID, "--keep-old", "-1s"}, "--keep-old: must not be negative"},
		{"not a duration", []string{secret.ClientID, "--keep-old", "1 week"}, `invalid argument "1 week" for "--keep-old"`},
		{"unknown client", []string{"cli_nope"}, `no client with ID "cli_nope"`},
		{"no client", nil, "accepts 1 arg(s)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := cli(t, dir, append([]string{"clients", "rotate-secret"}, tt.args...)...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v; want one containing %q", err, tt.want)
			}
			if out != "" {
				t.Errorf("stdout not empty: %q", out)
			}
		})
	}
	now, err := st.GetClient(t.Context(), secret.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(was, now); d != "" {
		t.Errorf("refused rotations changed the client (-before +after):\n%s", d)
	}
	if es := clientEvents(t, dir, "client.secret_rotated", secret.ClientID); len(es) != 0 {
		t.Errorf("refused rotations were audited: %+v", es)
	}
}

// TestClientsUpdate (issue 10 §4): update changes only the fields given,
// validates them as create does, prints the client without a secret, and
// records client.updated with the names of the fields that changed.
func TestClientsUpdate(t *testing.T) {
	dir := migratedDir(t)
	out, stderr, err := cli(t, dir, "clients", "create", "--name", "Ledgerly", "--redirect-uri", "https://app.ledgerly.example/cb",
		"--secret", "--logo-uri", "https://ledgerly.example/logo.png", "--policy-uri", "https://ledgerly.example/privacy", "--scope", "accounts.read")
	if err != nil {
		t.Fatalf("clients create: %v\n%s", err, stderr)
	}
	created, _ := decodeClient(t, out)
	st := dirStore(t, dir)
	stored, err := st.GetClient(t.Context(), created.ClientID)
	if err != nil {
		t.Fatal(err)
	}

	out, stderr, err = cli(t, dir, "clients", "update", created.ClientID, "--name", " Ledgerly Books ",
		"--redirect-uri", "https://app.ledgerly.example/v2/cb", "--redirect-uri", "http://[::1]:8080/cb",
		"--logo-uri", "", "--tos-uri", "https://ledgerly.example/terms", "--require-par")
	if err != nil {
		t.Fatalf("clients update: %v\n%s", err, stderr)
	}
	updated, raw := decodeClient(t, out)
	if _, ok := raw["clientSecret"]; ok || strings.Contains(out, stored.SecretHash) {
		t.Errorf("update prints the secret or its hash:\n%s", out)
	}
	want := created
	want.ClientSecret = ""
	want.Name = "Ledgerly Books"
	want.RedirectURIs = []string{"https://app.ledgerly.example/v2/cb", "http://[::1]:8080/cb"}
	want.LogoURI = ""
	want.TOSURI = "https://ledgerly.example/terms"
	want.RequirePAR = true
	if d := cmp.Diff(want, updated); d != "" {
		t.Errorf("updated client (-want +got):\n%s", d)
	}
	shown, _, err := cli(t, dir, "clients", "show", created.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := decodeClient(t, shown); !cmp.Equal(s, updated) {
		t.Errorf("show after update differs from what update printed:\n%s", cmp.Diff(updated, s))
	}
	after, err := st.GetClient(t.Context(), created.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	if after.SecretHash != stored.SecretHash || after.TokenEndpointAuthMethod != "client_secret_basic" {
		t.Errorf("update changed the secret or the auth method: %+v", after)
	}

	// Given again unchanged, a field is not reported as changed.
	if _, stderr, err := cli(t, dir, "clients", "update", created.ClientID, "--require-par=false", "--name", "Ledgerly Books"); err != nil {
		t.Fatalf("clients update: %v\n%s", err, stderr)
	}
	es := clientEvents(t, dir, "client.updated", created.ClientID)
	if len(es) != 2 {
		t.Fatalf("%d client.updated events; want 2", len(es))
	}
	if got := string(es[0].After); got != `{"fields":["name","redirectUris","logoUri","tosUri","requirePar"]}` {
		t.Errorf("first update's after = %s", got)
	}
	if got := string(es[1].After); got != `{"fields":["requirePar"]}` {
		t.Errorf("second update's after = %s", got)
	}
	if es := clientEvents(t, dir, "client.created", created.ClientID); len(es) != 1 {
		t.Errorf("%d client.created events; want 1", len(es))
	}
}

// TestClientsUpdateKeys: a private_key_jwt client's keys move between a
// registered JWKS and a JWKS URI; the signing algorithm follows the keys.
func TestClientsUpdateKeys(t *testing.T) {
	dir := migratedDir(t)
	jwks, _ := writeJWKS(t, false)
	c := createClient(t, dir, "--name", "Keys", "--redirect-uri", "https://keys.example/cb", "--jwks-file", jwks)

	out, stderr, err := cli(t, dir, "clients", "update", c.ClientID, "--jwks-uri", "https://keys.example/jwks.json", "--signing-alg", "PS256")
	if err != nil {
		t.Fatalf("clients update --jwks-uri: %v\n%s", err, stderr)
	}
	u, raw := decodeClient(t, out)
	if _, ok := raw["jwks"]; ok || u.JWKSURI != "https://keys.example/jwks.json" || u.TokenEndpointAuthSigningAlg != "PS256" ||
		u.TokenEndpointAuthMethod != "private_key_jwt" {
		t.Errorf("after --jwks-uri: %s", out)
	}
	newKeys, kid := writeJWKS(t, false)
	out, stderr, err = cli(t, dir, "clients", "update", c.ClientID, "--jwks-file", newKeys)
	if err != nil {
		t.Fatalf("clients update --jwks-file: %v\n%s", err, stderr)
	}
	u, _ = decodeClient(t, out)
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(u.JWKS, &set); err != nil || len(set.Keys) != 1 || set.Keys[0].KeyID != kid || u.JWKSURI != "" ||
		u.TokenEndpointAuthSigningAlg != "ES256" {
		t.Errorf("after --jwks-file: %s", out)
	}
	es := clientEvents(t, dir, "client.updated", c.ClientID)
	if len(es) != 2 || string(es[0].After) != `{"fields":["jwks","jwksUri","tokenEndpointAuthSigningAlg"]}` ||
		string(es[1].After) != `{"fields":["jwks","jwksUri","tokenEndpointAuthSigningAlg"]}` {
		t.Errorf("client.updated events: %+v", es)
	}
}

func TestClientsUpdateInvalid(t *testing.T) {
	dir := migratedDir(t)
	jwks, _ := writeJWKS(t, false)
	privJWKS, _ := writeJWKS(t, true)
	sc := createClient(t, dir, "--name", "Secret", "--redirect-uri", "https://secret.example/cb", "--secret")
	kc := createClient(t, dir, "--name", "Keys", "--redirect-uri", "https://keys.example/cb", "--jwks-file", jwks)
	st := dirStore(t, dir)
	before, err := st.ListClients(t.Context())
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"nothing to change", []string{sc.ClientID}, "nothing to update"},
		{"http redirect off loopback", []string{sc.ClientID, "--redirect-uri", "http://v.example/cb"},
			"--redirect-uri: \"http://v.example/cb\": http is allowed only for http://127.0.0.1:port"},
		{"fragment", []string{sc.ClientID, "--redirect-uri", "https://v.example/cb#x"}, "must not have a fragment"},
		{"empty name", []string{sc.ClientID, "--name", "  "}, "--name: a client needs a name"},
		{"http policy", []string{sc.ClientID, "--policy-uri", "http://v.example/p"}, "--policy-uri: must be an https URL"},
		{"keys for a secret client", []string{sc.ClientID, "--jwks-file", jwks}, "--jwks-file: client " + sc.ClientID + " authenticates with a client secret"},
		{"JWKS URI for a secret client", []string{sc.ClientID, "--jwks-uri", "https://v.example/jwks"}, "authenticates with a client secret"},
		{"JWKS and JWKS URI", []string{kc.ClientID, "--jwks-file", jwks, "--jwks-uri", "https://v.example/jwks"}, "not both"},
		{"private key", []string{kc.ClientID, "--jwks-file", privJWKS}, "--jwks-file: register public keys only"},
		{"http JWKS URI", []string{kc.ClientID, "--jwks-uri", "http://v.example/jwks"}, "--jwks-uri: must be an https URL"},
		{"algorithm the keys do not have", []string{kc.ClientID, "--signing-alg", "PS256"}, "--signing-alg"},
		{"unknown algorithm", []string{kc.ClientID, "--jwks-uri", "https://v.example/jwks", "--signing-alg", "HS256"}, "--signing-alg: must be ES256 or PS256"},
		{"missing JWKS file", []string{kc.ClientID, "--jwks-file", filepath.Join(dir, "nope.json")}, "--jwks-file"},
		{"unknown client", []string{"cli_nope", "--name", "X"}, `no client with ID "cli_nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := cli(t, dir, append([]string{"clients", "update"}, tt.args...)...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v; want one containing %q", err, tt.want)
			}
			if out != "" {
				t.Errorf("stdout not empty: %q", out)
			}
		})
	}
	after, err := st.ListClients(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(before, after); d != "" {
		t.Errorf("refused updates changed clients (-before +after):\n%s", d)
	}
}

// seedSoftwareUser gives a business one account and an accounting software
// user that may read it; it returns the user's login ID and the account ID.
func seedSoftwareUser(t *testing.T, st *gormstore.Store) (login, accountID string) {
	t.Helper()
	ctx := t.Context()
	bg, err := st.CreateBusinessGroup(ctx, store.BusinessGroup{ID: "bg_books", Name: "Books Ltd"})
	if err != nil {
		t.Fatal(err)
	}
	le, err := st.CreateLegalEntity(ctx, store.LegalEntity{ID: "le_books", BusinessGroupID: bg.ID, Name: "Books Ltd"})
	if err != nil {
		t.Fatal(err)
	}
	acct, err := st.CreateAccount(ctx, store.Account{ID: store.NewID("acc"), BusinessGroupID: bg.ID, LegalEntityID: le.ID, Number: "00012-003-4000001",
		DisplayNumber: store.MaskAccountNumber("00012-003-4000001"), Type: store.AccountChecking, Currency: "CAD", Status: store.AccountOpen, OpenedOn: "2026-01-05"})
	if err != nil {
		t.Fatal(err)
	}
	group, err := st.CreateAccountGroup(ctx, store.AccountGroup{ID: store.NewID("ag"), BusinessGroupID: bg.ID, Name: "Books", AccountIDs: []string{acct.ID}})
	if err != nil {
		t.Fatal(err)
	}
	role, err := st.CreateJobRole(ctx, store.JobRole{ID: store.NewID("jr"), BusinessGroupID: bg.ID, Name: "Books reader", Grants: store.AccountingSoftwareReadOnlyGrants()})
	if err != nil {
		t.Fatal(err)
	}
	hash, err := store.HashSecret(softwarePassword)
	if err != nil {
		t.Fatal(err)
	}
	u, err := st.CreateUser(ctx, store.User{ID: store.NewID("usr"), BusinessGroupID: bg.ID, LoginID: "books-sync", DisplayName: "Books sync",
		AccountingSoftware: true, Status: store.UserActive, PasswordHash: hash})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.PutAssignment(ctx, store.Assignment{ID: store.NewID("asg"), BusinessGroupID: bg.ID, UserID: u.ID, JobRoleID: role.ID, AccountGroupID: group.ID}); err != nil {
		t.Fatal(err)
	}
	return u.LoginID, acct.ID
}

const softwarePassword = "Harbour-Lights-2026"

// TestClientsUpdateAndRotateKeepConnection (issue 10 §4): a vendor's
// connection (consent, access and refresh tokens) survives clients update
// and rotate-secret; the new redirect URI is the only one /oauth2/authorize
// accepts after the update; refresh works with either secret during the
// overlap and only with the new one after it.
func TestClientsUpdateAndRotateKeepConnection(t *testing.T) {
	dir := migratedDir(t)
	// Not two loopback URIs: fosite matches those whatever their port (RFC 8252 §7.3).
	const oldCB, newCB = "http://127.0.0.1:9999/callback", "https://app.ledgerly.example/v2/callback"
	c := createClient(t, dir, "--name", "Ledgerly", "--redirect-uri", oldCB, "--secret")
	st := dirStore(t, dir)
	login, acct := seedSoftwareUser(t, st)
	clk := &testClock{}
	b := &bank{t: t, URL: startDirServer(t, dir, clk.now), st: st}
	vendor := func(secret, redirect string) oauth2.Config {
		return oauth2.Config{ClientID: c.ClientID, ClientSecret: secret, RedirectURL: redirect,
			Scopes:   []string{"openid", "offline_access", "accounts.read"},
			Endpoint: oauth2.Endpoint{AuthURL: b.URL + "/oauth2/authorize", TokenURL: b.URL + "/oauth2/token", AuthStyle: oauth2.AuthStyleInHeader}}
	}
	conf := vendor(c.ClientSecret, oldCB)
	v := oauth2.GenerateVerifier()
	cb := b.authorize(b.browser(), conf.AuthCodeURL("state-lifecycle", oauth2.S256ChallengeOption(v)), login, softwarePassword, "")
	tok, err := conf.Exchange(t.Context(), cb.Query().Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatalf("exchange: %v (callback %s)", err, cb)
	}
	b.api(tok.AccessToken, http.MethodGet, "/fdx/v6/accounts/"+acct, nil, http.StatusOK)
	refresh := func(secret string) (*oauth2.Token, error) {
		conf := vendor(secret, newCB)
		next, err := conf.TokenSource(t.Context(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
		if err == nil {
			tok = next
		}
		return next, err
	}
	connection := func(when string) {
		t.Helper()
		b.api(tok.AccessToken, http.MethodGet, "/fdx/v6/accounts/"+acct, nil, http.StatusOK)
		var consents []store.Consent
		for _, u := range []string{login} {
			usr, err := st.GetUserByLogin(t.Context(), u)
			if err != nil {
				t.Fatal(err)
			}
			if consents, err = st.ListConsents(t.Context(), usr.ID); err != nil {
				t.Fatal(err)
			}
		}
		if len(consents) != 1 || !consents[0].Active(clk.now()) {
			t.Fatalf("%s: consents %+v; want the one connection, active", when, consents)
		}
	}
	authorizeStatus := func(redirect string) (int, string) {
		conf := vendor("", redirect)
		q := conf.AuthCodeURL("state-redirect", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
		res, body := b.do(b.browser(), http.MethodGet, q, nil)
		return res.StatusCode, body
	}

	out, stderr, err := cli(t, dir, "clients", "update", c.ClientID, "--redirect-uri", newCB)
	if err != nil {
		t.Fatalf("clients update: %v\n%s", err, stderr)
	}
	clk.advance(afterCacheTTL)
	if st, body := authorizeStatus(oldCB); st != http.StatusBadRequest {
		t.Errorf("/oauth2/authorize with the removed redirect URI = %d; want 400 without a redirect\n%s", st, body)
	}
	if st, body := authorizeStatus(newCB); st != http.StatusOK || !strings.Contains(body, ">Sign in<") {
		t.Errorf("/oauth2/authorize with the new redirect URI = %d; want the sign-in page\n%s", st, body)
	}
	connection("after the update")
	if _, err := refresh(c.ClientSecret); err != nil {
		t.Fatalf("refresh after the update: %v", err)
	}
	connection("after the update and a refresh")

	// Five minutes' overlap: fosite stamps token expiry with the real clock,
	// so the server's clock stays within the access tokens' ten minutes.
	out, stderr, err = cli(t, dir, "clients", "rotate-secret", c.ClientID, "--keep-old", "5m")
	if err != nil {
		t.Fatalf("clients rotate-secret: %v\n%s", err, stderr)
	}
	rotated, _ := decodeClient(t, out)
	connection("after the rotation")
	if _, err := refresh(c.ClientSecret); err != nil {
		t.Errorf("refresh with the old secret during the overlap: %v", err)
	}
	if _, err := refresh(rotated.ClientSecret); err != nil {
		t.Errorf("refresh with the new secret during the overlap: %v", err)
	}
	clk.advance(5*time.Minute + afterCacheTTL)
	var re *oauth2.RetrieveError
	if _, err := refresh(c.ClientSecret); !errors.As(err, &re) || re.ErrorCode != "invalid_client" {
		t.Errorf("refresh with the old secret after the overlap: %v; want invalid_client", err)
	}
	if _, err := refresh(rotated.ClientSecret); err != nil {
		t.Fatalf("refresh with the new secret after the overlap: %v", err)
	}
	connection("after the overlap")
}

// vendorKey is an ES256 key whose public JWKS is written to a file.
type vendorKey struct {
	priv *ecdsa.PrivateKey
	kid  string
	path string
}

func newVendorKey(t *testing.T, kid string) vendorKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &priv.PublicKey, KeyID: kid, Algorithm: "ES256", Use: "sig"}}})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), kid+".json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return vendorKey{priv: priv, kid: kid, path: path}
}

// TestClientsUpdateKeysAtTokenEndpoint: after clients update --jwks-file,
// the real token endpoint takes assertions signed with the new key at
// once, and refuses the old key once the client cache (2 s) has passed.
func TestClientsUpdateKeysAtTokenEndpoint(t *testing.T) {
	dir := migratedDir(t)
	k1, k2 := newVendorKey(t, "key-2026"), newVendorKey(t, "key-2027")
	c := createClient(t, dir, "--name", "Core banking feed", "--first-party", "--jwks-file", k1.path, "--scope", "operator")
	clk := &testClock{}
	issuer := startDirServer(t, dir, clk.now)
	token := func(k vendorKey) int {
		t.Helper()
		now := clk.now()
		a := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"iss": c.ClientID, "sub": c.ClientID, "aud": issuer + "/oauth2/token",
			"jti": store.RandomToken(16), "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()})
		a.Header["kid"] = k.kid
		signed, err := a.SignedString(k.priv)
		if err != nil {
			t.Fatal(err)
		}
		form := url.Values{"grant_type": {"client_credentials"}, "scope": {"operator"}, "client_id": {c.ClientID},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {signed}}
		res, err := http.PostForm(issuer+"/oauth2/token", form)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if st := token(k1); st != http.StatusOK {
		t.Fatalf("assertion with the registered key = %d; want 200", st)
	}
	if st := token(k2); st != http.StatusUnauthorized {
		t.Fatalf("assertion with a key not registered yet = %d; want 401", st)
	}
	if _, stderr, err := cli(t, dir, "clients", "update", c.ClientID, "--jwks-file", k2.path); err != nil {
		t.Fatalf("clients update --jwks-file: %v\n%s", err, stderr)
	}
	if st := token(k2); st != http.StatusOK {
		t.Errorf("assertion with the new key right after the update = %d; want 200", st)
	}
	clk.advance(afterCacheTTL)
	if st := token(k1); st != http.StatusUnauthorized {
		t.Errorf("assertion with the replaced key = %d; want 401", st)
	}
	if st := token(k2); st != http.StatusOK {
		t.Errorf("assertion with the new key = %d; want 200", st)
	}
}

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
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v3"
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
		Scopes:                  []string{"openid", "profile", "offline_access", "accounts.read", "statements.read"},
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
	out, stderr, err := cli(t, dir, "clients", "create", "--name", "Core banking feed", "--first-party", "--secret", "--scope", "operator")
	if err != nil {
		t.Fatalf("clients create: %v\n%s", err, stderr)
	}
	c, _ := decodeClient(t, out)
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

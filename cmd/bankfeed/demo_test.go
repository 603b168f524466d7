package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/bankfeed/bankfeed/config"
	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/store/demo"
)

// TestServeDemo is the quick start: serve --demo on this machine prints the
// demo credentials on stdout, and none of their values reach the log.
func TestServeDemo(t *testing.T) {
	t.Parallel() // seeding is slow under -race; overlap it with the rest
	s := startServe(t, env(), "", "--demo")
	if res := get(t, s.URL+"/readyz"); res.StatusCode != http.StatusOK {
		t.Fatalf("readyz = %d with demo data", res.StatusCode)
	}
	out := s.Stdout.String()
	secrets := printedSecrets(t, out)
	for _, want := range []string{demo.VendorClientID, "client_secret:", "temporary password"} {
		if !strings.Contains(out, want) {
			t.Errorf("credentials lack %q:\n%s", want, out)
		}
	}
	noSecretIn(t, "the log", s.Stderr.String(), secrets)
	s.Stop()
	checkSecretsAreReal(t, s.DataDir, secrets)

	// A second start on the same data seeds nothing and prints nothing.
	again := startServe(t, env(), s.DataDir, "--demo")
	if res := get(t, again.URL+"/readyz"); res.StatusCode != http.StatusOK {
		t.Fatalf("readyz = %d after restart", res.StatusCode)
	}
	if out := again.Stdout.String(); out != "" {
		t.Errorf("restart printed credentials again:\n%s", out)
	}
	again.Stop()
	noSecretIn(t, "the log after a restart", again.Stderr.String(), secrets)
}

// TestServeDemoForced: with a public issuer, BANKFEED_DEMO_FORCE lets the
// demo start, and its credentials go to a 0600 file in the data directory
// (replacing an older one of any mode), never to stdout or the log.
func TestServeDemoForced(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "data")
	file := filepath.Join(dataDir, demoCredentialsFile)
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte("an older seed's\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startServe(t, env(demoForceEnv+"=true"), dataDir, "--demo", "--issuer", "https://demo.bank.example")
	if res := get(t, s.URL+"/readyz"); res.StatusCode != http.StatusOK {
		t.Fatalf("readyz = %d with forced demo data", res.StatusCode)
	}
	s.Stop()
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatalf("no credentials file: %v\n%s", err, s.Stderr)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", file, fi.Mode().Perm())
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	secrets := printedSecrets(t, string(data))
	if out := s.Stdout.String(); out != "" {
		t.Errorf("forced demo printed on stdout:\n%s", out)
	}
	noSecretIn(t, "the log", s.Stderr.String(), secrets)
	for _, want := range []string{"forced", file} {
		if !strings.Contains(s.Stderr.String(), want) {
			t.Errorf("the log does not mention %q:\n%s", want, s.Stderr)
		}
	}
	checkSecretsAreReal(t, dataDir, secrets)
	if ents, _ := filepath.Glob(filepath.Join(dataDir, ".demo-credentials-*")); len(ents) != 0 {
		t.Errorf("temporary files left: %v", ents)
	}
}

// TestServeDemoRefused runs the real main: --demo on a setting that may be
// production exits 1 with one line naming --demo-force, before it writes,
// generates or connects to anything.
func TestServeDemoRefused(t *testing.T) {
	t.Parallel()
	pg := []string{
		"BANKFEED_DATABASE_URL=postgres://bankfeed@127.0.0.1:1/bankfeed?sslmode=disable", // nothing listens: a connection would fail differently
		"BANKFEED_KEY_ENCRYPTION_KEY=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		"BANKFEED_TOKEN_SECRET=" + strings.Repeat("t", 40),
	}
	yaml := filepath.Join(t.TempDir(), "bankfeed.yaml")
	if err := os.WriteFile(yaml, []byte("demo: true\nissuer: https://bank.example\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		env, args []string
		want      []string // in the error line
		not       string
	}{
		{"public issuer", nil, []string{"--demo", "--issuer", "https://bank.example"},
			[]string{"issuer https://bank.example is not on localhost", "--demo-force", demoForceEnv}, "PostgreSQL"},
		{"PostgreSQL, demo from the environment", append([]string{"BANKFEED_DEMO=true"}, pg...), nil,
			[]string{"the database is PostgreSQL", "--demo-force"}, "issuer"},
		{"both, demo from the YAML file", pg, []string{"--config", yaml},
			[]string{"issuer https://bank.example", "; the database is PostgreSQL", "--demo-force"}, ""},
		{"the flag overrides the environment", []string{demoForceEnv + "=true"}, []string{"--demo", "--demo-force=false", "--issuer", "https://bank.example"},
			[]string{"refused", "--demo-force"}, ""},
		{"a bad force value", []string{demoForceEnv + "=maybe"}, []string{"--demo", "--issuer", "https://bank.example"},
			[]string{demoForceEnv + `: "maybe" is not true or false`}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			dataDir := filepath.Join(t.TempDir(), "data")
			code, stdout, stderr := runMain(t, c.env, append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dataDir}, c.args...)...)
			if code != 1 {
				t.Fatalf("exit code %d, want 1\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			line := strings.TrimSuffix(stderr, "\n")
			if strings.Contains(line, "\n") || !strings.HasPrefix(line, "bankfeed: ") {
				t.Errorf("stderr is not one error line:\n%s", stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(line, w) {
					t.Errorf("error lacks %q: %s", w, line)
				}
			}
			if c.not != "" && strings.Contains(line, c.not) {
				t.Errorf("error names %q, which is not the problem: %s", c.not, line)
			}
			if stdout != "" {
				t.Errorf("stdout:\n%s", stdout)
			}
			if _, err := os.Stat(dataDir); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("the refused serve touched the data directory (%v)", err)
			}
		})
	}
}

func TestCheckDemo(t *testing.T) {
	for _, c := range []struct {
		issuer, db string
		ok         bool
	}{
		{"http://localhost:8080", "", true},
		{"http://LOCALHOST:8080", "", true},
		{"http://127.0.0.1:8080", "", true},
		{"http://127.9.9.9", "/tmp/x/bankfeed.db", true},
		{"http://[::1]:8080", "", true},
		{"https://localhost:8443", "", true},
		{"https://bank.example", "", false},
		{"https://localhost.bank.example", "", false},
		{"https://10.0.0.8", "", false},
		{"http://localhost:8080", "postgres://bankfeed@localhost/bankfeed", false},
		{"http://localhost:8080", "postgresql://bankfeed@localhost/bankfeed", false},
	} {
		cfg := config.Default()
		cfg.Issuer, cfg.DatabaseURL, cfg.DataDir = c.issuer, c.db, "/srv/data"
		out, err := checkDemo(cfg, false)
		if (err == nil) != c.ok || out.file != "" {
			t.Errorf("issuer %s, database %q: %+v, %v; want allowed = %v", c.issuer, c.db, out, err, c.ok)
		}
		out, err = checkDemo(cfg, true)
		wantFile := ""
		if !c.ok {
			wantFile = filepath.Join("/srv/data", demoCredentialsFile)
		}
		if err != nil || out.file != wantFile {
			t.Errorf("forced, issuer %s, database %q: file %q, %v; want %q", c.issuer, c.db, out.file, err, wantFile)
		}
	}
}

// printedSecrets parses the demo credentials as Credentials.Print writes
// them into what → value: every password and temporary password, the
// vendor's client secret and the shared security answer.
func printedSecrets(t *testing.T, printed string) map[string]string {
	t.Helper()
	secrets := map[string]string{}
	logins := regexp.MustCompile(`(?m)^  (?:Administrator|Second approver|Ordinary user|Accounting software user): +(\S+) +(password|temporary password): (\S+)  \(`)
	for _, m := range logins.FindAllStringSubmatch(printed, -1) {
		secrets[m[2]+" of "+m[1]] = m[3]
	}
	if groups := strings.Count(printed, "Accounting software job role:"); groups == 0 || len(secrets) != 4*groups {
		t.Fatalf("found %d passwords for %d business groups in the credentials:\n%s", len(secrets), groups, printed)
	}
	for what, re := range map[string]*regexp.Regexp{
		"the vendor's client secret": regexp.MustCompile(`(?m)^  client_secret: (\S+)$`),
		"the security answer":        regexp.MustCompile(`(?m)^Security question of the active users: \S+, answer: (.+)$`),
	} {
		m := re.FindStringSubmatch(printed)
		if m == nil {
			t.Fatalf("no %s in the credentials:\n%s", what, printed)
		}
		secrets[what] = m[1]
	}
	return secrets
}

// noSecretIn fails t for each secret value found in text, naming it
// without showing it.
func noSecretIn(t *testing.T, where, text string, secrets map[string]string) {
	t.Helper()
	for what, v := range secrets {
		if strings.Contains(text, v) {
			t.Errorf("%s holds %s", where, what)
		}
	}
}

// checkSecretsAreReal opens the demo database and checks that what
// printedSecrets found are the credentials in it: the client secret and
// the accounting software users' temporary passwords (argon2id is slow
// under -race; the other passwords are printed and parsed the same way).
func checkSecretsAreReal(t *testing.T, dataDir string, secrets map[string]string) {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = dataDir
	st, err := openStore(t.Context(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c, err := st.GetClient(t.Context(), demo.VendorClientID)
	if err != nil {
		t.Fatal(err)
	}
	if c.SecretHash != store.HashToken(secrets["the vendor's client secret"]) {
		t.Error("the printed client secret is not the demo vendor's")
	}
	n := 0
	for what, pw := range secrets {
		login, ok := strings.CutPrefix(what, "temporary password of ")
		if !ok {
			continue
		}
		n++
		u, err := st.GetUserByLogin(t.Context(), login)
		if err != nil {
			t.Fatalf("%s: %v", login, err)
		}
		if !u.MustChangePassword || !store.VerifySecret(u.PasswordHash, pw) {
			t.Errorf("the printed temporary password of %s is not its password", login)
		}
	}
	if n == 0 {
		t.Error("no temporary password printed")
	}
}

func TestDemoSeedJSON(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	// A small --scale keeps this quick; the full demo runs in TestServeDemo.
	args := []string{"demo", "seed", "--json", "--seed", "7", "--scale", "4", "--transactions", "20", "--data-dir", dir}
	if err := run(t.Context(), args, env(), &stdout, &stderr); err != nil {
		t.Fatalf("demo seed: %v\n%s", err, stderr.String())
	}
	var creds demo.Credentials
	if err := json.Unmarshal(stdout.Bytes(), &creds); err != nil {
		t.Fatalf("--json output is not one JSON object: %v\n%s", err, stdout.String())
	}
	if creds.Vendor.ClientID != demo.VendorClientID || creds.Vendor.ClientSecret == "" || len(creds.BusinessGroups) != 2 {
		t.Errorf("unexpected credentials: %+v", creds)
	}

	err := run(t.Context(), []string{"demo", "seed", "--data-dir", dir}, env(), &bytes.Buffer{}, &bytes.Buffer{})
	if !errors.Is(err, store.ErrConflict) {
		t.Errorf("seeding a non-empty database: %v; want ErrConflict", err)
	}
}

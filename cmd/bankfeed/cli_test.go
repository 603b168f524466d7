package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/bankfeed/bankfeed/config"
)

func TestConfigPrecedence(t *testing.T) {
	file := filepath.Join(t.TempDir(), "bankfeed.yaml")
	if err := os.WriteFile(file, []byte("addr: ':1111'\nissuer: https://file.example\ndata_dir: /file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(t.TempDir(), "other.yaml")
	if err := os.WriteFile(other, []byte("addr: ':4444'\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		env        []string
		args       []string
		wantAddr   string
		wantIssuer string
		wantDir    string
	}{
		{"defaults", nil, nil, ":8080", "http://localhost:8080", "./data"},
		{"file from env BANKFEED_CONFIG", []string{"BANKFEED_CONFIG=" + file}, nil, ":1111", "https://file.example", "/file"},
		{"--config over BANKFEED_CONFIG", []string{"BANKFEED_CONFIG=" + file}, []string{"--config", other}, ":4444", "http://localhost:8080", "./data"},
		{"env over file", []string{"BANKFEED_CONFIG=" + file, "BANKFEED_ADDR=:2222", "BANKFEED_DATA_DIR=/env"}, nil, ":2222", "https://file.example", "/env"},
		{"flags over env over file", []string{"BANKFEED_CONFIG=" + file, "BANKFEED_ADDR=:2222", "BANKFEED_ISSUER=https://env.example"},
			[]string{"--addr", ":3333", "--data-dir", "/flag"}, ":3333", "https://env.example", "/flag"},
		{"flag equal to the default still wins", []string{"BANKFEED_ADDR=:2222"}, []string{"--addr", ":8080"}, ":8080", "http://localhost:8080", "./data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newApp(env(tt.env...), &bytes.Buffer{}, &bytes.Buffer{})
			root := a.rootCommand()
			args := append([]string{"migrate", "status"}, tt.args...)
			cmd, rest, err := root.Find(args)
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.ParseFlags(rest); err != nil {
				t.Fatal(err)
			}
			cfg, err := a.loadConfig(cmd)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Addr != tt.wantAddr || cfg.Issuer != tt.wantIssuer || cfg.DataDir != tt.wantDir {
				t.Errorf("got addr %q issuer %q data dir %q; want %q %q %q",
					cfg.Addr, cfg.Issuer, cfg.DataDir, tt.wantAddr, tt.wantIssuer, tt.wantDir)
			}
		})
	}
}

func TestInvalidConfigExits(t *testing.T) {
	dir := t.TempDir()
	code, stdout, stderr := runMain(t, []string{
		"BANKFEED_LOG_FORMAT=xml",
		"BANKFEED_OAUTH_TOKEN_FORMAT=paseto",
	}, "serve", "--issuer", "http://bank.example", "--addr", "nope", "--data-dir", dir)
	if code != 1 {
		t.Errorf("exit code %d; want 1", code)
	}
	if stdout != "" {
		t.Errorf("stdout not empty: %q", stdout)
	}
	for _, want := range []string{"bankfeed: invalid configuration (4 problems)", "BANKFEED_ADDR", "BANKFEED_ISSUER", "BANKFEED_LOG_FORMAT", "BANKFEED_OAUTH_TOKEN_FORMAT"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not mention %q:\n%s", want, stderr)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("an invalid config still wrote to the data dir: %v", entries)
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--bogus"}, "unknown flag: --bogus"},
		{[]string{"migrate", "sideways"}, `unknown command "sideways"`},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, _, stderr := runMain(t, nil, tt.args...)
			if code != 1 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", code, stderr, tt.want)
			}
		})
	}
}

func TestUnreachableDatabase(t *testing.T) {
	var stdout, stderr bytes.Buffer
	// Port 1 on loopback refuses at once; the password must not be echoed.
	err := run(t.Context(), []string{"migrate", "status", "--database-url", "postgres://bankfeed:hunter2@127.0.0.1:1/bankfeed?sslmode=disable"},
		env("BANKFEED_KEY_ENCRYPTION_KEY=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", "BANKFEED_TOKEN_SECRET="+strings.Repeat("s", 32)),
		&stdout, &stderr)
	if err == nil {
		t.Fatal("migrate status against an unreachable database succeeded")
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "cannot open the database postgres://bankfeed:xxxxx@127.0.0.1:1/bankfeed") {
		t.Errorf("unclear message: %q", msg)
	}
	if strings.Contains(msg, "hunter2") || strings.Contains(stderr.String(), "hunter2") {
		t.Errorf("password leaked: %q / %q", msg, stderr.String())
	}
}

func TestMissingSQLiteDirectory(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no", "such", "dir", "x.db")
	err := run(t.Context(), []string{"migrate", "status", "--database-url", missing}, env(), &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("migrate status on %s: %v; want a clear missing-directory error", missing, err)
	}
}

func TestMigrateStatus(t *testing.T) {
	dir := t.TempDir()
	status := func() string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if err := run(t.Context(), []string{"migrate", "status", "--data-dir", dir}, env(), &stdout, &stderr); err != nil {
			t.Fatalf("migrate status: %v\n%s", err, stderr.String())
		}
		return stdout.String()
	}
	row := regexp.MustCompile(`(?m)^\d+  +\S.*  +(pending|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)$`)

	before := status()
	if !strings.HasPrefix(before, "VERSION") || !regexp.MustCompile(`(?m)^(\d+) migration\(s\), (\d+) pending$`).MatchString(before) {
		t.Fatalf("unexpected status output:\n%s", before)
	}
	rows := row.FindAllString(before, -1)
	if len(rows) == 0 {
		t.Fatalf("no migration rows:\n%s", before)
	}
	for _, r := range rows {
		if !strings.HasSuffix(r, "pending") {
			t.Errorf("fresh database shows an applied migration: %q", r)
		}
	}

	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), []string{"migrate", "--data-dir", dir}, env(), &stdout, &stderr); err != nil {
		t.Fatalf("migrate: %v\n%s", err, stderr.String())
	}

	after := status()
	if !strings.Contains(after, ", 0 pending") {
		t.Errorf("summary still counts pending migrations:\n%s", after)
	}
	afterRows := row.FindAllString(after, -1)
	if len(afterRows) != len(rows) {
		t.Errorf("%d rows after migrate, %d before", len(afterRows), len(rows))
	}
	for _, r := range afterRows {
		if strings.HasSuffix(r, "pending") {
			t.Errorf("migration still pending after migrate: %q", r)
		}
	}
}

func TestVersionAndHelp(t *testing.T) {
	tests := []struct {
		args  []string
		wants []string
	}{
		{[]string{"version"}, []string{"bankfeed ", "go1."}},
		{[]string{"--help"}, []string{"serve", "migrate", "demo", "version", "--addr", "BANKFEED_ADDR", "--config", "BANKFEED_CONFIG"}},
		{[]string{"serve", "--help"}, []string{"--demo", "BANKFEED_DEMO", "--database-url", "BANKFEED_DATABASE_URL", "/readyz"}},
		{[]string{"migrate", "--help"}, []string{"up", "status"}},
		{[]string{"demo", "seed", "--help"}, []string{"--json", "--seed"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if err := run(t.Context(), tt.args, env(), &stdout, &stderr); err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.wants {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, stdout.String())
				}
			}
		})
	}
}

// TestREADMEDocumentsEverySetting keeps the configuration table true.
func TestREADMEDocumentsEverySetting(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for line := range strings.SplitSeq(string(b), "\n") {
		if m := regexp.MustCompile("^\\|[^|]*\\| `(BANKFEED_[A-Z_]+)` \\|").FindStringSubmatch(line); m != nil {
			rows[m[1]] = line
		}
	}
	for _, f := range config.Fields(config.Default()) {
		row, ok := rows[f.Env]
		if !ok {
			t.Errorf("README has no row for %s", f.Env)
			continue
		}
		if !strings.Contains(row, "`"+f.Key+"`") {
			t.Errorf("README row for %s lacks YAML key %s", f.Env, f.Key)
		}
		if f.Default != "" && f.Default != "false" && !strings.Contains(row, "`"+f.Default+"`") {
			t.Errorf("README row for %s lacks default %s", f.Env, f.Default)
		}
	}
	// Settings of cmd/bankfeed's own, outside config.
	if row := rows[demoForceEnv]; !strings.Contains(row, "`serve --demo-force`") || !strings.Contains(row, "`"+demoCredentialsFile+"`") {
		t.Errorf("README row for %s lacks its flag or its file %s: %q", demoForceEnv, demoCredentialsFile, row)
	}
	for _, flag := range []string{"addr", "data-dir", "database-url", "issuer", "config"} {
		if !strings.Contains(string(b), "`--"+flag+"`") {
			t.Errorf("README does not document --%s", flag)
		}
	}
	for _, cmd := range []string{"go run ./cmd/bankfeed serve --demo", "go test -race -timeout 30m ./..."} {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(cmd) + `$`).Match(b) {
			t.Errorf("README quick start lacks %q", cmd)
		}
	}
}

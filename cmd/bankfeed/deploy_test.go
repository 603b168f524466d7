package main

import (
	"bufio"
	"bytes"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/bankfeed/bankfeed/config"
)

// The deployment files are not run here (no Docker engine, no systemd as
// PID 1): these tests hold them against the binary instead — every command
// and flag they run exists, every BANKFEED_* they set is a setting, and the
// addresses, ports, secrets and names they share agree. .ci/run adds
// systemd-analyze verify for the unit.

const binaryPath = "/usr/local/bin/bankfeed" // where the Dockerfile puts it

// settingEnvs is every environment variable config reads.
func settingEnvs() map[string]bool {
	m := map[string]bool{}
	for _, f := range config.Fields(config.Default()) {
		m[f.Env] = true
	}
	return m
}

// checkCommand fails t unless args (after the binary) name a command of
// bankfeed and parse with its flags.
func checkCommand(t *testing.T, where string, args []string) {
	t.Helper()
	root := newApp(env(), &bytes.Buffer{}, &bytes.Buffer{}).rootCommand()
	cmd, rest, err := root.Find(args)
	if err != nil || cmd == root {
		t.Errorf("%s: %q is not a bankfeed command (%v)", where, args, err)
		return
	}
	if err := cmd.ParseFlags(rest); err != nil {
		t.Errorf("%s: %q: %v", where, args, err)
	}
	if err := cmd.ValidateArgs(cmd.Flags().Args()); err != nil {
		t.Errorf("%s: %q: %v", where, args, err)
	}
}

// checkEnv fails t for a BANKFEED_ variable that is not a setting.
func checkEnv(t *testing.T, where string, vars map[string]string) {
	t.Helper()
	known := settingEnvs()
	for k := range vars {
		if strings.HasPrefix(k, config.EnvPrefix) && !known[k] {
			t.Errorf("%s sets %s, which is not a bankfeed setting", where, k)
		}
	}
}

// readEnvFile reads KEY=value lines, as docker compose's env_file and
// systemd's EnvironmentFile do (no quoting is used in ours).
func readEnvFile(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Errorf("%s: %q is not KEY=value", path, line)
			continue
		}
		m[k] = v
	}
	return m
}

type composeFile struct {
	Name     string                    `yaml:"name"`
	Anchor   composeService            `yaml:"x-bankfeed"` // the replicas' shared definition
	Services map[string]composeService `yaml:"services"`
	Networks map[string]struct {
		IPAM struct {
			Config []struct {
				Subnet string `yaml:"subnet"`
			} `yaml:"config"`
		} `yaml:"ipam"`
	} `yaml:"networks"`
	Volumes map[string]any `yaml:"volumes"`
	Secrets map[string]struct {
		File string `yaml:"file"`
	} `yaml:"secrets"`
}

type composeService struct {
	Image       string            `yaml:"image"`
	Restart     string            `yaml:"restart"`
	StopGrace   string            `yaml:"stop_grace_period"`
	Build       map[string]string `yaml:"build"`
	Command     []string          `yaml:"command"`
	EnvFile     string            `yaml:"env_file"`
	Environment map[string]string `yaml:"environment"`
	Secrets     []string          `yaml:"secrets"`
	Ports       []string          `yaml:"ports"`
	Volumes     []string          `yaml:"volumes"`
	Networks    any               `yaml:"networks"`
	DependsOn   map[string]struct {
		Condition string `yaml:"condition"`
	} `yaml:"depends_on"`
	Healthcheck struct {
		Test        []string `yaml:"test"`
		Interval    string   `yaml:"interval"`
		Timeout     string   `yaml:"timeout"`
		Retries     int      `yaml:"retries"`
		StartPeriod string   `yaml:"start_period"`
	} `yaml:"healthcheck"`
}

// TestDockerCompose: deploy/docker-compose.yml runs two bankfeed replicas
// built from the Dockerfile on the compose file's PostgreSQL, with shared
// secrets as files, the binary's own healthcheck, no published port but
// the TLS proxy's, and a proxy that balances over both replicas on the
// port they listen on and is the one trusted proxy.
func TestDockerCompose(t *testing.T) {
	b, err := os.ReadFile("../../deploy/docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true) // a key the struct does not know is a typo or a check to add
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	dockerfile, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(dockerfile), "COPY --from=build /out/bankfeed "+binaryPath) {
		t.Errorf("the Dockerfile does not install the binary at %s", binaryPath)
	}
	if !strings.Contains(string(dockerfile), `HEALTHCHECK `) || !strings.Contains(string(dockerfile), `CMD ["`+binaryPath+`", "healthcheck"]`) {
		t.Errorf("the Dockerfile has no exec-form HEALTHCHECK running %s healthcheck", binaryPath)
	}

	envFile := readEnvFile(t, "../../deploy/bankfeed.env.example")
	checkEnv(t, "bankfeed.env.example", envFile)
	var replicas []string
	var proxy composeService
	for name, s := range c.Services {
		for _, sec := range s.Secrets {
			if _, ok := c.Secrets[sec]; !ok {
				t.Errorf("service %s uses secret %s, which is not defined", name, sec)
			}
		}
		for dep := range s.DependsOn {
			if _, ok := c.Services[dep]; !ok {
				t.Errorf("service %s depends on %s, which is not a service", name, dep)
			}
		}
		if strings.HasPrefix(s.Image, "caddy") {
			proxy = s
		}
		if s.Build == nil {
			continue
		}
		replicas = append(replicas, name)
		if s.Build["context"] != ".." {
			t.Errorf("service %s is not built from the repository's Dockerfile: %v", name, s.Build)
		}
		checkCommand(t, "service "+name, s.Command)
		checkEnv(t, "service "+name, s.Environment)
		if want := []string{"CMD", binaryPath, "healthcheck"}; !slices.Equal(s.Healthcheck.Test, want) {
			t.Errorf("service %s healthcheck %q; want %q", name, s.Healthcheck.Test, want)
		} else {
			checkCommand(t, "service "+name+" healthcheck", s.Healthcheck.Test[2:])
		}
		// The probe gives up (and says why) before Docker kills it.
		if d, err := time.ParseDuration(s.Healthcheck.Timeout); err != nil || d <= healthcheckTimeout {
			t.Errorf("service %s healthcheck timeout %q: want a duration above the probe's own %s", name, s.Healthcheck.Timeout, healthcheckTimeout)
		}
		// Docker waits stop_grace_period after SIGTERM, serve drains for
		// http.shutdown_timeout: the drain must fit.
		if d, err := time.ParseDuration(s.StopGrace); err != nil || d <= config.Default().HTTP.ShutdownTimeout {
			t.Errorf("service %s stop_grace_period %q: want more than serve's shutdown timeout %s", name, s.StopGrace, config.Default().HTTP.ShutdownTimeout)
		}
		if s.Restart == "" || s.Restart == "no" {
			t.Errorf("service %s is not restarted", name)
		}
		if len(s.Ports) > 0 {
			t.Errorf("service %s publishes %v: only the TLS proxy may", name, s.Ports)
		}
		if m, a := s.Environment["BANKFEED_METRICS_ADDR"], s.Environment["BANKFEED_ADDR"]; m != "" && m == a {
			t.Errorf("service %s serves metrics on its public address %s", name, a)
		}
		if s.EnvFile != "bankfeed.env" {
			t.Errorf("service %s env_file %q; want bankfeed.env (from bankfeed.env.example)", name, s.EnvFile)
		}
		// Secrets: every *_FILE setting points at a secret the service mounts.
		for k, v := range s.Environment {
			if !strings.HasSuffix(k, "_FILE") {
				continue
			}
			sec, ok := strings.CutPrefix(v, "/run/secrets/")
			if !ok || !slices.Contains(s.Secrets, sec) {
				t.Errorf("service %s: %s=%s is not one of its secrets %v", name, k, v, s.Secrets)
			}
		}
		for _, k := range []string{"BANKFEED_KEY_ENCRYPTION_KEY_FILE", "BANKFEED_TOKEN_SECRET_FILE"} {
			if s.Environment[k] == "" {
				t.Errorf("service %s: no %s: replicas on PostgreSQL must share it", name, k)
			}
		}
		// The settings as the container sees them pass serve's validation,
		// the secrets' files standing in for /run/secrets.
		vars := maps.Clone(envFile)
		maps.Copy(vars, s.Environment)
		for k, v := range vars {
			if sec, ok := strings.CutPrefix(v, "/run/secrets/"); ok && strings.HasSuffix(k, "_FILE") {
				vars[k] = filepath.Join(t.TempDir(), sec)
				content := strings.Repeat("s", 48)
				if k == "BANKFEED_KEY_ENCRYPTION_KEY_FILE" {
					content = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
				}
				if err := os.WriteFile(vars[k], []byte(content+"\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
		}
		if cfg, err := config.Load("", func(k string) string { return vars[k] }); err != nil {
			t.Errorf("service %s: %v", name, err)
		} else if err := cfg.Validate(); err != nil {
			t.Errorf("service %s: %v", name, err)
		}
		if s.DependsOn["postgres"].Condition != "service_healthy" {
			t.Errorf("service %s does not wait for a healthy postgres", name)
		}
	}
	slices.Sort(replicas)
	if len(replicas) != 2 {
		t.Fatalf("bankfeed replicas: %v; want two", replicas)
	}

	// The replicas' database is the compose file's PostgreSQL.
	pg, ok := c.Services["postgres"]
	if !ok {
		t.Fatal("no postgres service")
	}
	dsn, err := url.Parse(envFile["BANKFEED_DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	if dsn.Hostname() != "postgres" || dsn.User.Username() != pg.Environment["POSTGRES_USER"] || dsn.Path != "/"+pg.Environment["POSTGRES_DB"] {
		t.Errorf("BANKFEED_DATABASE_URL %s does not name the postgres service's user and database (%s, %s)",
			dsn.Redacted(), pg.Environment["POSTGRES_USER"], pg.Environment["POSTGRES_DB"])
	}
	if sec, ok := strings.CutPrefix(pg.Environment["POSTGRES_PASSWORD_FILE"], "/run/secrets/"); !ok || !slices.Contains(pg.Secrets, sec) {
		t.Errorf("postgres's password is not one of its secrets: %q", pg.Environment["POSTGRES_PASSWORD_FILE"])
	}

	// The proxy: publishes 443, balances over both replicas at BANKFEED_ADDR's
	// port, and its fixed address is the only trusted proxy.
	if proxy.Image == "" {
		t.Fatal("no caddy service")
	}
	if !slices.Contains(proxy.Ports, "443:443") {
		t.Errorf("the proxy publishes %v; want 443:443", proxy.Ports)
	}
	caddyfile, err := os.ReadFile("../../deploy/Caddyfile")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*reverse_proxy ([^{\n]+)`).FindSubmatch(caddyfile)
	if m == nil {
		t.Fatal("Caddyfile has no reverse_proxy")
	}
	upstreams := strings.Fields(string(m[1]))
	slices.Sort(upstreams)
	var want []string
	for _, r := range replicas {
		_, port, err := net.SplitHostPort(c.Services[r].Environment["BANKFEED_ADDR"])
		if err != nil {
			t.Fatalf("service %s BANKFEED_ADDR: %v", r, err)
		}
		want = append(want, net.JoinHostPort(r, port))
	}
	if !slices.Equal(upstreams, want) {
		t.Errorf("Caddyfile upstreams %v; want %v", upstreams, want)
	}
	if !regexp.MustCompile(`(?m)^\s*health_uri /readyz$`).Match(caddyfile) || !regexp.MustCompile(`(?m)^\s*tls `).Match(caddyfile) {
		t.Error("Caddyfile lacks health_uri /readyz or a tls directive")
	}
	nets, ok := proxy.Networks.(map[string]any)
	if !ok {
		t.Fatalf("the proxy's networks %v: want a map with its fixed address", proxy.Networks)
	}
	var proxyIP string
	for name, n := range nets {
		if _, ok := c.Networks[name]; !ok {
			t.Errorf("the proxy is on network %s, which is not defined", name)
		}
		if n, ok := n.(map[string]any); ok {
			proxyIP, _ = n["ipv4_address"].(string)
		}
	}
	for _, r := range replicas {
		if got := c.Services[r].Environment["BANKFEED_TRUSTED_PROXIES"]; got != proxyIP || proxyIP == "" {
			t.Errorf("service %s trusts %q; want exactly the proxy's address %q", r, got, proxyIP)
		}
	}
}

// TestSystemdUnit: deploy/bankfeed.service runs a real command of the
// binary, sets only real settings, keeps its state in its StateDirectory,
// and keeps the hardening the README promises.
func TestSystemdUnit(t *testing.T) {
	b, err := os.ReadFile("../../deploy/bankfeed.service")
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string][]string{}
	section := ""
	for line := range strings.SplitSeq(string(b), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			section = line
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				t.Errorf("bankfeed.service: %q is not Key=value", line)
			}
			keys[section+k] = append(keys[section+k], v)
		}
	}
	one := func(k string) string {
		if v := keys["[Service]"+k]; len(v) == 1 {
			return v[0]
		}
		t.Errorf("bankfeed.service: want exactly one %s, got %q", k, keys["[Service]"+k])
		return ""
	}
	exec := strings.Fields(one("ExecStart"))
	if len(exec) == 0 || exec[0] != binaryPath {
		t.Fatalf("ExecStart %q does not run %s", exec, binaryPath)
	}
	checkCommand(t, "ExecStart", exec[1:])
	vars := map[string]string{}
	for _, e := range keys["[Service]Environment"] {
		k, v, _ := strings.Cut(e, "=")
		vars[k] = v
	}
	checkEnv(t, "bankfeed.service", vars)
	if dir := one("StateDirectory"); vars["BANKFEED_DATA_DIR"] != "/var/lib/"+dir {
		t.Errorf("BANKFEED_DATA_DIR %q is not the StateDirectory /var/lib/%s", vars["BANKFEED_DATA_DIR"], dir)
	}
	for k, want := range map[string]string{
		"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
		"Restart": "on-failure", "CapabilityBoundingSet": "", "EnvironmentFile": "/etc/bankfeed/bankfeed.env",
	} {
		if got := one(k); got != want {
			t.Errorf("bankfeed.service %s=%q; want %q", k, got, want)
		}
	}
	if user := one("User"); user == "" || user == "root" {
		t.Errorf("bankfeed.service runs as %q; want a dedicated user", user)
	} else if sysusers, err := os.ReadFile("../../deploy/bankfeed.sysusers"); err != nil || !regexp.MustCompile(`(?m)^u `+user+` `).Match(sysusers) {
		t.Errorf("deploy/bankfeed.sysusers does not create user %s (%v)", user, err)
	}
	if keys["[Install]WantedBy"] == nil {
		t.Error("bankfeed.service has no [Install] WantedBy")
	}
}

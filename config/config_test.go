package config_test

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/config"
	"github.com/google/go-cmp/cmp"
)

// env turns a map into a getenv function.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

var (
	validKEK    = base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	validSecret = strings.Repeat("s", 32)
)

func TestDefaultIsValid(t *testing.T) {
	if err := config.Default().Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
}

func TestLoadPrecedence(t *testing.T) {
	yamlFile := writeFile(t, "bankfeed.yaml", `
addr: ":9000"
data_dir: /var/lib/bankfeed
issuer: https://bank.example
log: {format: json}
oauth:
  access_token_lifespan: 5m
  token_format: jwt
trusted_proxies: [10.0.0.0/8]
`)
	kekFile := writeFile(t, "kek", validKEK+"\n")

	tests := []struct {
		name string
		path string
		env  map[string]string
		want func(*config.Config)
	}{
		{"defaults only", "", nil, func(*config.Config) {}},
		{"file over defaults", yamlFile, nil, func(c *config.Config) {
			c.Addr = ":9000"
			c.DataDir = "/var/lib/bankfeed"
			c.Issuer = "https://bank.example"
			c.Log.Format = "json"
			c.OAuth.AccessTokenLifespan = 5 * time.Minute
			c.OAuth.TokenFormat = "jwt"
			c.TrustedProxies = []string{"10.0.0.0/8"}
		}},
		{"env over file", yamlFile, map[string]string{
			"BANKFEED_ADDR":                        ":7000",
			"BANKFEED_OAUTH_ACCESS_TOKEN_LIFESPAN": "2m",
			"BANKFEED_MIGRATE_ON_START":            "false",
			"BANKFEED_SIGNIN_MAX_FAILED_ATTEMPTS":  "3",
			"BANKFEED_TRUSTED_PROXIES":             "127.0.0.1, 192.168.0.0/16",
			"BANKFEED_TOKEN_SECRET":                validSecret,
			"BANKFEED_KEY_ENCRYPTION_KEY_FILE":     kekFile,
		}, func(c *config.Config) {
			c.Addr = ":7000"
			c.DataDir = "/var/lib/bankfeed"
			c.Issuer = "https://bank.example"
			c.Log.Format = "json"
			c.OAuth.AccessTokenLifespan = 2 * time.Minute
			c.OAuth.TokenFormat = "jwt"
			c.MigrateOnStart = false
			c.SignIn.MaxFailedAttempts = 3
			c.TrustedProxies = []string{"127.0.0.1", "192.168.0.0/16"}
			c.Secrets.TokenSecret = validSecret
			c.Secrets.KeyEncryptionKeyFile = kekFile
			c.Secrets.KeyEncryptionKey = validKEK // read from the file, newline trimmed
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := config.Load(tt.path, env(tt.env))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			want := config.Default()
			tt.want(&want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Load (-want +got):\n%s", diff)
			}
			if err := got.Validate(); err != nil {
				t.Errorf("Validate: %v", err)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string
		env   map[string]string
		wants []string // every one must appear in the error
	}{
		{"unknown yaml key", "adr: ':80'\n", nil, []string{"field adr not found"}},
		{"bad yaml duration", "oauth: {access_token_lifespan: soon}\n", nil, []string{"soon"}},
		{"every bad env value at once", "", map[string]string{
			"BANKFEED_OAUTH_ACCESS_TOKEN_LIFESPAN": "ten minutes",
			"BANKFEED_MIGRATE_ON_START":            "maybe",
			"BANKFEED_SIGNIN_MAX_FAILED_ATTEMPTS":  "five",
		}, []string{"BANKFEED_OAUTH_ACCESS_TOKEN_LIFESPAN", "BANKFEED_MIGRATE_ON_START", "BANKFEED_SIGNIN_MAX_FAILED_ATTEMPTS"}},
		{"secret and its file both set", "", map[string]string{
			"BANKFEED_TOKEN_SECRET":      validSecret,
			"BANKFEED_TOKEN_SECRET_FILE": "/nonexistent",
		}, []string{"both set"}},
		{"missing secret file", "", map[string]string{
			"BANKFEED_TOKEN_SECRET_FILE": "/nonexistent/token",
		}, []string{"BANKFEED_TOKEN_SECRET_FILE", "no such file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.yaml != "" {
				path = writeFile(t, "c.yaml", tt.yaml)
			}
			_, err := config.Load(path, env(tt.env))
			if err == nil {
				t.Fatal("Load succeeded; want an error")
			}
			for _, w := range tt.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	if _, err := config.Load("/nonexistent/bankfeed.yaml", env(nil)); err == nil {
		t.Error("Load of a missing file succeeded")
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*config.Config)
		wants []string // substrings, one per expected problem
	}{
		{"bad addr", func(c *config.Config) { c.Addr = "8080" }, []string{"addr (BANKFEED_ADDR)"}},
		{"bad port", func(c *config.Config) { c.Addr = ":99999" }, []string{"invalid port"}},
		{"relative issuer", func(c *config.Config) { c.Issuer = "/bank" }, []string{"not an absolute URL"}},
		{"http issuer off localhost", func(c *config.Config) { c.Issuer = "http://bank.example" }, []string{"must use https"}},
		{"http issuer on 127.0.0.1", func(c *config.Config) { c.Issuer = "http://127.0.0.1:8080" }, nil},
		{"https issuer with path", func(c *config.Config) { c.Issuer = "https://bank.example/oauth" }, nil},
		{"issuer with query", func(c *config.Config) { c.Issuer = "https://bank.example?x=1" }, []string{"query or fragment"}},
		{"issuer with trailing slash", func(c *config.Config) { c.Issuer = "https://bank.example/" }, []string{"must not end with /"}},
		{"ftp issuer", func(c *config.Config) { c.Issuer = "ftp://bank.example" }, []string{"must use https"}},
		{"unknown database scheme", func(c *config.Config) { c.DatabaseURL = "mysql://u:hunter2@h/db" }, []string{"unsupported scheme"}},
		{"postgres without secrets", func(c *config.Config) { c.DatabaseURL = "postgres://u@db/bankfeed" }, []string{
			"(BANKFEED_KEY_ENCRYPTION_KEY): required with PostgreSQL", "(BANKFEED_TOKEN_SECRET): required with PostgreSQL"}},
		{"postgres with secrets", func(c *config.Config) {
			c.DatabaseURL = "postgres://u@db/bankfeed"
			c.Secrets.KeyEncryptionKey, c.Secrets.TokenSecret = validKEK, validSecret
		}, nil},
		{"postgres over a Unix socket", func(c *config.Config) {
			c.DatabaseURL = "postgres://u@/bankfeed?host=/var/run/postgresql"
			c.Secrets.KeyEncryptionKey, c.Secrets.TokenSecret = validKEK, validSecret
		}, nil},
		{"postgres without a host", func(c *config.Config) {
			c.DatabaseURL = "postgres:///bankfeed"
			c.Secrets.KeyEncryptionKey, c.Secrets.TokenSecret = validKEK, validSecret
		}, []string{"not a valid postgres:// URL"}},
		{"kek not base64", func(c *config.Config) { c.Secrets.KeyEncryptionKey = "not base64!" }, []string{"is not base64"}},
		{"kek wrong size", func(c *config.Config) {
			c.Secrets.KeyEncryptionKey = base64.StdEncoding.EncodeToString(make([]byte, 16))
		}, []string{"32 bytes"}},
		{"short token secret", func(c *config.Config) { c.Secrets.TokenSecret = "short" }, []string{"at least 32 bytes"}},
		{"log format", func(c *config.Config) { c.Log.Format = "xml" }, []string{"not text or json"}},
		{"log level", func(c *config.Config) { c.Log.Level = "loud" }, []string{"BANKFEED_LOG_LEVEL"}},
		{"token format", func(c *config.Config) { c.OAuth.TokenFormat = "paseto" }, []string{"not opaque or jwt"}},
		{"access token too short", func(c *config.Config) { c.OAuth.AccessTokenLifespan = time.Second }, []string{"BANKFEED_OAUTH_ACCESS_TOKEN_LIFESPAN"}},
		{"refresh shorter than access", func(c *config.Config) {
			c.OAuth.AccessTokenLifespan, c.OAuth.RefreshTokenLifespan = 2*time.Hour, time.Hour
		}, []string{"must not be shorter"}},
		{"par too long", func(c *config.Config) { c.OAuth.PARLifespan = 10 * time.Minute }, []string{"BANKFEED_OAUTH_PAR_LIFESPAN"}},
		{"negative grace", func(c *config.Config) { c.OAuth.RefreshGracePeriod = -time.Second }, []string{"BANKFEED_OAUTH_REFRESH_GRACE_PERIOD"}},
		{"negative consent", func(c *config.Config) { c.OAuth.ConsentLifespan = -time.Hour }, []string{"BANKFEED_OAUTH_CONSENT_LIFESPAN"}},
		{"zero attempts", func(c *config.Config) { c.SignIn.MaxFailedAttempts = 0 }, []string{"BANKFEED_SIGNIN_MAX_FAILED_ATTEMPTS"}},
		{"rate limit", func(c *config.Config) { c.DataAPI.RateLimitPerMinute = -1 }, []string{"BANKFEED_DATAAPI_RATE_LIMIT_PER_MINUTE"}},
		{"export days", func(c *config.Config) { c.DataAPI.MaxExportDays = 0 }, []string{"BANKFEED_DATAAPI_MAX_EXPORT_DAYS"}},
		{"intu bid", func(c *config.Config) { c.Exports.QBOIntuBID = "abc" }, []string{"Intuit bank ID"}},
		{"bic", func(c *config.Config) { c.Exports.BIC = "bank" }, []string{"BIC"}},
		{"body limit", func(c *config.Config) { c.HTTP.BodyLimit = "lots" }, []string{"BANKFEED_HTTP_BODY_LIMIT"}},
		{"active requests below -1", func(c *config.Config) { c.HTTP.MaxActiveRequests = -2 }, []string{"BANKFEED_HTTP_MAX_ACTIVE_REQUESTS"}},
		{"active introspections below -1", func(c *config.Config) { c.HTTP.MaxActiveIntrospections = -2 }, []string{"BANKFEED_HTTP_MAX_ACTIVE_INTROSPECTIONS"}},
		{"active introspections above the range", func(c *config.Config) { c.HTTP.MaxActiveIntrospections = 100001 }, []string{"BANKFEED_HTTP_MAX_ACTIVE_INTROSPECTIONS"}},
		{"waiting requests below -1", func(c *config.Config) { c.HTTP.MaxWaitingRequests = -2 }, []string{"BANKFEED_HTTP_MAX_WAITING_REQUESTS"}},
		{"no wait", func(c *config.Config) { c.HTTP.MaxWait = 0 }, []string{"BANKFEED_HTTP_MAX_WAIT"}},
		{"a wait of an hour", func(c *config.Config) { c.HTTP.MaxWait = time.Hour }, []string{"BANKFEED_HTTP_MAX_WAIT"}},
		{"trusted proxy", func(c *config.Config) { c.TrustedProxies = []string{"10.0.0.0/33"} }, []string{"neither an IP"}},
		{"smtp without from", func(c *config.Config) { c.Notifications.SMTPAddr = "mail:25" }, []string{"SMTP_FROM"}},
		{"metrics on an internal address", func(c *config.Config) { c.Metrics.Addr, c.Metrics.Pprof = "127.0.0.1:9090", true }, nil},
		{"metrics on the public address", func(c *config.Config) { c.Metrics.Addr = ":8080" }, []string{"(BANKFEED_METRICS_ADDR): \":8080\" is the public address"}},
		{"metrics on the public port of every interface", func(c *config.Config) { c.Addr, c.Metrics.Addr = "0.0.0.0:8443", "127.0.0.1:8443" }, []string{"public address"}},
		{"metrics bad address", func(c *config.Config) { c.Metrics.Addr = "9090" }, []string{"BANKFEED_METRICS_ADDR"}},
		{"pprof without metrics", func(c *config.Config) { c.Metrics.Pprof = true }, []string{"BANKFEED_METRICS_PPROF"}},
		{"every problem at once", func(c *config.Config) {
			c.Addr = "nope"
			c.Issuer = "http://bank.example"
			c.OAuth.TokenFormat = "paseto"
			c.Log.Format = "xml"
		}, []string{"BANKFEED_ADDR", "BANKFEED_ISSUER", "BANKFEED_OAUTH_TOKEN_FORMAT", "BANKFEED_LOG_FORMAT"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := config.Default()
			tt.edit(&c)
			err := c.Validate()
			if len(tt.wants) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v; want nil", err)
				}
				return
			}
			var verr *config.ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("Validate() = %v; want a *ValidationError", err)
			}
			if len(verr.Problems) != len(tt.wants) {
				t.Errorf("got %d problems, want %d:\n%v", len(verr.Problems), len(tt.wants), err)
			}
			for _, w := range tt.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not mention %q:\n%v", w, err)
				}
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error leaks a password:\n%v", err)
			}
		})
	}
}

func TestEnsureSecrets(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	c := config.Default()
	c.DataDir = dir
	created, err := c.EnsureSecrets()
	if err != nil {
		t.Fatal(err)
	}
	if len(created) != 2 {
		t.Fatalf("created %v; want both secret files", created)
	}
	for _, p := range created {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v; want 0600", p, fi.Mode().Perm())
		}
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate after EnsureSecrets: %v", err)
	}

	// A second start reads the same secrets back and creates nothing.
	again := config.Default()
	again.DataDir = dir
	created, err = again.EnsureSecrets()
	if err != nil || len(created) != 0 {
		t.Fatalf("second EnsureSecrets: created %v, err %v", created, err)
	}
	if again.Secrets != c.Secrets {
		t.Error("second EnsureSecrets returned different secrets")
	}

	// PostgreSQL: nothing is generated; Validate demands explicit secrets.
	pg := config.Default()
	pg.DataDir = filepath.Join(t.TempDir(), "pg")
	pg.DatabaseURL = "postgres://u@db/x"
	if created, err := pg.EnsureSecrets(); err != nil || len(created) != 0 {
		t.Fatalf("EnsureSecrets with PostgreSQL: created %v, err %v", created, err)
	}
	if _, err := os.Stat(pg.DataDir); !os.IsNotExist(err) {
		t.Errorf("EnsureSecrets with PostgreSQL touched the data dir: %v", err)
	}
}

func TestDSN(t *testing.T) {
	tests := []struct {
		url, dataDir, want, redacted string
		postgres                     bool
	}{
		{"", "/d", "/d/bankfeed.db", "/d/bankfeed.db", false},
		{"/tmp/x.db", "/d", "/tmp/x.db", "/tmp/x.db", false},
		{"postgres://u:pw@h:5432/db?sslmode=disable", "/d", "postgres://u:pw@h:5432/db?sslmode=disable", "postgres://u:xxxxx@h:5432/db?sslmode=disable", true},
		{"PostgreSQL://h/db", "/d", "PostgreSQL://h/db", "postgresql://h/db", true},
	}
	for _, tt := range tests {
		c := config.Config{DatabaseURL: tt.url, DataDir: tt.dataDir}
		if got := c.DSN(); got != tt.want {
			t.Errorf("DSN(%q) = %q; want %q", tt.url, got, tt.want)
		}
		if got := c.RedactedDSN(); got != tt.redacted {
			t.Errorf("RedactedDSN(%q) = %q; want %q", tt.url, got, tt.redacted)
		}
		if got := c.IsPostgres(); got != tt.postgres {
			t.Errorf("IsPostgres(%q) = %v", tt.url, got)
		}
	}
}

func TestFieldsHaveUniqueEnvAndKeys(t *testing.T) {
	seenEnv, seenKey := map[string]bool{}, map[string]bool{}
	for _, f := range config.Fields(config.Default()) {
		if f.Env == config.EnvPrefix || seenEnv[f.Env] {
			t.Errorf("field %s: missing or duplicate env %q", f.Key, f.Env)
		}
		if f.Key == "" || seenKey[f.Key] {
			t.Errorf("missing or duplicate yaml key %q", f.Key)
		}
		seenEnv[f.Env], seenKey[f.Key] = true, true
	}
	for _, want := range []string{"BANKFEED_ADDR", "BANKFEED_DATA_DIR", "BANKFEED_DATABASE_URL", "BANKFEED_ISSUER",
		"BANKFEED_KEY_ENCRYPTION_KEY", "BANKFEED_KEY_ENCRYPTION_KEY_FILE", "BANKFEED_TOKEN_SECRET", "BANKFEED_TOKEN_SECRET_FILE"} {
		if !seenEnv[want] {
			t.Errorf("no setting reads %s", want)
		}
	}
}

func TestParseBodyLimit(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1M", 1 << 20, true}, {"512K", 512 << 10, true}, {"2MB", 2 << 20, true}, {"100", 100, true},
		{"1g", 1 << 30, true}, {"", 0, false}, {"0", 0, false}, {"-1M", 0, false}, {"1.5M", 0, false}, {"lots", 0, false},
	}
	for _, tt := range tests {
		got, err := config.ParseBodyLimit(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseBodyLimit(%q) = %d, %v; want %d, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

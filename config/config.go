package config

import (
	"net/url"
	"path/filepath"
	"strings"
	"time"
)

// Config is every setting of bankfeed. Each field carries its YAML key and its
// environment variable (always BANKFEED_ + the env tag); fields tagged
// secret also read <ENV>_FILE. Durations are Go duration strings ("10m").
type Config struct {
	// Addr is the HTTP listen address.
	Addr string `yaml:"addr" env:"ADDR"`
	// DataDir holds the embedded SQLite database and generated secrets.
	DataDir string `yaml:"data_dir" env:"DATA_DIR"`
	// DatabaseURL is a postgres:// DSN or a SQLite file path; empty means
	// the SQLite file bankfeed.db in DataDir.
	DatabaseURL string `yaml:"database_url" env:"DATABASE_URL"`
	// DatabaseMaxOpenConns caps the connection pool; 0 lets the store choose.
	DatabaseMaxOpenConns int `yaml:"database_max_open_conns" env:"DATABASE_MAX_OPEN_CONNS"`
	// Issuer is the OAuth/OIDC issuer URL, the public base URL of the server.
	Issuer string `yaml:"issuer" env:"ISSUER"`
	// MigrateOnStart applies pending migrations when serve starts.
	MigrateOnStart bool `yaml:"migrate_on_start" env:"MIGRATE_ON_START"`
	// Demo fills an empty database with the demo data set on serve.
	Demo bool `yaml:"demo" env:"DEMO"`
	// TrustedProxies are the IPs or CIDRs whose X-Forwarded-For is believed.
	TrustedProxies []string `yaml:"trusted_proxies" env:"TRUSTED_PROXIES"`
	// MemoryLimit is the Go runtime's soft memory limit (debug.SetMemoryLimit)
	// with a unit, e.g. "512MiB" or "1GiB"; "off" sets none. The standard
	// GOMEMLIMIT environment variable, when set, wins.
	MemoryLimit string `yaml:"memory_limit" env:"MEMORY_LIMIT"`

	Log           Log           `yaml:"log"`
	Secrets       Secrets       `yaml:"secrets"`
	OAuth         OAuth         `yaml:"oauth"`
	SignIn        SignIn        `yaml:"signin"`
	DataAPI       DataAPI       `yaml:"dataapi"`
	Exports       Exports       `yaml:"exports"`
	Notifications Notifications `yaml:"notifications"`
	HTTP          HTTP          `yaml:"http"`
	Metrics       Metrics       `yaml:"metrics"`
	Branding      Branding      `yaml:"branding"`
	UI            UI            `yaml:"ui"`
	TLS           TLS           `yaml:"tls"`
}

// TLS configures HTTPS served by bankfeed itself and mutual TLS (RFC 8705;
// README "Mutual TLS"): either bankfeed terminates TLS (Cert, Key) and asks
// for client certificates (ClientCA), or a reverse proxy does and forwards
// the client certificate in ClientCertHeader, believed only from
// TrustedProxies.
type TLS struct {
	// Cert and Key are PEM files of the server's certificate (chain) and
	// key; both or neither.
	Cert string `yaml:"cert" env:"TLS_CERT"`
	Key  string `yaml:"key" env:"TLS_KEY"`
	// ClientCA is a PEM file of the CAs that issue tls_client_auth clients'
	// certificates. With Cert, serve asks every connection for a client
	// certificate (without requiring one).
	ClientCA string `yaml:"client_ca" env:"TLS_CLIENT_CA"`
	// ClientCertHeader names the header in which a TLS-terminating proxy
	// forwards the client certificate (URL-encoded PEM, as nginx's
	// $ssl_client_escaped_cert, or base64 DER).
	ClientCertHeader string `yaml:"client_cert_header" env:"TLS_CLIENT_CERT_HEADER"`
	// TrustedProxies are the IPs or CIDRs whose ClientCertHeader is believed.
	TrustedProxies []string `yaml:"trusted_proxies" env:"TLS_TRUSTED_PROXIES"`
	// MTLSBaseURL is the https base URL of the mTLS endpoints when they are
	// served at another origin than the issuer (mtls_endpoint_aliases).
	MTLSBaseURL string `yaml:"mtls_base_url" env:"TLS_MTLS_BASE_URL"`
}

// MTLS reports whether clients can present certificates: bankfeed asks for
// them, or a proxy forwards them.
func (t TLS) MTLS() bool { return (t.Cert != "" && t.ClientCA != "") || t.ClientCertHeader != "" }

// Log configures log/slog output.
type Log struct {
	Format string `yaml:"format" env:"LOG_FORMAT"` // text or json
	Level  string `yaml:"level" env:"LOG_LEVEL"`   // debug, info, warn or error
}

// Secrets are the keys every replica must share. With embedded SQLite they
// may be left empty: EnsureSecrets generates them once into DataDir.
type Secrets struct {
	// KeyEncryptionKey is a base64-encoded 32-byte AES-256 key that encrypts
	// the private parts of signing keys at rest.
	KeyEncryptionKey     string `yaml:"key_encryption_key" env:"KEY_ENCRYPTION_KEY" secret:"true"`
	KeyEncryptionKeyFile string `yaml:"key_encryption_key_file" env:"KEY_ENCRYPTION_KEY_FILE"`
	// TokenSecret is the HMAC secret (at least 32 bytes) for opaque tokens.
	TokenSecret     string `yaml:"token_secret" env:"TOKEN_SECRET" secret:"true"`
	TokenSecretFile string `yaml:"token_secret_file" env:"TOKEN_SECRET_FILE"`
}

// OAuth configures the authorization server.
type OAuth struct {
	AccessTokenLifespan   time.Duration `yaml:"access_token_lifespan" env:"OAUTH_ACCESS_TOKEN_LIFESPAN"`
	RefreshTokenLifespan  time.Duration `yaml:"refresh_token_lifespan" env:"OAUTH_REFRESH_TOKEN_LIFESPAN"`
	IDTokenLifespan       time.Duration `yaml:"id_token_lifespan" env:"OAUTH_ID_TOKEN_LIFESPAN"`
	AuthorizeCodeLifespan time.Duration `yaml:"authorize_code_lifespan" env:"OAUTH_AUTHORIZE_CODE_LIFESPAN"`
	PARLifespan           time.Duration `yaml:"par_lifespan" env:"OAUTH_PAR_LIFESPAN"`
	// RefreshGracePeriod is how long an already-rotated refresh token may be
	// replayed (a network retry) before reuse revokes the whole family.
	RefreshGracePeriod time.Duration `yaml:"refresh_grace_period" env:"OAUTH_REFRESH_GRACE_PERIOD"`
	// ConsentLifespan bounds a consent; 0 keeps it until revoked.
	ConsentLifespan time.Duration `yaml:"consent_lifespan" env:"OAUTH_CONSENT_LIFESPAN"`
	// TokenFormat is opaque (HMAC) or jwt (RFC 9068) for access tokens.
	TokenFormat string `yaml:"token_format" env:"OAUTH_TOKEN_FORMAT"`
	// RequirePAR makes pushed authorization requests mandatory for every client.
	RequirePAR bool `yaml:"require_par" env:"OAUTH_REQUIRE_PAR"`
	// Profile is "default" or "fapi2": the FAPI 2.0 Security Profile
	// enforced on every third-party client (README "FAPI 2.0 profile").
	Profile string `yaml:"profile" env:"OAUTH_PROFILE"`
	// DPoP configures sender-constrained tokens (RFC 9449).
	DPoP DPoP `yaml:"dpop"`
}

// DPoP configures the checking of DPoP proofs.
type DPoP struct {
	// IATWindow is how old a proof may be (its iat); proofs more than 10 s
	// in the future are refused too.
	IATWindow time.Duration `yaml:"iat_window" env:"OAUTH_DPOP_IAT_WINDOW"`
	// NonceRequired makes every proof carry a server nonce (DPoP-Nonce).
	NonceRequired bool `yaml:"nonce_required" env:"OAUTH_DPOP_NONCE_REQUIRED"`
}

// SignIn configures the bank's sign-in pages.
type SignIn struct {
	MaxFailedAttempts int           `yaml:"max_failed_attempts" env:"SIGNIN_MAX_FAILED_ATTEMPTS"`
	LockoutDuration   time.Duration `yaml:"lockout_duration" env:"SIGNIN_LOCKOUT_DURATION"`
	SessionLifespan   time.Duration `yaml:"session_lifespan" env:"SIGNIN_SESSION_LIFESPAN"`
	// MaxConcurrentHashes bounds the argon2id computations (64 MiB each) the
	// process runs at once; 0: the number of CPUs, at least 2.
	MaxConcurrentHashes int `yaml:"max_concurrent_hashes" env:"SIGNIN_MAX_CONCURRENT_HASHES"`
	// HashQueue is how many sign-ins may wait for a hashing slot, at most
	// HashQueueTimeout; beyond, 503 with Retry-After. 0: twice the slots.
	HashQueue        int           `yaml:"hash_queue" env:"SIGNIN_HASH_QUEUE"`
	HashQueueTimeout time.Duration `yaml:"hash_queue_timeout" env:"SIGNIN_HASH_QUEUE_TIMEOUT"`
	// RateLimitPerAddress and RateLimitPerLoginID are sign-in attempts per
	// minute per client address and per typed login ID, in each replica;
	// beyond, 429 with Retry-After. 0 disables a limit.
	RateLimitPerAddress int `yaml:"rate_limit_per_address" env:"SIGNIN_RATE_LIMIT_PER_ADDRESS"`
	RateLimitPerLoginID int `yaml:"rate_limit_per_login_id" env:"SIGNIN_RATE_LIMIT_PER_LOGIN_ID"`
}

// DataAPI configures the read-only data API and its exports.
type DataAPI struct {
	// RateLimitPerMinute is the per-client request budget; 0 disables it.
	RateLimitPerMinute int `yaml:"rate_limit_per_minute" env:"DATAAPI_RATE_LIMIT_PER_MINUTE"`
	// MaxExportDays is the longest date range one export may cover.
	MaxExportDays int `yaml:"max_export_days" env:"DATAAPI_MAX_EXPORT_DAYS"`
}

// Exports names the bank in statement files.
type Exports struct {
	// QBOIntuBID is the Intuit bank ID written as INTU.BID in QBO/QFX files.
	QBOIntuBID string `yaml:"qbo_intu_bid" env:"EXPORTS_QBO_INTU_BID"`
	BankName   string `yaml:"bank_name" env:"EXPORTS_BANK_NAME"`
	// BankID is the routing number (OFX BANKID, BAI2 originator).
	BankID string `yaml:"bank_id" env:"EXPORTS_BANK_ID"`
	// BIC identifies the bank in camt.053 and MT940.
	BIC string `yaml:"bic" env:"EXPORTS_BIC"`
}

// Notifications configures optional delivery of notifications; empty
// settings deliver nothing outside the API.
type Notifications struct {
	WebhookURL string `yaml:"webhook_url" env:"NOTIFICATIONS_WEBHOOK_URL"`
	// WebhookSecret signs webhook deliveries (Standard Webhooks): "whsec_"
	// and the base64 of 24 to 64 random bytes; required with WebhookURL.
	WebhookSecret     string `yaml:"webhook_secret" env:"NOTIFICATIONS_WEBHOOK_SECRET" secret:"true"`
	WebhookSecretFile string `yaml:"webhook_secret_file" env:"NOTIFICATIONS_WEBHOOK_SECRET_FILE"`
	SMTPAddr          string `yaml:"smtp_addr" env:"NOTIFICATIONS_SMTP_ADDR"`
	SMTPFrom          string `yaml:"smtp_from" env:"NOTIFICATIONS_SMTP_FROM"`
	SMTPUsername      string `yaml:"smtp_username" env:"NOTIFICATIONS_SMTP_USERNAME"`
	SMTPPassword      string `yaml:"smtp_password" env:"NOTIFICATIONS_SMTP_PASSWORD" secret:"true"`
	SMTPPasswordFile  string `yaml:"smtp_password_file" env:"NOTIFICATIONS_SMTP_PASSWORD_FILE"`
	// SMTPTLS is starttls (required STARTTLS), tls (implicit TLS, port 465)
	// or none (plain text: only to a server on a loopback address).
	SMTPTLS string `yaml:"smtp_tls" env:"NOTIFICATIONS_SMTP_TLS"`
	// A failed delivery is retried after RetryInitial, doubling up to
	// RetryMax (with jitter), until MaxAttempts attempts; then it is dead.
	MaxAttempts  int           `yaml:"max_attempts" env:"NOTIFICATIONS_MAX_ATTEMPTS"`
	RetryInitial time.Duration `yaml:"retry_initial" env:"NOTIFICATIONS_RETRY_INITIAL"`
	RetryMax     time.Duration `yaml:"retry_max" env:"NOTIFICATIONS_RETRY_MAX"`
	// DeliveredRetention is how long delivered outbox deliveries are kept
	// before the janitor deletes them; 0 keeps them forever. Pending and
	// dead deliveries are never deleted.
	DeliveredRetention time.Duration `yaml:"delivered_retention" env:"NOTIFICATIONS_DELIVERED_RETENTION"`
}

// HTTP configures the HTTP server.
type HTTP struct {
	// BodyLimit caps request bodies, e.g. "1M", "512K".
	BodyLimit         string        `yaml:"body_limit" env:"HTTP_BODY_LIMIT"`
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout" env:"HTTP_READ_HEADER_TIMEOUT"`
	ReadTimeout       time.Duration `yaml:"read_timeout" env:"HTTP_READ_TIMEOUT"`
	// WriteTimeout is 0 (none) by default so long exports can stream.
	WriteTimeout    time.Duration `yaml:"write_timeout" env:"HTTP_WRITE_TIMEOUT"`
	IdleTimeout     time.Duration `yaml:"idle_timeout" env:"HTTP_IDLE_TIMEOUT"`
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout" env:"HTTP_SHUTDOWN_TIMEOUT"`
	// MaxHeaderBytes caps request headers (net/http's default is 1 MiB).
	MaxHeaderBytes int `yaml:"max_header_bytes" env:"HTTP_MAX_HEADER_BYTES"`
	// MaxActiveRequests bounds the requests of the busiest routes (the
	// OAuth endpoints, the consent page, the data API's reads) at work at
	// once; the others wait in arrival order (package admission). 0: four
	// per CPU (GOMAXPROCS); -1: no bound.
	MaxActiveRequests int `yaml:"max_active_requests" env:"HTTP_MAX_ACTIVE_REQUESTS"`
	// MaxActiveIntrospections bounds the introspection requests at work
	// at once, in a gate of their own: their reads are batched, one
	// statement at a time, so more at once make bigger batches rather than
	// more database backends. 0: 64 per CPU; -1: no bound. Their line
	// holds MaxWaitingRequests (0: 4 per slot, as many as the shared
	// line's at the defaults) for MaxWait.
	MaxActiveIntrospections int `yaml:"max_active_introspections" env:"HTTP_MAX_ACTIVE_INTROSPECTIONS"`
	// MaxWaitingRequests bounds how many of them wait at once, and MaxWait
	// how long each waits; a request beyond either gets 503 with
	// Retry-After at once. 0: 64 per active request (4 per slot in
	// introspection's gate); -1: no bound. Each gate has a line of its own.
	MaxWaitingRequests int           `yaml:"max_waiting_requests" env:"HTTP_MAX_WAITING_REQUESTS"`
	MaxWait            time.Duration `yaml:"max_wait" env:"HTTP_MAX_WAIT"`
}

// Metrics configures the internal listener of Prometheus metrics and
// profiling; it is off unless Addr is set, and never the public address.
type Metrics struct {
	// Addr is the internal listen address of GET /metrics, e.g.
	// 127.0.0.1:9090; empty: no listener.
	Addr string `yaml:"addr" env:"METRICS_ADDR"`
	// Pprof serves net/http/pprof under /debug/pprof/ on that listener.
	Pprof bool `yaml:"pprof" env:"METRICS_PPROF"`
}

// Default is a configuration that runs with zero set-up: embedded SQLite in
// ./data, plain HTTP on localhost.
func Default() Config {
	return Config{
		Addr:           ":8080",
		DataDir:        "./data",
		Issuer:         "http://localhost:8080",
		MigrateOnStart: true,
		MemoryLimit:    "512MiB",
		Log:            Log{Format: "text", Level: "info"},
		OAuth: OAuth{
			AccessTokenLifespan:   10 * time.Minute,
			RefreshTokenLifespan:  720 * time.Hour,
			IDTokenLifespan:       time.Hour,
			AuthorizeCodeLifespan: 60 * time.Second,
			PARLifespan:           90 * time.Second,
			RefreshGracePeriod:    30 * time.Second,
			TokenFormat:           TokenFormatOpaque,
			Profile:               OAuthProfileDefault,
			DPoP:                  DPoP{IATWindow: 60 * time.Second},
		},
		SignIn: SignIn{
			MaxFailedAttempts: 5,
			LockoutDuration:   15 * time.Minute,
			SessionLifespan:   30 * time.Minute,
			HashQueueTimeout:  2 * time.Second,

			RateLimitPerAddress: 30,
			RateLimitPerLoginID: 10,
		},
		DataAPI: DataAPI{RateLimitPerMinute: 600, MaxExportDays: 366},
		Notifications: Notifications{
			SMTPTLS: "starttls", MaxAttempts: 12, RetryInitial: 30 * time.Second, RetryMax: time.Hour,
			DeliveredRetention: 720 * time.Hour,
		},
		Exports: Exports{
			QBOIntuBID: "3000",
			BankName:   "Bankfeed Demo Bank",
			BankID:     "000000000",
			BIC:        "BKFDCATT",
		},
		HTTP: HTTP{
			BodyLimit:         "1M",
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       30 * time.Second,
			IdleTimeout:       2 * time.Minute,
			ShutdownTimeout:   15 * time.Second,
			MaxHeaderBytes:    64 << 10,
			MaxWait:           5 * time.Second,
		},
	}
}

// Access token formats.
const (
	TokenFormatOpaque = "opaque"
	TokenFormatJWT    = "jwt"
)

// OAuth profiles (oauth.profile).
const (
	OAuthProfileDefault = "default"
	OAuthProfileFAPI2   = "fapi2"
)

// EnvPrefix starts every environment variable bankfeed reads.
const EnvPrefix = "BANKFEED_"

// DatabaseFile is the SQLite file name used in DataDir by default.
const DatabaseFile = "bankfeed.db"

// IsPostgres reports whether DatabaseURL names a PostgreSQL server.
func (c Config) IsPostgres() bool {
	u := strings.ToLower(c.DatabaseURL)
	return strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://")
}

// DSN is the database to open: DatabaseURL, or the SQLite file in DataDir.
func (c Config) DSN() string {
	if c.DatabaseURL != "" {
		return c.DatabaseURL
	}
	return filepath.Join(c.DataDir, DatabaseFile)
}

// RedactedDSN is DSN without a password, for messages and logs.
func (c Config) RedactedDSN() string {
	dsn := c.DSN()
	if !c.IsPostgres() {
		return dsn
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "postgres://(unparsable DSN)"
	}
	return u.Redacted()
}

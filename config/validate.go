package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Validate checks every setting and reports all problems at once, one line
// each, naming the setting by its environment variable.
func (c Config) Validate() error {
	var errs []error
	check := func(bad bool, format string, args ...any) {
		if bad {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	between := func(name string, d, lo, hi time.Duration) {
		check(d < lo || d > hi, "%s%s: %s is out of range [%s, %s]", EnvPrefix, name,
			formatDuration(d), formatDuration(lo), formatDuration(hi))
	}

	if err := checkAddr(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("%sADDR: %w", EnvPrefix, err))
	}
	check(c.DataDir == "", "%sDATA_DIR: must not be empty", EnvPrefix)
	if c.IsPostgres() {
		u, err := url.Parse(c.DatabaseURL)
		// A host, or libpq's host= parameter (a Unix socket directory:
		// postgres:///bankfeed?host=/var/run/postgresql).
		check(err != nil || u.Host == "" && u.Query().Get("host") == "", "%sDATABASE_URL: not a valid postgres:// URL", EnvPrefix)
	} else if strings.Contains(c.DatabaseURL, "://") {
		errs = append(errs, fmt.Errorf("%sDATABASE_URL: unsupported scheme in %q; use postgres:// or a SQLite file path", EnvPrefix, redactURL(c.DatabaseURL)))
	}
	check(c.DatabaseMaxOpenConns < 0, "%sDATABASE_MAX_OPEN_CONNS: must not be negative", EnvPrefix)
	if err := checkIssuer(c.Issuer); err != nil {
		errs = append(errs, fmt.Errorf("%sISSUER: %w", EnvPrefix, err))
	}
	for _, p := range c.TrustedProxies {
		_, errPrefix := netip.ParsePrefix(p)
		_, errAddr := netip.ParseAddr(p)
		check(errPrefix != nil && errAddr != nil, "%sTRUSTED_PROXIES: %q is neither an IP address nor a CIDR", EnvPrefix, p)
	}
	errs = append(errs, c.TLS.validate()...)

	check(c.Log.Format != "text" && c.Log.Format != "json", "%sLOG_FORMAT: %q is not text or json", EnvPrefix, c.Log.Format)
	switch strings.ToLower(c.Log.Level) {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("%sLOG_LEVEL: %q is not debug, info, warn or error", EnvPrefix, c.Log.Level))
	}

	// Secrets: replicas on PostgreSQL must share them, so they cannot be
	// generated locally; embedded SQLite gets them from EnsureSecrets.
	if c.Secrets.KeyEncryptionKey == "" {
		check(c.IsPostgres(), "%sKEY_ENCRYPTION_KEY: required with PostgreSQL (every replica must share it); generate one with: openssl rand -base64 32", EnvPrefix)
	} else if _, err := c.Secrets.KeyEncryptionKeyBytes(); err != nil {
		errs = append(errs, fmt.Errorf("%sKEY_ENCRYPTION_KEY: %w", EnvPrefix, err))
	}
	if c.Secrets.TokenSecret == "" {
		check(c.IsPostgres(), "%sTOKEN_SECRET: required with PostgreSQL (every replica must share it); generate one with: openssl rand -base64 48", EnvPrefix)
	} else {
		check(len(c.Secrets.TokenSecret) < 32, "%sTOKEN_SECRET: must be at least 32 bytes, got %d", EnvPrefix, len(c.Secrets.TokenSecret))
	}

	o := c.OAuth
	between("OAUTH_ACCESS_TOKEN_LIFESPAN", o.AccessTokenLifespan, time.Minute, 24*time.Hour)
	between("OAUTH_REFRESH_TOKEN_LIFESPAN", o.RefreshTokenLifespan, time.Hour, 365*24*time.Hour)
	check(o.RefreshTokenLifespan < o.AccessTokenLifespan, "%sOAUTH_REFRESH_TOKEN_LIFESPAN: must not be shorter than the access token lifespan", EnvPrefix)
	between("OAUTH_ID_TOKEN_LIFESPAN", o.IDTokenLifespan, time.Minute, 24*time.Hour)
	between("OAUTH_AUTHORIZE_CODE_LIFESPAN", o.AuthorizeCodeLifespan, 10*time.Second, 10*time.Minute)
	// RFC 9126 recommends a short-lived request_uri; the issue caps it below 600 s.
	between("OAUTH_PAR_LIFESPAN", o.PARLifespan, 10*time.Second, 599*time.Second)
	between("OAUTH_REFRESH_GRACE_PERIOD", o.RefreshGracePeriod, 0, 5*time.Minute)
	check(o.ConsentLifespan < 0, "%sOAUTH_CONSENT_LIFESPAN: must not be negative (0 keeps a consent until revoked)", EnvPrefix)
	between("OAUTH_DPOP_IAT_WINDOW", o.DPoP.IATWindow, 5*time.Second, 5*time.Minute)
	check(o.TokenFormat != TokenFormatOpaque && o.TokenFormat != TokenFormatJWT,
		"%sOAUTH_TOKEN_FORMAT: %q is not opaque or jwt", EnvPrefix, o.TokenFormat)
	check(o.Profile != OAuthProfileDefault && o.Profile != OAuthProfileFAPI2,
		"%sOAUTH_PROFILE: %q is not default or fapi2", EnvPrefix, o.Profile)

	check(c.SignIn.MaxFailedAttempts < 1 || c.SignIn.MaxFailedAttempts > 100,
		"%sSIGNIN_MAX_FAILED_ATTEMPTS: %d is out of range [1, 100]", EnvPrefix, c.SignIn.MaxFailedAttempts)
	between("SIGNIN_LOCKOUT_DURATION", c.SignIn.LockoutDuration, time.Second, 30*24*time.Hour)
	between("SIGNIN_SESSION_LIFESPAN", c.SignIn.SessionLifespan, time.Minute, 24*time.Hour)
	check(c.SignIn.MaxConcurrentHashes < 0 || c.SignIn.MaxConcurrentHashes > 1024,
		"%sSIGNIN_MAX_CONCURRENT_HASHES: %d is out of range [0, 1024] (0: the number of CPUs)", EnvPrefix, c.SignIn.MaxConcurrentHashes)
	check(c.SignIn.HashQueue < 0 || c.SignIn.HashQueue > 100000,
		"%sSIGNIN_HASH_QUEUE: %d is out of range [0, 100000] (0: twice the hashing slots)", EnvPrefix, c.SignIn.HashQueue)
	between("SIGNIN_HASH_QUEUE_TIMEOUT", c.SignIn.HashQueueTimeout, 10*time.Millisecond, time.Minute)
	check(c.SignIn.RateLimitPerAddress < 0, "%sSIGNIN_RATE_LIMIT_PER_ADDRESS: must not be negative (0 disables the limit)", EnvPrefix)
	check(c.SignIn.RateLimitPerLoginID < 0, "%sSIGNIN_RATE_LIMIT_PER_LOGIN_ID: must not be negative (0 disables the limit)", EnvPrefix)
	if _, err := ParseMemoryLimit(c.MemoryLimit); err != nil {
		errs = append(errs, fmt.Errorf("%sMEMORY_LIMIT: %w", EnvPrefix, err))
	}

	check(c.DataAPI.RateLimitPerMinute < 0, "%sDATAAPI_RATE_LIMIT_PER_MINUTE: must not be negative (0 disables the limit)", EnvPrefix)
	check(c.DataAPI.MaxExportDays < 1 || c.DataAPI.MaxExportDays > 3660,
		"%sDATAAPI_MAX_EXPORT_DAYS: %d is out of range [1, 3660]", EnvPrefix, c.DataAPI.MaxExportDays)

	check(!regexp.MustCompile(`^[0-9]{4,5}$`).MatchString(c.Exports.QBOIntuBID),
		"%sEXPORTS_QBO_INTU_BID: %q is not a 4- or 5-digit Intuit bank ID", EnvPrefix, c.Exports.QBOIntuBID)
	check(strings.TrimSpace(c.Exports.BankName) == "", "%sEXPORTS_BANK_NAME: must not be empty", EnvPrefix)
	check(!regexp.MustCompile(`^[0-9]{1,9}$`).MatchString(c.Exports.BankID),
		"%sEXPORTS_BANK_ID: %q is not a routing number of up to 9 digits", EnvPrefix, c.Exports.BankID)
	check(!regexp.MustCompile(`^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$`).MatchString(c.Exports.BIC),
		"%sEXPORTS_BIC: %q is not an 8- or 11-character BIC", EnvPrefix, c.Exports.BIC)

	if w := c.Notifications.WebhookURL; w != "" {
		u, err := url.Parse(w)
		check(err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "",
			"%sNOTIFICATIONS_WEBHOOK_URL: not an absolute http(s) URL", EnvPrefix)
		check(!webhookSecretOK(c.Notifications.WebhookSecret),
			"%sNOTIFICATIONS_WEBHOOK_SECRET: required with NOTIFICATIONS_WEBHOOK_URL: whsec_ and the base64 of 24 to 64 random bytes", EnvPrefix)
	}
	if a := c.Notifications.SMTPAddr; a != "" {
		if err := checkAddr(a); err != nil {
			errs = append(errs, fmt.Errorf("%sNOTIFICATIONS_SMTP_ADDR: %w", EnvPrefix, err))
		}
		check(c.Notifications.SMTPFrom == "", "%sNOTIFICATIONS_SMTP_FROM: required when NOTIFICATIONS_SMTP_ADDR is set", EnvPrefix)
		switch c.Notifications.SMTPTLS {
		case "starttls", "tls":
		case "none":
			host, _, _ := net.SplitHostPort(a)
			ip := net.ParseIP(host)
			check(host != "localhost" && (ip == nil || !ip.IsLoopback()),
				"%sNOTIFICATIONS_SMTP_TLS: none only for an SMTP server on a loopback address", EnvPrefix)
		default:
			check(true, "%sNOTIFICATIONS_SMTP_TLS: %q is not starttls, tls or none", EnvPrefix, c.Notifications.SMTPTLS)
		}
	}
	check(c.Notifications.MaxAttempts < 1, "%sNOTIFICATIONS_MAX_ATTEMPTS: must be at least 1", EnvPrefix)
	check(c.Notifications.RetryInitial <= 0 || c.Notifications.RetryMax < c.Notifications.RetryInitial,
		"%sNOTIFICATIONS_RETRY_INITIAL and _RETRY_MAX: positive, and the maximum at least the initial", EnvPrefix)
	check(c.Notifications.DeliveredRetention < 0,
		"%sNOTIFICATIONS_DELIVERED_RETENTION: must not be negative (0 keeps delivered notifications forever)", EnvPrefix)

	if a := c.Metrics.Addr; a != "" {
		if err := checkAddr(a); err != nil {
			errs = append(errs, fmt.Errorf("%sMETRICS_ADDR: %w", EnvPrefix, err))
		}
		check(sameListener(a, c.Addr), "%sMETRICS_ADDR: %q is the public address %q; metrics and pprof belong on an internal one (e.g. 127.0.0.1:9090)", EnvPrefix, a, c.Addr)
	}
	check(c.Metrics.Pprof && c.Metrics.Addr == "", "%sMETRICS_PPROF: needs METRICS_ADDR, the internal listener pprof is served on", EnvPrefix)

	if _, err := ParseBodyLimit(c.HTTP.BodyLimit); err != nil {
		errs = append(errs, fmt.Errorf("%sHTTP_BODY_LIMIT: %w", EnvPrefix, err))
	}
	between("HTTP_READ_HEADER_TIMEOUT", c.HTTP.ReadHeaderTimeout, time.Second, 5*time.Minute)
	check(c.HTTP.ReadTimeout < 0, "%sHTTP_READ_TIMEOUT: must not be negative (0: none)", EnvPrefix)
	check(c.HTTP.WriteTimeout < 0, "%sHTTP_WRITE_TIMEOUT: must not be negative (0: none)", EnvPrefix)
	check(c.HTTP.IdleTimeout < 0, "%sHTTP_IDLE_TIMEOUT: must not be negative (0: none)", EnvPrefix)
	check(c.HTTP.MaxHeaderBytes < 4<<10 || c.HTTP.MaxHeaderBytes > 1<<20,
		"%sHTTP_MAX_HEADER_BYTES: %d is out of range [4096, 1048576]", EnvPrefix, c.HTTP.MaxHeaderBytes)
	check(c.HTTP.MaxActiveRequests < -1 || c.HTTP.MaxActiveRequests > 100000,
		"%sHTTP_MAX_ACTIVE_REQUESTS: %d is out of range [-1, 100000] (0: four per CPU, -1: no bound)", EnvPrefix, c.HTTP.MaxActiveRequests)
	check(c.HTTP.MaxActiveIntrospections < -1 || c.HTTP.MaxActiveIntrospections > 100000,
		"%sHTTP_MAX_ACTIVE_INTROSPECTIONS: %d is out of range [-1, 100000] (0: 64 per CPU, -1: no bound)", EnvPrefix, c.HTTP.MaxActiveIntrospections)
	check(c.HTTP.MaxWaitingRequests < -1 || c.HTTP.MaxWaitingRequests > 1000000,
		"%sHTTP_MAX_WAITING_REQUESTS: %d is out of range [-1, 1000000] (0: 64 per active request, 4 per introspection slot; -1: no bound)", EnvPrefix, c.HTTP.MaxWaitingRequests)
	between("HTTP_MAX_WAIT", c.HTTP.MaxWait, 10*time.Millisecond, time.Minute)
	between("HTTP_SHUTDOWN_TIMEOUT", c.HTTP.ShutdownTimeout, time.Second, 10*time.Minute)
	errs = append(errs, c.Branding.validate()...)

	if len(errs) > 0 {
		return &ValidationError{Problems: withKeys(errs)}
	}
	return nil
}

// withKeys adds the YAML key to each problem that starts with an environment
// variable, so a problem is findable whichever way the setting was given.
func withKeys(errs []error) []error {
	keys := map[string]string{}
	for _, f := range Fields(Config{}) {
		keys[f.Env] = f.Key
	}
	out := make([]error, len(errs))
	for i, err := range errs {
		out[i] = err
		env, _, ok := strings.Cut(err.Error(), ":")
		if key, known := keys[env]; ok && known {
			out[i] = &problem{setting: key + " (" + env + ")", err: err}
		}
	}
	return out
}

// problem is one Validate finding about a named setting.
type problem struct {
	setting string
	err     error
}

func (p *problem) Error() string {
	_, msg, _ := strings.Cut(p.err.Error(), ": ")
	return p.setting + ": " + msg
}

func (p *problem) Unwrap() error { return p.err }

// ValidationError lists every problem Validate found.
type ValidationError struct {
	Problems []error
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "invalid configuration (%d problem", len(e.Problems))
	if len(e.Problems) != 1 {
		b.WriteString("s")
	}
	b.WriteString("):")
	for _, p := range e.Problems {
		b.WriteString("\n  - ")
		b.WriteString(p.Error())
	}
	return b.String()
}

// Unwrap lets errors.Is/As see each problem.
func (e *ValidationError) Unwrap() []error { return e.Problems }

// KeyEncryptionKeyBytes decodes KeyEncryptionKey (standard or URL-safe
// base64, padded or not) and checks it is 32 bytes.
func (s Secrets) KeyEncryptionKeyBytes() ([]byte, error) {
	k := strings.TrimSpace(s.KeyEncryptionKey)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(k); err == nil {
			if len(b) != 32 {
				return nil, fmt.Errorf("must decode to 32 bytes (AES-256), got %d", len(b))
			}
			return b, nil
		}
	}
	return nil, errors.New("is not base64; generate one with: openssl rand -base64 32")
}

func checkAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port (e.g. :8080 or 127.0.0.1:8080)", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%q has an invalid port", addr)
	}
	_ = host // any host name or IP; the listener reports what it cannot bind
	return nil
}

// sameListener reports whether two listen addresses would take the same
// port: equal ports (not 0, which picks a free one) on equal hosts or where
// either is every interface.
func sameListener(a, b string) bool {
	ha, pa, errA := net.SplitHostPort(a)
	hb, pb, errB := net.SplitHostPort(b)
	if errA != nil || errB != nil || pa != pb || pa == "0" {
		return false
	}
	wildcard := func(h string) bool { return h == "" || h == "0.0.0.0" || h == "::" }
	return ha == hb || wildcard(ha) || wildcard(hb)
}

func checkIssuer(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil || !u.IsAbs() || u.Host == "":
		return fmt.Errorf("%q is not an absolute URL", s)
	case u.Scheme != "https" && u.Scheme != "http":
		return fmt.Errorf("%q must use https", s)
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		return fmt.Errorf("%q must use https (plain http is only for localhost)", s)
	case u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("%q must not have a query or fragment (OpenID Connect Discovery §3)", s)
	case strings.HasSuffix(u.Path, "/"):
		return fmt.Errorf("%q must not end with /", s)
	case u.User != nil:
		return fmt.Errorf("%q must not contain user information", redactURL(s))
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// ParseBodyLimit reads a size such as "1M", "512K", "2MB" or "1048576" in
// bytes (K, M, G are powers of 1024, as echo's BodyLimit reads them).
func ParseBodyLimit(s string) (int64, error) {
	m := regexp.MustCompile(`^([0-9]+)([KMG]?)B?$`).FindStringSubmatch(strings.ToUpper(strings.TrimSpace(s)))
	if m == nil {
		return 0, fmt.Errorf("%q is not a size such as 512K or 1M", s)
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is too large", s)
	}
	shift := map[string]uint{"": 0, "K": 10, "M": 20, "G": 30}[m[2]]
	if n <= 0 || n > (1<<40)>>shift {
		return 0, fmt.Errorf("%q is out of range (1 byte to 1T)", s)
	}
	return n << shift, nil
}

// ParseMemoryLimit reads memory_limit: a number of bytes with a unit B,
// KiB, MiB, GiB or TiB (GOMEMLIMIT's syntax), at least 64MiB, or "off"
// (returns 0: no limit).
func ParseMemoryLimit(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "off" {
		return 0, nil
	}
	m := regexp.MustCompile(`^([0-9]+)(B|KiB|MiB|GiB|TiB)$`).FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("%q is not a size such as 512MiB or 1GiB, nor off", s)
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	shift := map[string]uint{"B": 0, "KiB": 10, "MiB": 20, "GiB": 30, "TiB": 40}[m[2]]
	if err != nil || n > (1<<50)>>shift {
		return 0, fmt.Errorf("%q is too large", s)
	}
	if n<<shift < 64<<20 {
		return 0, fmt.Errorf("%q is below 64MiB, too little for one password hash", s)
	}
	return n << shift, nil
}

// webhookSecretOK: a Standard Webhooks secret, "whsec_" and the base64 of
// 24 to 64 bytes.
func webhookSecretOK(s string) bool {
	b64, ok := strings.CutPrefix(s, "whsec_")
	if !ok {
		return false
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	return err == nil && len(key) >= 24 && len(key) <= 64
}

// validate checks the TLS settings (README "Mutual TLS").
func (t TLS) validate() []error {
	var errs []error
	check := func(bad bool, format string, args ...any) {
		if bad {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check((t.Cert == "") != (t.Key == ""), "%sTLS_CERT and %sTLS_KEY: set both or neither", EnvPrefix, EnvPrefix)
	check(t.ClientCA != "" && t.Cert == "" && t.ClientCertHeader == "",
		"%sTLS_CLIENT_CA: needs %sTLS_CERT (bankfeed asks for client certificates) or %sTLS_CLIENT_CERT_HEADER (a proxy forwards them)", EnvPrefix, EnvPrefix, EnvPrefix)
	check(t.ClientCertHeader != "" && len(t.TrustedProxies) == 0,
		"%sTLS_CLIENT_CERT_HEADER: needs %sTLS_TRUSTED_PROXIES, the proxies whose header is believed", EnvPrefix, EnvPrefix)
	check(t.ClientCertHeader != "" && !validHeaderName(t.ClientCertHeader), "%sTLS_CLIENT_CERT_HEADER: %q is not a header name", EnvPrefix, t.ClientCertHeader)
	for _, p := range t.TrustedProxies {
		_, errPrefix := netip.ParsePrefix(p)
		_, errAddr := netip.ParseAddr(p)
		check(errPrefix != nil && errAddr != nil, "%sTLS_TRUSTED_PROXIES: %q is neither an IP address nor a CIDR", EnvPrefix, p)
	}
	if t.MTLSBaseURL != "" {
		u, err := url.Parse(t.MTLSBaseURL)
		check(err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "",
			"%sTLS_MTLS_BASE_URL: must be an https URL without query or fragment", EnvPrefix)
		check(!t.MTLS(), "%sTLS_MTLS_BASE_URL: needs mutual TLS (%sTLS_CLIENT_CA with %sTLS_CERT, or %sTLS_CLIENT_CERT_HEADER)", EnvPrefix, EnvPrefix, EnvPrefix, EnvPrefix)
	}
	return errs
}

func validHeaderName(h string) bool {
	for _, r := range h {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return h != ""
}

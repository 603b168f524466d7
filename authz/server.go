package authz

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/token/jwt"

	"github.com/bankfeed/bankfeed/authz/dpop"
	"github.com/bankfeed/bankfeed/internal/admission"
	"github.com/bankfeed/bankfeed/metrics"
	"github.com/bankfeed/bankfeed/store"
)

// Config configures the authorization server. Zero durations take the
// documented defaults.
type Config struct {
	Store  store.Store
	Issuer string // e.g. https://bank.example; no trailing slash
	Logger *slog.Logger
	Now    func() time.Time

	// TokenSecret (≥ 32 bytes) is the HMAC key of opaque codes and tokens.
	TokenSecret []byte
	// KeyEncryptionKey (32 bytes) encrypts private signing keys and stored
	// token sessions (AES-256-GCM).
	KeyEncryptionKey []byte

	AccessTokenLifespan   time.Duration // default 10 min
	IDTokenLifespan       time.Duration // default 1 h
	RefreshTokenLifespan  time.Duration // default 90 days
	RefreshGracePeriod    time.Duration // default 30 s; negative: none; at most 5 min
	AuthorizeCodeLifespan time.Duration // default and maximum 60 s
	PARLifespan           time.Duration // default 90 s; must be < 600 s

	TokenFormat string // "opaque" (default) or "jwt" (RFC 9068)
	RequirePAR  bool   // every client must use PAR
	LoginURL    string // default Issuer + "/login"
	// SessionCookie names the bank's pages' sign-in session cookie: a
	// browser that carries it starts its flow at ConsentURL (default
	// Issuer + "/consent"), with LoginURL's query, instead of at LoginURL,
	// whose page would only send a signed-in browser on (issue 15: a
	// request and three statements per flow). The consent page judges the
	// session as the sign-in page does and sends the browser to sign in
	// when it does not stand. "" (the default): every flow starts at
	// LoginURL.
	SessionCookie string
	ConsentURL    string
	// ConsentPage, with SessionCookie, answers a reload of the consent
	// page StartConsent showed in an authorization request's response
	// (OAuth 2.0 PAR, RFC 9126 §7.3, allows a pushed request's reuse for
	// it): a pushed request whose flow is at consent already is answered
	// with that flow's page again, as the bank's consent page would answer
	// at ConsentURL with login_challenge (and ui_locales), judging the
	// session as it does, so that only the flow's user gets it. nil: such
	// a request is refused as used.
	ConsentPage func(c echo.Context, challenge, uiLocales string) error
	// StartConsent, with SessionCookie, answers the authorization request
	// of a browser that carries the session cookie with the consent page
	// of its new flow f (of client cl) and stores f itself, at consent for
	// the session's user, with the reads of the page (issue 15: the flow
	// is not stored at sign-in first and then moved; a statement per flow
	// fewer). When the bank's pages would not show the page (no session
	// that stands, a first sign-in to make), it answers and stores nothing
	// (shown false, nil): authz stores f and sends the browser to LoginURL,
	// whose page sends a signed-in browser on. An error with shown false
	// is the store's, nothing answered: store.ErrConflict is f's ID used
	// (a pushed request's reuse, judged as CreateAuthFlow's conflict). nil:
	// authz stores f and redirects to ConsentURL.
	StartConsent func(c echo.Context, f store.AuthFlow, cl store.Client, uiLocales string) (shown bool, err error)
	// ErrorPage shows the customer an authorization error that cannot go
	// back to the client (unknown client, unregistered redirect URI, used
	// request_uri): the bank's page, in the user's language, with the
	// OAuth error code. nil: fosite's JSON.
	ErrorPage func(w http.ResponseWriter, r *http.Request, status int, code string)

	// DPoP configures sender-constrained tokens (RFC 9449).
	DPoP DPoPConfig

	// MTLS configures mutual TLS: client authentication and
	// certificate-bound tokens (RFC 8705, mtls.go).
	MTLS MTLSConfig

	// Profile is ProfileDefault ("" too) or ProfileFAPI2, which enforces
	// the FAPI 2.0 Security Profile on third-party clients (profile.go).
	Profile string

	// Metrics counts token grants and errors; nil: none.
	Metrics *metrics.Metrics

	// Admission, when set, admits the requests of the endpoints that work
	// on the database per call (token, PAR, revocation, userinfo,
	// authorize and its resumption): package admission's gate. Discovery,
	// the JWKS and client registration pass by it. A request the gate
	// turns away gets 503 temporarily_unavailable.
	Admission *admission.Gate

	// IntrospectionAdmission, when set, admits introspection requests, as
	// Admission does the others'. Introspection's reads are batched into
	// one statement at a time (package gormstore's readBatch), so its
	// requests at work at once make bigger batches, not more database
	// backends: Admission's gate, sized for those, held it back (issue 15:
	// twice its slots gave 1.15× the introspections per second, no gate
	// 1.3×).
	IntrospectionAdmission *admission.Gate

	// HTTPClient fetches the key sets of clients registered with a
	// jwks_uri; default: an http.Client with a 10 s timeout.
	HTTPClient *http.Client
}

// Server is the authorization server.
type Server struct {
	cfg      Config
	st       store.Store
	log      *slog.Logger
	now      func() time.Time
	fcfg     *fositeConfig
	provider *fosite.Fosite
	store    *fositeStore
	keys     *keyRing
	hmac     *oauth2.HMACSHAStrategy
	access   oauth2.AccessTokenStrategy
	flowSeal *sealer
	pushed   *pushedRequests
	grants   *grantCache // Verify's decoded token claims
	dpop     *dpop.Checker
	dpopSeen *dpop.Memory // resources' proof jtis, per replica
	// clientKeys: key sets fetched from clients' jwks_uri
	clientKeys *clientKeySets

	assertionAudiences []string
	discovery          []byte // openid-configuration
	asMetadata         []byte // oauth-authorization-server
}

// fositeConfig lets fosite accept the issuer, the token URL and the PAR URL
// as a client assertion's audience (fosite-notes gotcha 8).
type fositeConfig struct {
	*fosite.Config
	tokenURLs []string
}

func (c *fositeConfig) GetTokenURLs(context.Context) []string { return c.tokenURLs }

// Endpoint paths.
const (
	pathAuthorize   = "/oauth2/authorize"
	pathResume      = "/oauth2/authorize/resume"
	pathToken       = "/oauth2/token"
	pathPAR         = "/oauth2/par"
	pathRevoke      = "/oauth2/revoke"
	pathIntrospect  = "/oauth2/introspect"
	pathUserinfo    = "/userinfo"
	pathOIDCConfig  = "/.well-known/openid-configuration"
	pathASMetadata  = "/.well-known/oauth-authorization-server"
	pathJWKS        = "/.well-known/jwks.json"
	parURIPrefix    = "urn:ietf:params:oauth:request_uri:"
	flowLifespan    = 15 * time.Minute // longer than any request_uri lives (pushedRequests)
	maxGracePeriod  = 5 * time.Minute
	maxCodeLifespan = 60 * time.Second
)

// New validates cfg, makes sure a signing key exists and composes fosite
// with only what bankfeed supports.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	recSeal, err := newSealer(cfg.KeyEncryptionKey, "token records")
	if err != nil {
		return nil, err
	}
	flowSeal, err := newSealer(cfg.KeyEncryptionKey, "auth flows")
	if err != nil {
		return nil, err
	}
	pushed, err := newPushedRequests(cfg.KeyEncryptionKey)
	if err != nil {
		return nil, err
	}
	keySeal, err := newKeySealer(cfg.KeyEncryptionKey)
	if err != nil {
		return nil, err
	}
	if err := EnsureSigningKey(ctx, cfg.Store, cfg.KeyEncryptionKey, cfg.Now()); err != nil {
		return nil, err
	}
	s := &Server{
		cfg:      cfg,
		st:       cfg.Store,
		log:      cfg.Logger,
		now:      cfg.Now,
		flowSeal: flowSeal,
		pushed:   pushed,
		grants:   newGrantCache(100_000),
		keys:     &keyRing{st: cfg.Store, seal: keySeal, now: cfg.Now},

		clientKeys: newClientKeySets(cfg.HTTPClient, cfg.Now),
	}
	if _, err := s.keys.get(ctx); err != nil {
		return nil, err
	}
	if err := s.initDPoP(); err != nil {
		return nil, err
	}
	s.assertionAudiences = []string{cfg.Issuer, cfg.Issuer + pathToken, cfg.Issuer + pathPAR, cfg.Issuer + pathIntrospect, cfg.Issuer + pathRevoke}
	if b := cfg.MTLS.BaseURL; b != "" {
		// The mTLS aliases (discovery's mtls_endpoint_aliases) too.
		s.assertionAudiences = append(s.assertionAudiences, b+pathToken, b+pathPAR, b+pathIntrospect, b+pathRevoke)
	}

	fc := &fosite.Config{
		AccessTokenLifespan:             cfg.AccessTokenLifespan,
		RefreshTokenLifespan:            cfg.RefreshTokenLifespan,
		AuthorizeCodeLifespan:           cfg.AuthorizeCodeLifespan,
		IDTokenLifespan:                 cfg.IDTokenLifespan,
		IDTokenIssuer:                   cfg.Issuer,
		AccessTokenIssuer:               cfg.Issuer,
		TokenURL:                        cfg.Issuer + pathToken,
		GlobalSecret:                    cfg.TokenSecret,
		ScopeStrategy:                   fosite.ExactScopeStrategy,
		EnforcePKCE:                     true,
		EnablePKCEPlainChallengeMethod:  false,
		RefreshTokenScopes:              []string{store.ScopeOfflineAccess},
		RedirectSecureChecker:           redirectSecure,
		SendDebugMessagesToClients:      false,
		ClientSecretsHasher:             secretHasher{},
		JWTScopeClaimKey:                jwt.JWTScopeFieldString,
		PushedAuthorizeRequestURIPrefix: parURIPrefix,
		PushedAuthorizeContextLifespan:  cfg.PARLifespan,
		IsPushedAuthorizeEnforced:       cfg.RequirePAR,
		OmitRedirectScopeParam:          false,
		// Set here, not left to fosite: its getters fill a nil strategy in
		// on first use, a data race between concurrent requests.
		AudienceMatchingStrategy: resourceAudienceMatcher(cfg.Issuer),
		JWKSFetcherStrategy:      fosite.NewDefaultJWKSFetcherStrategy(),
	}
	s.fcfg = &fositeConfig{Config: fc, tokenURLs: s.assertionAudiences}
	fc.ClientAuthenticationStrategy = s.profileAuthenticate
	fc.ResponseModeHandlerExtension = &jarmHandler{s: s} // JARM, jarm.go

	s.store = &fositeStore{
		st:          cfg.Store,
		seal:        recSeal,
		now:         cfg.Now,
		grace:       max(cfg.RefreshGracePeriod, 0),
		parLifespan: cfg.PARLifespan,
		pushed:      pushed,
		lifespans: map[fosite.TokenType]time.Duration{
			fosite.AccessToken:   cfg.AccessTokenLifespan,
			fosite.RefreshToken:  cfg.RefreshTokenLifespan,
			fosite.AuthorizeCode: cfg.AuthorizeCodeLifespan,
		},
		decoded: newSigCache[decodedRequest](decodedRequestCacheSize),
	}
	s.provider = fosite.NewOAuth2Provider(s.store, s.fcfg)

	s.hmac = compose.NewOAuth2HMACStrategy(s.fcfg)
	var core oauth2.CoreStrategy = s.hmac
	if cfg.TokenFormat == "jwt" {
		core = compose.NewOAuth2JWTStrategy(s.keys.privateKey, s.hmac, s.fcfg)
	}
	s.access = core
	strategy := &compose.CommonStrategy{
		CoreStrategy:               core,
		OpenIDConnectTokenStrategy: compose.NewOpenIDConnectStrategy(s.keys.privateKey, s.fcfg),
		Signer:                     &jwt.DefaultSigner{GetPrivateKey: s.keys.privateKey},
	}
	// Only what we support: no implicit, hybrid, password or JWT-bearer grant.
	for _, factory := range []compose.Factory{
		compose.OAuth2AuthorizeExplicitFactory,
		compose.OAuth2ClientCredentialsGrantFactory,
		compose.OAuth2RefreshTokenGrantFactory,
		compose.OpenIDConnectExplicitFactory,
		compose.OpenIDConnectRefreshFactory,
		compose.OAuth2TokenIntrospectionFactory,
		compose.OAuth2TokenRevocationFactory,
		compose.OAuth2PKCEFactory,
		compose.PushedAuthorizeHandlerFactory,
	} {
		h := factory(s.fcfg, s.store, strategy)
		if ah, ok := h.(fosite.AuthorizeEndpointHandler); ok {
			fc.AuthorizeEndpointHandlers.Append(ah)
		}
		if th, ok := h.(fosite.TokenEndpointHandler); ok {
			fc.TokenEndpointHandlers.Append(th)
		}
		if ti, ok := h.(fosite.TokenIntrospector); ok {
			fc.TokenIntrospectionHandlers.Append(ti)
		}
		if rh, ok := h.(fosite.RevocationHandler); ok {
			fc.RevocationHandlers.Append(rh)
		}
		if ph, ok := h.(fosite.PushedAuthorizeEndpointHandler); ok {
			fc.PushedAuthorizeEndpointHandlers.Append(ph)
		}
	}
	// Last, so it sees the request as the grant handlers restored it.
	fc.TokenEndpointHandlers.Append(&grantPolicy{s: s})

	if s.discovery, s.asMetadata, err = s.buildDiscovery(); err != nil {
		return nil, err
	}
	return s, nil
}

func (c *Config) defaults() error {
	var problems []string
	if c.Store == nil {
		problems = append(problems, "Store is required")
	}
	c.Issuer = strings.TrimRight(c.Issuer, "/")
	if u, err := url.Parse(c.Issuer); err != nil || !u.IsAbs() || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		problems = append(problems, "Issuer must be an absolute URL without query or fragment")
	} else if u.Scheme != "https" && !isLoopbackHost(u.Hostname()) {
		problems = append(problems, "Issuer must use https (http only on loopback)")
	}
	if len(c.TokenSecret) < 32 {
		problems = append(problems, "TokenSecret must be at least 32 bytes")
	}
	if len(c.KeyEncryptionKey) != 32 {
		problems = append(problems, "KeyEncryptionKey must be 32 bytes")
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: clientJWKSTimeout}
	}
	if c.AccessTokenLifespan <= 0 {
		c.AccessTokenLifespan = 10 * time.Minute
	}
	if c.IDTokenLifespan <= 0 {
		c.IDTokenLifespan = time.Hour
	}
	if c.RefreshTokenLifespan <= 0 {
		c.RefreshTokenLifespan = 90 * 24 * time.Hour
	}
	switch {
	case c.RefreshGracePeriod == 0:
		c.RefreshGracePeriod = 30 * time.Second
	case c.RefreshGracePeriod > maxGracePeriod:
		problems = append(problems, "RefreshGracePeriod must be at most 5 minutes")
	}
	if c.AuthorizeCodeLifespan <= 0 {
		c.AuthorizeCodeLifespan = maxCodeLifespan
	} else if c.AuthorizeCodeLifespan > maxCodeLifespan {
		problems = append(problems, "AuthorizeCodeLifespan must be at most 60 s")
	}
	if c.PARLifespan <= 0 {
		c.PARLifespan = 90 * time.Second
	} else if c.PARLifespan >= 600*time.Second {
		problems = append(problems, "PARLifespan must be under 600 s")
	}
	switch c.TokenFormat {
	case "":
		c.TokenFormat = "opaque"
	case "opaque", "jwt":
	default:
		problems = append(problems, `TokenFormat must be "opaque" or "jwt"`)
	}
	if c.LoginURL == "" {
		c.LoginURL = c.Issuer + "/login"
	}
	if c.ConsentURL == "" {
		c.ConsentURL = c.Issuer + "/consent"
	}
	if c.MTLS.BaseURL != "" {
		c.MTLS.BaseURL = strings.TrimRight(c.MTLS.BaseURL, "/")
		if u, err := url.Parse(c.MTLS.BaseURL); err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			problems = append(problems, "MTLS.BaseURL must be an https URL without query or fragment")
		} else if !c.MTLS.Enabled {
			problems = append(problems, "MTLS.BaseURL needs MTLS.Enabled")
		}
	}
	switch c.Profile {
	case "":
		c.Profile = ProfileDefault
	case ProfileDefault:
	case ProfileFAPI2:
		// Nonces are on in this profile (RFC 9449 §8: a proof cannot be
		// made in advance); the retry of a rotated refresh token must
		// succeed (FAPI 2.0 §5.3.2.1-8), so a grace period is needed.
		c.DPoP.NonceRequired = true
		if c.RefreshGracePeriod < 0 {
			problems = append(problems, "the fapi2 profile needs a RefreshGracePeriod (FAPI 2.0: a retry with the previous refresh token must succeed)")
		}
	default:
		problems = append(problems, `Profile must be "default" or "fapi2"`)
	}
	if len(problems) > 0 {
		return fmt.Errorf("authz: config: %s", strings.Join(problems, "; "))
	}
	return nil
}

func isLoopbackHost(h string) bool {
	return h == "localhost" || h == "127.0.0.1" || h == "::1"
}

// redirectSecure allows https, and http only on loopback IPs (RFC 8252 §7.3).
func redirectSecure(_ context.Context, u *url.URL) bool {
	return u.Scheme == "https" || (u.Scheme == "http" && (u.Hostname() == "127.0.0.1" || u.Hostname() == "::1"))
}

// Mount registers every endpoint on e.
func (s *Server) Mount(e *echo.Echo) {
	api := func(m ...echo.MiddlewareFunc) []echo.MiddlewareFunc { return s.cfg.Admission.First(busyJSON, m...) }
	page := func(m ...echo.MiddlewareFunc) []echo.MiddlewareFunc { return s.cfg.Admission.First(busyPage, m...) }
	e.GET(pathAuthorize, s.handleAuthorize, page(noteOutages)...)
	e.POST(pathAuthorize, s.handleAuthorize, page(noteOutages)...)
	e.GET(pathResume, s.handleResume, page(noteOutages)...)
	e.POST(pathPAR, s.handlePAR, api(noteOutages, challengeClients)...)
	e.POST(pathToken, s.handleToken, api(noteOutages, challengeClients)...)
	e.POST(pathRevoke, s.handleRevoke, api(noteOutages, challengeClients)...)
	e.POST(pathIntrospect, s.handleIntrospect, s.cfg.IntrospectionAdmission.First(busyJSON, noteOutages, challengeClients)...)
	e.GET(pathUserinfo, s.handleUserinfo, api(noteOutages)...)
	e.POST(pathUserinfo, s.handleUserinfo, api(noteOutages)...)
	e.GET(pathOIDCConfig, s.handleDiscovery)
	e.GET(pathASMetadata, s.handleASMetadata)
	e.GET(pathJWKS, s.handleJWKS, noteOutages)
	e.POST(pathRegister, s.handleRegister, noteOutages)
	e.GET(pathRegister+"/:client_id", s.handleRegistrationRead, noteOutages)
	e.PUT(pathRegister+"/:client_id", s.handleRegistrationUpdate, noteOutages)
	e.DELETE(pathRegister+"/:client_id", s.handleRegistrationDelete, noteOutages)
}

// RotateKey adds a new signing key through this server and makes it current
// here at once (other replicas follow within keyCacheTTL).
func (s *Server) RotateKey(ctx context.Context) (string, error) {
	kid, err := RotateKey(ctx, s.st, s.cfg.KeyEncryptionKey, s.now())
	if err != nil {
		return "", err
	}
	s.keys.reset()
	return kid, nil
}

// logOAuthError logs server-side failures; client mistakes only at debug.
// Only fosite's error fields are logged, never request values.
func (s *Server) logOAuthError(ctx context.Context, endpoint string, err error) {
	var rfc *fosite.RFC6749Error
	if !errors.As(err, &rfc) {
		rfc = fosite.ErrorToRFC6749Error(err)
	}
	noteOAuthError(ctx, rfc.ErrorField)
	if rfc.CodeField >= 500 && clientGone(ctx) {
		s.log.InfoContext(ctx, "oauth request abandoned: client gone", "endpoint", endpoint, "debug", rfc.DebugField)
		return
	}
	if rfc.CodeField >= 500 {
		s.log.ErrorContext(ctx, "oauth endpoint failed", "endpoint", endpoint, "error", rfc.ErrorField, "hint", rfc.HintField, "debug", rfc.DebugField)
		return
	}
	s.log.DebugContext(ctx, "oauth request refused", "endpoint", endpoint, "error", rfc.ErrorField, "hint", rfc.HintField)
}

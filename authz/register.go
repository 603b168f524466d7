package authz

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/ory/fosite"

	"github.com/bankfeed/bankfeed/store"
)

// pathRegister is the RFC 7591 registration endpoint; RFC 7592 manages a
// registered client at pathRegister/{client_id}.
const pathRegister = "/oauth2/register"

// maxRegistrationBody bounds a registration request (a JWKS of a few keys).
const maxRegistrationBody = 64 << 10

// RFC 7591 §3.2.2 error codes.
const (
	errInvalidRedirectURI    = "invalid_redirect_uri"
	errInvalidClientMetadata = "invalid_client_metadata"
)

// FDX's consent durations a recipient may ask for.
var fdxDurationTypes = []string{"ONE_TIME", "PERSISTENT", "TIME_BOUND"}

// registrationGrants are the grant types a registered client may hold: it
// is always a vendor, never one of the bank's own systems.
var registrationGrants = vendorGrants

// clientMetadata is the RFC 7591 client metadata we accept and return,
// with FDX's registration fields.
type clientMetadata struct {
	ClientID                    string          `json:"client_id,omitempty"`
	ClientSecret                string          `json:"client_secret,omitempty"`
	ClientIDIssuedAt            int64           `json:"client_id_issued_at,omitempty"`
	ClientSecretExpiresAt       *int64          `json:"client_secret_expires_at,omitempty"`
	RegistrationAccessToken     string          `json:"registration_access_token,omitempty"`
	RegistrationClientURI       string          `json:"registration_client_uri,omitempty"`
	ClientName                  string          `json:"client_name"`
	Description                 string          `json:"description,omitempty"`
	RedirectURIs                []string        `json:"redirect_uris"`
	TokenEndpointAuthMethod     string          `json:"token_endpoint_auth_method"`
	TokenEndpointAuthSigningAlg string          `json:"token_endpoint_auth_signing_alg,omitempty"`
	GrantTypes                  []string        `json:"grant_types"`
	ResponseTypes               []string        `json:"response_types"`
	Scope                       string          `json:"scope"`
	JWKS                        json.RawMessage `json:"jwks,omitempty"`
	JWKSURI                     string          `json:"jwks_uri,omitempty"`
	// RFC 8705 §2.1.2: a tls_client_auth client's one certificate name.
	TLSSubjectDN       string   `json:"tls_client_auth_subject_dn,omitempty"`
	TLSSANDNS          string   `json:"tls_client_auth_san_dns,omitempty"`
	TLSSANURI          string   `json:"tls_client_auth_san_uri,omitempty"`
	TLSSANIP           string   `json:"tls_client_auth_san_ip,omitempty"`
	TLSSANEmail        string   `json:"tls_client_auth_san_email,omitempty"`
	LogoURI            string   `json:"logo_uri,omitempty"`
	ClientURI          string   `json:"client_uri,omitempty"`
	PolicyURI          string   `json:"policy_uri,omitempty"`
	TOSURI             string   `json:"tos_uri,omitempty"`
	Contacts           []string `json:"contacts,omitempty"`
	DurationType       []string `json:"duration_type,omitempty"`
	DurationPeriod     int      `json:"duration_period,omitempty"`
	LookbackPeriod     int      `json:"lookback_period,omitempty"`
	RegistryReferences []any    `json:"registry_references,omitempty"`
	Intermediaries     []any    `json:"intermediaries,omitempty"`
	// Status is the bank's decision: pending until an operator approves.
	Status string `json:"status,omitempty"`
}

// registrationError is an RFC 7591 §3.2.2 error: one message per bad field,
// the code of the first.
type registrationError struct {
	code     string
	messages []string
}

func (e *registrationError) Error() string { return e.code + ": " + strings.Join(e.messages, "; ") }

func (e *registrationError) add(code, field, format string, args ...any) {
	if e.code == "" {
		e.code = code
	}
	e.messages = append(e.messages, field+": "+fmt.Sprintf(format, args...))
}

// parseMetadata decodes and validates a registration (or RFC 7592 update)
// request. Unknown members are ignored (RFC 7591 §2); each known member of
// the wrong type or value is named in the error.
func parseMetadata(body []byte) (clientMetadata, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return clientMetadata{}, &registrationError{code: errInvalidClientMetadata, messages: []string{"the body must be a JSON object"}}
	}
	var m clientMetadata
	bad := &registrationError{}
	field := func(name string, dst any, what string) bool {
		v, ok := raw[name]
		if !ok || string(v) == "null" {
			return false
		}
		if err := json.Unmarshal(v, dst); err != nil {
			code := errInvalidClientMetadata
			if name == "redirect_uris" {
				code = errInvalidRedirectURI
			}
			bad.add(code, name, "must be %s", what)
			return false
		}
		return true
	}
	field("client_id", &m.ClientID, "a string")
	field("client_name", &m.ClientName, "a string")
	field("description", &m.Description, "a string")
	field("redirect_uris", &m.RedirectURIs, "an array of URLs")
	field("token_endpoint_auth_method", &m.TokenEndpointAuthMethod, "a string")
	field("token_endpoint_auth_signing_alg", &m.TokenEndpointAuthSigningAlg, "a string")
	field("grant_types", &m.GrantTypes, "an array of strings")
	field("response_types", &m.ResponseTypes, "an array of strings")
	field("scope", &m.Scope, "a string of space-separated scopes")
	if v, ok := raw["jwks"]; ok && string(v) != "null" {
		m.JWKS = v
	}
	field("jwks_uri", &m.JWKSURI, "a string")
	field("tls_client_auth_subject_dn", &m.TLSSubjectDN, "a string")
	field("tls_client_auth_san_dns", &m.TLSSANDNS, "a string")
	field("tls_client_auth_san_uri", &m.TLSSANURI, "a string")
	field("tls_client_auth_san_ip", &m.TLSSANIP, "a string")
	field("tls_client_auth_san_email", &m.TLSSANEmail, "a string")
	field("logo_uri", &m.LogoURI, "a string")
	field("client_uri", &m.ClientURI, "a string")
	field("policy_uri", &m.PolicyURI, "a string")
	field("tos_uri", &m.TOSURI, "a string")
	field("contacts", &m.Contacts, "an array of e-mail addresses")
	field("duration_type", &m.DurationType, "an array of ONE_TIME, PERSISTENT, TIME_BOUND")
	field("duration_period", &m.DurationPeriod, "a whole number of days")
	field("lookback_period", &m.LookbackPeriod, "a whole number of days")
	var refs, inter []map[string]any
	if field("registry_references", &refs, "an array of objects") {
		m.RegistryReferences = anyList(refs)
	}
	if field("intermediaries", &inter, "an array of objects") {
		m.Intermediaries = anyList(inter)
	}

	m.ClientName = strings.TrimSpace(m.ClientName)
	switch {
	case m.ClientName == "":
		bad.add(errInvalidClientMetadata, "client_name", "is required")
	case len(m.ClientName) > 200:
		bad.add(errInvalidClientMetadata, "client_name", "at most 200 characters")
	}
	if len(m.Description) > 2000 {
		bad.add(errInvalidClientMetadata, "description", "at most 2000 characters")
	}
	if _, ok := raw["redirect_uris"]; !ok || (len(m.RedirectURIs) == 0 && bad.code != errInvalidRedirectURI) {
		bad.add(errInvalidRedirectURI, "redirect_uris", "at least one https redirect URI is required")
	}
	for _, u := range m.RedirectURIs {
		if msg := registrableRedirectURI(u); msg != "" {
			bad.add(errInvalidRedirectURI, "redirect_uris", "%q %s", u, msg)
		}
	}

	alg := m.TokenEndpointAuthSigningAlg
	if alg != "" && alg != "ES256" && alg != "PS256" {
		bad.add(errInvalidClientMetadata, "token_endpoint_auth_signing_alg", "must be ES256 or PS256")
		alg = "" // the keys are judged on their own
	}
	if m.TokenEndpointAuthMethod == "" {
		m.TokenEndpointAuthMethod = authClientSecretBasic // RFC 7591 §2's default
	}
	if m.TokenEndpointAuthMethod != authTLSClientAuth && m.tlsName() != (store.TLSClientAuth{}) {
		bad.add(errInvalidClientMetadata, "tls_client_auth_subject_dn", "a certificate's subject DN or SAN is registered only with tls_client_auth")
	}
	switch m.TokenEndpointAuthMethod {
	case authTLSClientAuth:
		if len(m.JWKS) > 0 || m.JWKSURI != "" {
			bad.add(errInvalidClientMetadata, "jwks", "tls_client_auth takes no keys: the CA vouches for the certificate")
		}
		if err := validateTLSClientAuth(m.tlsName()); err != nil {
			bad.add(errInvalidClientMetadata, "tls_client_auth_subject_dn", "%s", ruleMessage(err))
		}
	case authPrivateKeyJWT, authSelfSignedTLS:
		switch {
		case len(m.JWKS) > 0 && m.JWKSURI != "":
			bad.add(errInvalidClientMetadata, "jwks", "give jwks or jwks_uri, not both")
		case len(m.JWKS) > 0:
			if _, err := validateClientJWKS(m.JWKS, alg); err != nil {
				bad.add(errInvalidClientMetadata, "jwks", "%s", ruleMessage(err))
			}
		case m.JWKSURI != "":
			if !isHTTPSURL(m.JWKSURI) {
				bad.add(errInvalidClientMetadata, "jwks_uri", "must be an https URL")
			}
		default:
			bad.add(errInvalidClientMetadata, "jwks", "%s needs jwks or jwks_uri", m.TokenEndpointAuthMethod)
		}
	case authClientSecretBasic:
		if len(m.JWKS) > 0 || m.JWKSURI != "" {
			bad.add(errInvalidClientMetadata, "jwks", "client_secret_basic takes no keys")
		}
	default:
		bad.add(errInvalidClientMetadata, "token_endpoint_auth_method", "must be private_key_jwt, client_secret_basic, tls_client_auth or self_signed_tls_client_auth, not %q", m.TokenEndpointAuthMethod)
	}

	if len(m.GrantTypes) == 0 {
		m.GrantTypes = []string{"authorization_code"}
	}
	for _, g := range m.GrantTypes {
		if !slices.Contains(registrationGrants, g) {
			bad.add(errInvalidClientMetadata, "grant_types", "%q is not available (authorization_code, refresh_token)", g)
		}
	}
	if !slices.Contains(m.GrantTypes, "authorization_code") {
		bad.add(errInvalidClientMetadata, "grant_types", "must include authorization_code")
	}
	if len(m.ResponseTypes) == 0 {
		m.ResponseTypes = []string{"code"}
	}
	if !slices.Equal(m.ResponseTypes, []string{"code"}) {
		bad.add(errInvalidClientMetadata, "response_types", "only code is supported")
	}
	if m.Scope == "" {
		m.Scope = strings.Join(vendorScopes, " ")
	}
	for _, sc := range strings.Fields(m.Scope) {
		if !slices.Contains(vendorScopes, sc) {
			bad.add(errInvalidClientMetadata, "scope", "%q is not a scope a data recipient may ask for", sc)
		}
	}
	for _, f := range []struct{ name, value string }{
		{"logo_uri", m.LogoURI}, {"client_uri", m.ClientURI}, {"policy_uri", m.PolicyURI}, {"tos_uri", m.TOSURI},
	} {
		if f.value != "" && (!isHTTPSURL(f.value) || strings.Contains(f.value, "#")) {
			bad.add(errInvalidClientMetadata, f.name, "must be an https URL without a fragment")
		}
	}
	for _, c := range m.Contacts {
		if a, err := mail.ParseAddress(c); err != nil || a.Address != c {
			bad.add(errInvalidClientMetadata, "contacts", "%q is not an e-mail address", c)
		}
	}
	for _, d := range m.DurationType {
		if !slices.Contains(fdxDurationTypes, d) {
			bad.add(errInvalidClientMetadata, "duration_type", "%q is not ONE_TIME, PERSISTENT or TIME_BOUND", d)
		}
	}
	if m.DurationPeriod < 0 || m.DurationPeriod > 3650 {
		bad.add(errInvalidClientMetadata, "duration_period", "must be between 0 and 3650 days")
	}
	if m.LookbackPeriod < 0 || m.LookbackPeriod > 3650 {
		bad.add(errInvalidClientMetadata, "lookback_period", "must be between 0 and 3650 days")
	}
	if bad.code != "" {
		return clientMetadata{}, bad
	}
	return m, nil
}

func anyList(in []map[string]any) []any {
	out := make([]any, len(in))
	for i, v := range in {
		out[i] = v
	}
	return out
}

// registrableRedirectURI is why raw cannot be registered ("" if it can): a
// self-registered client is a server, so https only (a native app on the
// user's machine is registered by the bank's operator).
func registrableRedirectURI(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil || !u.IsAbs() || u.Host == "":
		return "is not an absolute URL"
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return "must not have a fragment"
	case u.Scheme != "https":
		return "must use https"
	case u.User != nil:
		return "must not carry user information"
	}
	return ""
}

func isHTTPSURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && u.Scheme == "https" && u.Host != "" && u.User == nil
}

// ruleMessage is the message of a store rule error without its field.
func ruleMessage(err error) string {
	var re *store.RuleError
	if errors.As(err, &re) {
		return re.Message
	}
	return err.Error()
}

// applyMetadata sets what m says on c (a new client, or one being updated).
func applyMetadata(c *store.Client, m clientMetadata) error {
	c.Name = m.ClientName
	c.RedirectURIs = slices.Compact(slices.Clone(m.RedirectURIs))
	c.GrantTypes = slices.Clone(m.GrantTypes)
	c.ResponseTypes = []string{"code"}
	c.Scopes = nil
	for _, sc := range strings.Fields(m.Scope) {
		if !slices.Contains(c.Scopes, sc) {
			c.Scopes = append(c.Scopes, sc)
		}
	}
	c.LogoURI, c.PolicyURI, c.TOSURI = m.LogoURI, m.PolicyURI, m.TOSURI
	c.Registration = store.ClientRegistration{
		Contacts: m.Contacts, Description: m.Description, ClientURI: m.ClientURI,
		DurationType: m.DurationType, DurationPeriod: m.DurationPeriod, LookbackPeriod: m.LookbackPeriod,
		RegistryReferences: m.RegistryReferences, Intermediaries: m.Intermediaries,
	}
	if c.TokenEndpointAuthMethod != "" && c.TokenEndpointAuthMethod != m.TokenEndpointAuthMethod {
		return &registrationError{code: errInvalidClientMetadata, messages: []string{
			"token_endpoint_auth_method: cannot change from " + c.TokenEndpointAuthMethod + " (register a new client)"}}
	}
	switch m.TokenEndpointAuthMethod {
	case authTLSClientAuth:
		c.TokenEndpointAuthMethod, c.TLSClientAuth = authTLSClientAuth, m.tlsName()
		c.JWKS, c.JWKSURI, c.TokenEndpointAuthSigningAlg = nil, "", ""
		return nil
	case authPrivateKeyJWT, authSelfSignedTLS:
		c.TokenEndpointAuthMethod = m.TokenEndpointAuthMethod // setJWKS keeps self_signed_tls_client_auth
		if len(m.JWKS) > 0 {
			return setJWKS(c, m.JWKS, m.TokenEndpointAuthSigningAlg)
		}
		return setJWKSURI(c, m.JWKSURI, m.TokenEndpointAuthSigningAlg)
	default:
		c.TokenEndpointAuthMethod = authClientSecretBasic
	}
	return nil
}

// tlsName is the certificate name of a tls_client_auth registration.
func (m clientMetadata) tlsName() store.TLSClientAuth {
	return store.TLSClientAuth{SubjectDN: m.TLSSubjectDN, SANDNS: m.TLSSANDNS, SANURI: m.TLSSANURI, SANIP: m.TLSSANIP, SANEmail: m.TLSSANEmail}
}

// metadataOf is what the registration endpoints return for c.
func (s *Server) metadataOf(c store.Client) clientMetadata {
	m := clientMetadata{
		ClientID: c.ID, ClientIDIssuedAt: c.CreatedAt.Unix(),
		RegistrationClientURI: s.cfg.Issuer + pathRegister + "/" + url.PathEscape(c.ID),
		ClientName:            c.Name, RedirectURIs: c.RedirectURIs,
		TokenEndpointAuthMethod: c.TokenEndpointAuthMethod, GrantTypes: c.GrantTypes, ResponseTypes: c.ResponseTypes,
		Scope: strings.Join(c.Scopes, " "), JWKS: c.JWKS, JWKSURI: c.JWKSURI,
		LogoURI: c.LogoURI, PolicyURI: c.PolicyURI, TOSURI: c.TOSURI,
		Description: c.Registration.Description, ClientURI: c.Registration.ClientURI, Contacts: c.Registration.Contacts,
		DurationType: c.Registration.DurationType, DurationPeriod: c.Registration.DurationPeriod,
		LookbackPeriod: c.Registration.LookbackPeriod, RegistryReferences: c.Registration.RegistryReferences,
		Intermediaries: c.Registration.Intermediaries, Status: c.Status,
	}
	if c.TokenEndpointAuthMethod == authPrivateKeyJWT {
		m.TokenEndpointAuthSigningAlg = c.TokenEndpointAuthSigningAlg
	}
	t := c.TLSClientAuth
	m.TLSSubjectDN, m.TLSSANDNS, m.TLSSANURI, m.TLSSANIP, m.TLSSANEmail = t.SubjectDN, t.SANDNS, t.SANURI, t.SANIP, t.SANEmail
	if c.TokenEndpointAuthMethod == authClientSecretBasic {
		never := int64(0)
		m.ClientSecretExpiresAt = &never
	}
	return m
}

// bearer is the Bearer token of r ("" if none).
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "Bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// writeRegistrationError answers an RFC 7591 error, or 401 for a missing or
// refused token (RFC 6750 §3).
func writeRegistrationError(c echo.Context, status int, code, desc string) error {
	if status == http.StatusUnauthorized {
		c.Response().Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(status, map[string]string{"error": code, "error_description": desc})
}

func (s *Server) registrationFailed(c echo.Context, err error) error {
	var re *registrationError
	var rule *store.RuleError
	switch {
	case errors.As(err, &re):
		return writeRegistrationError(c, http.StatusBadRequest, re.code, strings.Join(re.messages, "; "))
	case errors.As(err, &rule):
		code := errInvalidClientMetadata
		if rule.Field == "redirect_uri" {
			code = errInvalidRedirectURI
		}
		return writeRegistrationError(c, http.StatusBadRequest, code, err.Error())
	case errors.Is(err, errRegistrationToken):
		return writeRegistrationError(c, http.StatusUnauthorized, "invalid_token", "the initial access token is unknown, expired or used up")
	case errors.Is(err, store.ErrConflict):
		return writeRegistrationError(c, http.StatusConflict, "invalid_request", "the client changed meanwhile; read it and try again")
	}
	s.cfg.Logger.ErrorContext(c.Request().Context(), "authz: client registration", "err", err)
	return writeRegistrationError(c, http.StatusInternalServerError, "server_error", "the registration could not be completed")
}

var errRegistrationToken = errors.New("authz: initial access token refused")

func readRegistrationBody(c echo.Context) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, maxRegistrationBody))
	if err != nil {
		return nil, &registrationError{code: errInvalidClientMetadata, messages: []string{"the body could not be read (at most 64 KiB)"}}
	}
	return b, nil
}

// handleRegister is RFC 7591 registration, with an initial access token
// the bank issued (bankfeed clients registration-token). The client is
// pending until an operator approves it; the token's use, the validation
// and the client are one transaction, so a refused registration spends
// no use.
func (s *Server) handleRegister(c echo.Context) error {
	ctx := c.Request().Context()
	iat := bearer(c.Request())
	if iat == "" {
		return writeRegistrationError(c, http.StatusUnauthorized, "invalid_token", "an initial access token issued by the bank is required")
	}
	body, err := readRegistrationBody(c)
	if err != nil {
		return s.registrationFailed(c, err)
	}
	var created store.Client
	var secret, rat string
	err = s.st.InTx(ctx, func(ctx context.Context) error {
		if err := s.st.UseRegistrationToken(ctx, store.HashToken(iat), s.now()); errors.Is(err, store.ErrNotFound) {
			return errRegistrationToken
		} else if err != nil {
			return fmt.Errorf("authz: register: %w", err)
		}
		m, err := parseMetadata(body)
		if err != nil {
			return err
		}
		cl := store.Client{ID: store.NewID("cli"), Status: store.ClientPending}
		if err := applyMetadata(&cl, m); err != nil {
			return err
		}
		if err := s.checkRegistrationProfile(cl); err != nil {
			return err
		}
		if cl.TokenEndpointAuthMethod == authClientSecretBasic {
			secret = store.RandomToken(32)
			cl.SecretHash = store.HashToken(secret)
		}
		rat = store.RandomToken(32)
		cl.RegistrationTokenHash = store.HashToken(rat)
		created, err = s.st.CreateClient(ctx, cl)
		if err != nil {
			return fmt.Errorf("authz: register: %w", err)
		}
		return nil
	})
	if err != nil {
		return s.registrationFailed(c, err)
	}
	s.cfg.Logger.InfoContext(ctx, "authz: client registered, pending approval", "client_id", created.ID, "client_name", created.Name)
	m := s.metadataOf(created)
	m.ClientSecret, m.RegistrationAccessToken = secret, rat
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, m)
}

// registeredClient authenticates an RFC 7592 request: the registration
// access token of the client the path names, else 401 (whether the client
// exists or not).
func (s *Server) registeredClient(c echo.Context) (store.Client, bool, error) {
	tok := bearer(c.Request())
	cl, err := s.st.GetClient(c.Request().Context(), c.Param("client_id"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && (cl.RegistrationTokenHash == "" || tok == "" ||
		subtle.ConstantTimeCompare([]byte(cl.RegistrationTokenHash), []byte(store.HashToken(tok))) != 1)) {
		return store.Client{}, false, writeRegistrationError(c, http.StatusUnauthorized, "invalid_token", "the registration access token does not match this client")
	}
	if err != nil {
		return store.Client{}, false, s.registrationFailed(c, fmt.Errorf("authz: registration: %w", err))
	}
	return cl, true, nil
}

// handleRegistrationRead is RFC 7592 §2.1.
func (s *Server) handleRegistrationRead(c echo.Context) error {
	cl, ok, err := s.registeredClient(c)
	if !ok {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, s.metadataOf(cl))
}

// handleRegistrationUpdate is RFC 7592 §2.2: the body replaces the
// client's metadata (rotated keys, other redirect URIs). Its consents and
// tokens are untouched, so existing connections keep working; its status
// and how it authenticates do not change.
func (s *Server) handleRegistrationUpdate(c echo.Context) error {
	cl, ok, err := s.registeredClient(c)
	if !ok {
		return err
	}
	body, err := readRegistrationBody(c)
	if err != nil {
		return s.registrationFailed(c, err)
	}
	m, err := parseMetadata(body)
	if err != nil {
		return s.registrationFailed(c, err)
	}
	if m.ClientID != cl.ID {
		return writeRegistrationError(c, http.StatusBadRequest, errInvalidClientMetadata, "client_id: must be this client's ID")
	}
	updated, err := s.st.UpdateClient(c.Request().Context(), cl.ID, func(old store.Client) (store.Client, error) {
		if err := applyMetadata(&old, m); err != nil {
			return store.Client{}, err
		}
		if err := s.checkRegistrationProfile(old); err != nil {
			return store.Client{}, err
		}
		return old, nil
	})
	if err != nil {
		return s.registrationFailed(c, err)
	}
	s.cfg.Logger.InfoContext(c.Request().Context(), "authz: registered client updated", "client_id", cl.ID)
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, s.metadataOf(updated))
}

// handleRegistrationDelete is RFC 7592 §2.3: the client is gone and its
// consents and tokens end with it.
func (s *Server) handleRegistrationDelete(c echo.Context) error {
	cl, ok, err := s.registeredClient(c)
	if !ok {
		return err
	}
	if err := s.st.DeleteClient(c.Request().Context(), cl.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return s.registrationFailed(c, fmt.Errorf("authz: delete registered client: %w", err))
	}
	s.cfg.Logger.InfoContext(c.Request().Context(), "authz: registered client deleted", "client_id", cl.ID)
	return c.NoContent(http.StatusNoContent)
}

// checkRegistrationProfile refuses, in the FAPI 2.0 profile, a client
// that could not comply (registered redirect URIs are https and assertion
// algorithms ES256 or PS256 in every profile; a secret is what is left).
func (s *Server) checkRegistrationProfile(c store.Client) error {
	if err := profileProblems(s.cfg.Profile, c); err != nil {
		return &registrationError{code: errInvalidClientMetadata, messages: []string{
			"token_endpoint_auth_method: the bank's FAPI 2.0 profile requires private_key_jwt"}}
	}
	return nil
}

// checkClientApproved refuses a client the bank has not approved (or has
// rejected): it may neither authorize nor obtain tokens.
func checkClientApproved(fc *fositeClient) error {
	if fc.c.Status == "" || fc.c.Status == store.ClientActive {
		return nil
	}
	return fosite.ErrUnauthorizedClient.WithHintf("The client is %s: the bank has not approved its registration.", fc.c.Status)
}

// IssueRegistrationToken creates an initial access token valid for ttl and
// uses, returned in clear only here (the store keeps its hash).
func IssueRegistrationToken(ctx context.Context, st store.RegistrationTokenStore, ttl time.Duration, uses int, createdBy string, now time.Time) (string, store.RegistrationToken, error) {
	if ttl <= 0 {
		return "", store.RegistrationToken{}, store.Invalid("expires", "must be positive")
	}
	tok := store.RandomToken(32)
	rt, err := st.CreateRegistrationToken(ctx, store.RegistrationToken{TokenHash: store.HashToken(tok),
		ExpiresAt: now.Add(ttl).UTC(), UsesLeft: uses, CreatedBy: createdBy})
	if err != nil {
		return "", store.RegistrationToken{}, fmt.Errorf("authz: registration token: %w", err)
	}
	return tok, rt, nil
}

package authz

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v3"
	"github.com/ory/fosite"

	"github.com/bankfeed/bankfeed/store"
)

// Token endpoint authentication methods we support.
const (
	authPrivateKeyJWT     = "private_key_jwt"
	authClientSecretBasic = "client_secret_basic"
)

// Vendor and first-party scope and grant sets.
var (
	vendorScopes     = append([]string{store.ScopeOpenID, store.ScopeProfile, store.ScopeOfflineAccess}, store.DataScopes...) // ours and FDX's
	firstPartyScopes = append(slices.Clone(vendorScopes), store.ScopeAdmin, store.ScopeOperator)
	vendorGrants     = []string{"authorization_code", "refresh_token"}
	firstPartyGrants = []string{"authorization_code", "refresh_token", "client_credentials"}
)

// ClientSpec is what an operator registers for a client (bankfeed clients create).
type ClientSpec struct {
	Name         string
	RedirectURIs []string
	JWKS         json.RawMessage // private_key_jwt with registered keys
	JWKSURI      string          // private_key_jwt with keys fetched from the vendor
	Secret       bool            // client_secret_basic: a secret is generated and returned once
	RequirePAR   bool
	FirstParty   bool
	LogoURI      string
	PolicyURI    string
	TOSURI       string
	Scopes       []string // empty: every scope the client kind may ask for
	// SigningAlg is the assertion algorithm, "ES256" or "PS256". Derived from
	// JWKS when given; defaults to ES256 with JWKSURI.
	SigningAlg string

	// DPoPBoundAccessTokens: every token of the client must be DPoP-bound.
	DPoPBoundAccessTokens bool
	// NativeApp: an app installed on the user's machine; its loopback
	// redirect URIs match on any port (RFC 8252 §7.3).
	NativeApp bool
	// RequireSignedRequestObject: pushed authorization requests must be a
	// request object signed with the client's key (RFC 9101 §10.5).
	RequireSignedRequestObject bool

	// AuthMethod is tls_client_auth (with TLSClientAuth) or
	// self_signed_tls_client_auth (with JWKS or JWKSURI: the certificate's
	// key is one of them), RFC 8705 §2; "" for the others, which JWKS,
	// JWKSURI or Secret choose.
	AuthMethod    string
	TLSClientAuth store.TLSClientAuth
}

// CreateClient validates spec and registers the client. secret is the
// client_secret_basic secret in clear, returned only here (the store keeps
// store.HashToken of it); empty for private_key_jwt clients.
func CreateClient(ctx context.Context, st store.ClientStore, spec ClientSpec) (c store.Client, secret string, err error) {
	c, err = clientFromSpec(spec)
	if err != nil {
		return store.Client{}, "", err
	}
	if spec.Secret {
		secret = store.RandomToken(32)
		c.SecretHash = store.HashToken(secret)
	}
	c, err = st.CreateClient(ctx, c)
	if err != nil {
		return store.Client{}, "", fmt.Errorf("authz: create client: %w", err)
	}
	return c, secret, nil
}

func clientFromSpec(spec ClientSpec) (store.Client, error) {
	c := store.Client{
		ID:            store.NewID("cli"),
		ResponseTypes: []string{"code"},
		RequirePAR:    spec.RequirePAR,
		FirstParty:    spec.FirstParty,
		LogoURI:       spec.LogoURI,
		PolicyURI:     spec.PolicyURI,
		TOSURI:        spec.TOSURI,

		DPoPBoundAccessTokens: spec.DPoPBoundAccessTokens,
		NativeApp:             spec.NativeApp,

		RequireSignedRequestObject: spec.RequireSignedRequestObject,
	}
	var err error
	if c.Name, err = clientName(spec.Name); err != nil {
		return c, err
	}
	if c.RedirectURIs, err = redirectURIs(spec.RedirectURIs, spec.FirstParty); err != nil {
		return c, err
	}
	for _, f := range [][2]string{{"logo_uri", c.LogoURI}, {"policy_uri", c.PolicyURI}, {"tos_uri", c.TOSURI}} {
		if err := validateInfoURL(f[0], f[1]); err != nil {
			return c, err
		}
	}

	methods := 0
	if len(spec.JWKS) > 0 {
		methods++
	}
	if spec.JWKSURI != "" {
		methods++
	}
	if spec.Secret {
		methods++
	}
	if spec.AuthMethod == authTLSClientAuth {
		if methods != 0 {
			return c, store.Invalid("auth", "a tls_client_auth client authenticates with its CA-issued certificate: no JWKS, JWKS URI or secret")
		}
		if err := validateTLSClientAuth(spec.TLSClientAuth); err != nil {
			return c, err
		}
		c.TokenEndpointAuthMethod, c.TLSClientAuth = authTLSClientAuth, spec.TLSClientAuth
	} else if spec.TLSClientAuth != (store.TLSClientAuth{}) {
		return c, store.Invalid("tls_client_auth_subject_dn", "a subject DN or SAN is registered only for a tls_client_auth client")
	}
	switch spec.AuthMethod {
	case "", authTLSClientAuth:
	case authSelfSignedTLS:
		if spec.Secret || methods != 1 {
			return c, store.Invalid("auth", "a self_signed_tls_client_auth client needs its certificates' public keys: a JWKS or a JWKS URI")
		}
	default:
		return c, store.Invalid("token_endpoint_auth_method", "must be tls_client_auth or self_signed_tls_client_auth, not %q (the others follow from the keys or the secret)", spec.AuthMethod)
	}
	if methods != 1 && spec.AuthMethod != authTLSClientAuth {
		return c, store.Invalid("auth", "choose exactly one authentication method: a JWKS, a JWKS URI or a secret")
	}
	switch {
	case spec.AuthMethod == authTLSClientAuth:
	case spec.Secret:
		c.TokenEndpointAuthMethod = authClientSecretBasic
	case len(spec.JWKS) > 0:
		if err := setJWKS(&c, spec.JWKS, spec.SigningAlg); err != nil {
			return c, err
		}
	default:
		if err := setJWKSURI(&c, spec.JWKSURI, spec.SigningAlg); err != nil {
			return c, err
		}
	}
	if spec.AuthMethod == authSelfSignedTLS {
		c.TokenEndpointAuthMethod = authSelfSignedTLS // the keys are its certificates'
	}
	if spec.RequireSignedRequestObject && (spec.Secret || spec.AuthMethod == authTLSClientAuth) {
		return c, store.Invalid("require_signed_request_object", "a client that signs its request objects needs keys: a JWKS or a JWKS URI, not a secret")
	}

	allowed, grants := vendorScopes, vendorGrants
	if spec.FirstParty {
		allowed, grants = firstPartyScopes, firstPartyGrants
	}
	c.GrantTypes = slices.Clone(grants)
	if len(spec.Scopes) == 0 {
		c.Scopes = slices.Clone(allowed)
	} else {
		for _, s := range spec.Scopes {
			if !slices.Contains(allowed, s) {
				return c, store.Invalid("scope", "scope %q is not available to this kind of client", s)
			}
			if !slices.Contains(c.Scopes, s) {
				c.Scopes = append(c.Scopes, s)
			}
		}
	}
	return c, nil
}

func clientName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", store.Invalid("name", "a client needs a name")
	}
	return name, nil
}

// redirectURIs validates a client's redirect URIs and drops duplicates.
func redirectURIs(uris []string, firstParty bool) ([]string, error) {
	if len(uris) == 0 && !firstParty {
		return nil, store.Invalid("redirect_uri", "a vendor client needs at least one redirect URI")
	}
	var out []string
	for _, u := range uris {
		if err := validateRedirectURI(u); err != nil {
			return nil, err
		}
		if !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	return out, nil
}

// validateInfoURL allows an https URL, or none.
func validateInfoURL(field, u string) error {
	if u == "" {
		return nil
	}
	if p, err := url.Parse(u); err != nil || p.Scheme != "https" || p.Host == "" {
		return store.Invalid(field, "must be an https URL")
	}
	return nil
}

// setJWKS makes c a private_key_jwt client with the registered keys raw;
// the algorithm is the keys' (and must be alg, if given).
func setJWKS(c *store.Client, raw json.RawMessage, alg string) error {
	alg, err := validateClientJWKS(raw, alg)
	if err != nil {
		return err
	}
	c.TokenEndpointAuthMethod, c.TokenEndpointAuthSigningAlg = keyedMethod(c.TokenEndpointAuthMethod), alg
	c.JWKS, c.JWKSURI = raw, ""
	return nil
}

// keyedMethod is the method of a client given keys: private_key_jwt, unless
// they are a self_signed_tls_client_auth client's certificates' keys.
func keyedMethod(m string) string {
	if m == authSelfSignedTLS {
		return m
	}
	return authPrivateKeyJWT
}

// validateTLSClientAuth checks a tls_client_auth client's registration:
// exactly one name (RFC 8705 §2.1.2), each in its form.
func validateTLSClientAuth(t store.TLSClientAuth) error {
	n := 0
	for _, v := range []string{t.SubjectDN, t.SANDNS, t.SANURI, t.SANIP, t.SANEmail} {
		if v != "" {
			n++
		}
	}
	if n != 1 {
		return store.Invalid("tls_client_auth_subject_dn", "a tls_client_auth client registers exactly one of a subject DN, a DNS, URI, IP or email SAN")
	}
	switch {
	case t.SubjectDN != "" && !strings.Contains(t.SubjectDN, "="):
		return store.Invalid("tls_client_auth_subject_dn", "%q is not an RFC 4514 distinguished name (e.g. CN=app,O=Vendor,C=CA)", t.SubjectDN)
	case t.SANIP != "" && net.ParseIP(t.SANIP) == nil:
		return store.Invalid("tls_client_auth_san_ip", "%q is not an IP address", t.SANIP)
	case t.SANURI != "":
		if u, err := url.Parse(t.SANURI); err != nil || !u.IsAbs() {
			return store.Invalid("tls_client_auth_san_uri", "%q is not an absolute URI", t.SANURI)
		}
	case t.SANEmail != "" && !strings.Contains(t.SANEmail, "@"):
		return store.Invalid("tls_client_auth_san_email", "%q is not an email address", t.SANEmail)
	case t.SANDNS != "" && strings.ContainsAny(t.SANDNS, " /:@"):
		return store.Invalid("tls_client_auth_san_dns", "%q is not a DNS name", t.SANDNS)
	}
	return nil
}

// setJWKSURI makes c a private_key_jwt client with the keys published at
// uri, signing with alg (ES256 if empty).
func setJWKSURI(c *store.Client, uri, alg string) error {
	if p, err := url.Parse(uri); err != nil || p.Scheme != "https" || p.Host == "" {
		return store.Invalid("jwks_uri", "must be an https URL")
	}
	if alg == "" {
		alg = "ES256"
	}
	if alg != "ES256" && alg != "PS256" {
		return store.Invalid("signing_alg", "must be ES256 or PS256")
	}
	c.TokenEndpointAuthMethod, c.TokenEndpointAuthSigningAlg = keyedMethod(c.TokenEndpointAuthMethod), alg
	c.JWKS, c.JWKSURI = nil, uri
	return nil
}

// ClientUpdate is what `bankfeed clients update` changes: a nil field stays
// as it is. The kind of client (first-party or vendor), its scopes and how
// it authenticates (a secret, or private_key_jwt) do not change: a client
// that authenticates with a secret cannot be given keys, and a
// private_key_jwt client can only have its keys replaced (a JWKS by a JWKS
// URI or the reverse) — the vendor's software must change with it, so such
// a switch is a new client.
type ClientUpdate struct {
	Name         *string
	RedirectURIs []string // the whole new list; nil: unchanged
	LogoURI      *string  // "": none
	PolicyURI    *string
	TOSURI       *string
	JWKS         json.RawMessage // private_key_jwt: registered keys, replacing a JWKS URI
	JWKSURI      *string         // private_key_jwt: keys at this https URL, replacing registered keys
	SigningAlg   *string         // private_key_jwt: ES256 or PS256, matching the keys
	RequirePAR   *bool
	// DPoPBoundAccessTokens: every token must be DPoP-bound (or no longer).
	DPoPBoundAccessTokens *bool
	// RequireSignedRequestObject: pushed requests must be signed request
	// objects (or no longer); only for a client with keys.
	RequireSignedRequestObject *bool
	// TLSClientAuth: a tls_client_auth client's new subject DN or SAN.
	TLSClientAuth *store.TLSClientAuth
}

func (u ClientUpdate) empty() bool {
	return u.Name == nil && u.RedirectURIs == nil && u.LogoURI == nil && u.PolicyURI == nil && u.TOSURI == nil &&
		u.JWKS == nil && u.JWKSURI == nil && u.SigningAlg == nil && u.RequirePAR == nil &&
		u.DPoPBoundAccessTokens == nil && u.RequireSignedRequestObject == nil && u.TLSClientAuth == nil
}

// UpdateClient applies u to client id, validated as CreateClient validates
// the same fields, in one compare-and-swap (store.ErrConflict if the client
// changed meanwhile). changed names the fields whose value changed, by
// their JSON names (clients show). Consents and tokens are untouched.
func UpdateClient(ctx context.Context, st store.ClientStore, id string, u ClientUpdate) (c store.Client, changed []string, err error) {
	if u.empty() {
		return store.Client{}, nil, store.Invalid("", "nothing to update")
	}
	c, err = st.UpdateClient(ctx, id, func(old store.Client) (store.Client, error) {
		c, err := applyClientUpdate(old, u)
		if err != nil {
			return store.Client{}, err
		}
		changed = changedClientFields(old, c)
		return c, nil
	})
	if err != nil {
		return store.Client{}, nil, fmt.Errorf("authz: update client: %w", err)
	}
	return c, changed, nil
}

func applyClientUpdate(c store.Client, u ClientUpdate) (store.Client, error) {
	var err error
	if u.Name != nil {
		if c.Name, err = clientName(*u.Name); err != nil {
			return c, err
		}
	}
	if u.RedirectURIs != nil {
		if c.RedirectURIs, err = redirectURIs(u.RedirectURIs, c.FirstParty); err != nil {
			return c, err
		}
	}
	for _, f := range []struct {
		field string
		value *string
		to    *string
	}{{"logo_uri", u.LogoURI, &c.LogoURI}, {"policy_uri", u.PolicyURI, &c.PolicyURI}, {"tos_uri", u.TOSURI, &c.TOSURI}} {
		if f.value == nil {
			continue
		}
		if err := validateInfoURL(f.field, *f.value); err != nil {
			return c, err
		}
		*f.to = *f.value
	}
	if u.RequirePAR != nil {
		c.RequirePAR = *u.RequirePAR
	}
	if u.DPoPBoundAccessTokens != nil {
		c.DPoPBoundAccessTokens = *u.DPoPBoundAccessTokens
	}
	if u.RequireSignedRequestObject != nil {
		if *u.RequireSignedRequestObject && len(c.JWKS) == 0 && c.JWKSURI == "" {
			return c, store.Invalid("require_signed_request_object", "client %s has no registered keys (JWKS or JWKS URI) to verify its request objects with", c.ID)
		}
		c.RequireSignedRequestObject = *u.RequireSignedRequestObject
	}

	if u.TLSClientAuth != nil {
		if c.TokenEndpointAuthMethod != authTLSClientAuth {
			return c, store.Invalid("tls_client_auth_subject_dn", "client %s uses %s: a subject DN or SAN is registered only for a tls_client_auth client", c.ID, c.TokenEndpointAuthMethod)
		}
		if err := validateTLSClientAuth(*u.TLSClientAuth); err != nil {
			return c, err
		}
		c.TLSClientAuth = *u.TLSClientAuth
	}

	if u.JWKS == nil && u.JWKSURI == nil && u.SigningAlg == nil {
		return c, nil
	}
	// A self_signed_tls_client_auth client's keys are its certificates':
	// replaced as private_key_jwt's are (setJWKS keeps its method).
	if c.TokenEndpointAuthMethod != authPrivateKeyJWT && c.TokenEndpointAuthMethod != authSelfSignedTLS {
		field := "jwks"
		if u.JWKS == nil {
			field = "jwks_uri"
			if u.JWKSURI == nil {
				field = "signing_alg"
			}
		}
		return c, store.Invalid(field, "client %s authenticates with a client secret: it cannot be given keys (register a new private_key_jwt client instead)", c.ID)
	}
	alg := ""
	if u.SigningAlg != nil {
		alg = *u.SigningAlg
	}
	switch {
	case u.JWKS != nil && u.JWKSURI != nil:
		return c, store.Invalid("jwks_uri", "give a JWKS or a JWKS URI, not both")
	case u.JWKS != nil:
		return c, setJWKS(&c, u.JWKS, alg)
	case u.JWKSURI != nil:
		if alg == "" {
			alg = c.TokenEndpointAuthSigningAlg // the vendor moved its keys, not its algorithm
		}
		return c, setJWKSURI(&c, *u.JWKSURI, alg)
	case len(c.JWKS) > 0:
		if _, err := validateClientJWKS(c.JWKS, alg); err != nil {
			return c, store.Invalid("signing_alg", "%s does not match the registered keys (%s)", alg, c.TokenEndpointAuthSigningAlg)
		}
		c.TokenEndpointAuthSigningAlg = alg
		return c, nil
	default:
		return c, setJWKSURI(&c, c.JWKSURI, alg)
	}
}

// changedClientFields names, by their JSON names, the fields an update or a
// rotation changed; never their values.
func changedClientFields(old, c store.Client) []string {
	var out []string
	for _, f := range []struct {
		name    string
		changed bool
	}{
		{"name", old.Name != c.Name},
		{"redirectUris", !slices.Equal(old.RedirectURIs, c.RedirectURIs)},
		{"logoUri", old.LogoURI != c.LogoURI},
		{"policyUri", old.PolicyURI != c.PolicyURI},
		{"tosUri", old.TOSURI != c.TOSURI},
		{"jwks", !bytes.Equal(old.JWKS, c.JWKS)},
		{"jwksUri", old.JWKSURI != c.JWKSURI},
		{"tokenEndpointAuthSigningAlg", old.TokenEndpointAuthSigningAlg != c.TokenEndpointAuthSigningAlg},
		{"requirePar", old.RequirePAR != c.RequirePAR},
		{"dpopBoundAccessTokens", old.DPoPBoundAccessTokens != c.DPoPBoundAccessTokens},
		{"tlsClientAuth", old.TLSClientAuth != c.TLSClientAuth},
		{"requireSignedRequestObject", old.RequireSignedRequestObject != c.RequireSignedRequestObject},
	} {
		if f.changed {
			out = append(out, f.name)
		}
	}
	return out
}

// MaxSecretOverlap bounds --keep-old: an old secret should stop soon.
const MaxSecretOverlap = 30 * 24 * time.Hour

// RotateClientSecret gives a client_secret_basic client a new secret,
// returned in clear only here (the store keeps its hash). The current secret
// stays valid until now+keepOld (0: it stops at once) as the previous one;
// a previous secret still in its overlap is dropped, so at most two secrets
// are ever valid. Consents and tokens are untouched.
func RotateClientSecret(ctx context.Context, st store.ClientStore, id string, keepOld time.Duration, now time.Time) (c store.Client, secret string, err error) {
	switch {
	case keepOld < 0:
		return store.Client{}, "", store.Invalid("keep_old", "must not be negative")
	case keepOld > MaxSecretOverlap:
		return store.Client{}, "", store.Invalid("keep_old", "at most %s (30 days): the old secret should stop soon", MaxSecretOverlap)
	}
	secret = store.RandomToken(32)
	c, err = st.UpdateClient(ctx, id, func(c store.Client) (store.Client, error) {
		if c.TokenEndpointAuthMethod != authClientSecretBasic || c.SecretHash == "" {
			return c, store.Invalid("", "client %s uses %s: it has no secret to rotate (replace its keys with clients update)", c.ID, c.TokenEndpointAuthMethod)
		}
		c.PreviousSecretHash, c.PreviousSecretExpiresAt = "", time.Time{}
		if keepOld > 0 {
			c.PreviousSecretHash, c.PreviousSecretExpiresAt = c.SecretHash, now.Add(keepOld).UTC()
		}
		c.SecretHash = store.HashToken(secret)
		return c, nil
	})
	if err != nil {
		return store.Client{}, "", fmt.Errorf("authz: rotate client secret: %w", err)
	}
	return c, secret, nil
}

// validateRedirectURI allows https URLs, and http only on a loopback IP with
// a port (RFC 8252 §7.3); never a fragment.
func validateRedirectURI(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return store.Invalid("redirect_uri", "%q is not an absolute URL", raw)
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return store.Invalid("redirect_uri", "%q must not have a fragment", raw)
	}
	if u.User != nil {
		return store.Invalid("redirect_uri", "%q must not carry user information", raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		ip := net.ParseIP(u.Hostname())
		if ip != nil && ip.IsLoopback() && (ip.Equal(net.IPv4(127, 0, 0, 1)) || ip.Equal(net.IPv6loopback)) && u.Port() != "" {
			return nil
		}
		return store.Invalid("redirect_uri", "%q: http is allowed only for http://127.0.0.1:port or http://[::1]:port", raw)
	}
	return store.Invalid("redirect_uri", "%q must use https", raw)
}

// matchRedirectURI reports whether raw, a redirect URI a request names,
// is one of c's registered ones: exactly the same string (fosite also
// accepted a loopback URI on any port, without one or with user
// information). A native app's loopback URI may differ only in its port
// (RFC 8252 §7.3), never with user information.
func matchRedirectURI(c store.Client, raw string) bool {
	if slices.Contains(c.RedirectURIs, raw) {
		return true
	}
	if !c.NativeApp {
		return false
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.User != nil || u.Opaque != "" || u.Fragment != "" || strings.Contains(raw, "#") {
		return false
	}
	for _, reg := range c.RedirectURIs {
		r, err := url.Parse(reg)
		if err != nil || r.Scheme != "http" {
			continue
		}
		if r.Hostname() == u.Hostname() && isLoopbackIP(r.Hostname()) && r.EscapedPath() == u.EscapedPath() && r.RawQuery == u.RawQuery && r.ForceQuery == u.ForceQuery {
			return true
		}
	}
	return false
}

func isLoopbackIP(h string) bool { return h == "127.0.0.1" || h == "::1" }

// validateClientJWKS checks a registered key set: public signing keys only,
// P-256 EC (ES256) or RSA ≥ 2048 bits (PS256), one algorithm for all.
func validateClientJWKS(raw json.RawMessage, want string) (string, error) {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &set); err != nil {
		return "", store.Invalid("jwks", "not a JSON Web Key Set: %v", err)
	}
	if len(set.Keys) == 0 {
		return "", store.Invalid("jwks", "the key set has no key")
	}
	alg := want
	for _, k := range set.Keys {
		if !k.IsPublic() {
			return "", store.Invalid("jwks", "register public keys only (key %q has a private part)", k.KeyID)
		}
		if k.Use != "" && k.Use != "sig" {
			return "", store.Invalid("jwks", "key %q is not a signing key", k.KeyID)
		}
		var kalg string
		switch pk := k.Key.(type) {
		case *ecdsa.PublicKey:
			if pk.Curve != elliptic.P256() {
				return "", store.Invalid("jwks", "key %q: only P-256 EC keys (ES256)", k.KeyID)
			}
			kalg = "ES256"
		case *rsa.PublicKey:
			if pk.N.BitLen() < 2048 {
				return "", store.Invalid("jwks", "key %q: RSA keys need at least 2048 bits", k.KeyID)
			}
			kalg = "PS256"
		default:
			return "", store.Invalid("jwks", "key %q: only EC P-256 and RSA keys", k.KeyID)
		}
		if k.Algorithm != "" && k.Algorithm != kalg {
			return "", store.Invalid("jwks", "key %q: algorithm %q is not allowed (ES256 or PS256)", k.KeyID, k.Algorithm)
		}
		if alg == "" {
			alg = kalg
		} else if alg != kalg {
			return "", store.Invalid("jwks", "all keys must use one algorithm (%s and %s found)", alg, kalg)
		}
	}
	return alg, nil
}

// fositeClient adapts store.Client to fosite's client interfaces.
type fositeClient struct {
	c    store.Client
	jwks *jose.JSONWebKeySet
	now  func() time.Time // the server's clock, for the previous secret's expiry
}

var (
	_ fosite.OpenIDConnectClient      = (*fositeClient)(nil)
	_ fosite.ResponseModeClient       = (*fositeClient)(nil)
	_ fosite.ClientWithSecretRotation = (*fositeClient)(nil)
)

func newFositeClient(c store.Client, now func() time.Time) (*fositeClient, error) {
	fc := &fositeClient{c: c, now: now}
	if len(c.JWKS) > 0 {
		var set jose.JSONWebKeySet
		if err := json.Unmarshal(c.JWKS, &set); err != nil {
			return nil, fmt.Errorf("authz: client %s: stored JWKS: %w", c.ID, err)
		}
		fc.jwks = &set
	}
	return fc, nil
}

func (f *fositeClient) GetID() string                      { return f.c.ID }
func (f *fositeClient) GetHashedSecret() []byte            { return []byte(f.c.SecretHash) }
func (f *fositeClient) GetRedirectURIs() []string          { return f.c.RedirectURIs }
func (f *fositeClient) GetGrantTypes() fosite.Arguments    { return f.c.GrantTypes }
func (f *fositeClient) GetResponseTypes() fosite.Arguments { return fosite.Arguments{"code"} }
func (f *fositeClient) GetScopes() fosite.Arguments        { return f.c.Scopes }
func (f *fositeClient) IsPublic() bool                     { return false }
func (f *fositeClient) GetAudience() fosite.Arguments      { return f.c.Audience }
func (f *fositeClient) GetRequestURIs() []string           { return nil }
func (f *fositeClient) GetJSONWebKeys() *jose.JSONWebKeySet {
	return f.jwks
}
func (f *fositeClient) GetJSONWebKeysURI() string { return f.c.JWKSURI }

// GetRotatedHashes is the previous secret while a rotation's overlap lasts.
// fosite tries it when the current secret does not match; the expiry is
// judged on every call, so a cached client cannot stretch the overlap.
func (f *fositeClient) GetRotatedHashes() [][]byte {
	if f.c.PreviousSecretHash == "" || !f.now().Before(f.c.PreviousSecretExpiresAt) {
		return nil
	}
	return [][]byte{[]byte(f.c.PreviousSecretHash)}
}

// GetRequestObjectSigningAlgorithm pins request objects to a real algorithm so
// that fosite never accepts alg "none" (we also refuse `request` outright).
func (f *fositeClient) GetRequestObjectSigningAlgorithm() string {
	if f.c.TokenEndpointAuthSigningAlg != "" {
		return f.c.TokenEndpointAuthSigningAlg
	}
	return "ES256"
}
func (f *fositeClient) GetTokenEndpointAuthMethod() string { return f.c.TokenEndpointAuthMethod }
func (f *fositeClient) GetTokenEndpointAuthSigningAlgorithm() string {
	return f.c.TokenEndpointAuthSigningAlg
}
func (f *fositeClient) GetResponseModes() []fosite.ResponseModeType {
	return append([]fosite.ResponseModeType{fosite.ResponseModeQuery}, jarmModes...)
}

// secretHasher compares client secrets with store.HashToken in constant time.
// Client secrets are 256-bit random values, so a fast hash is safe and keeps
// the token endpoint fast (bcrypt would cap it at a few dozen grants/s).
type secretHasher struct{}

var _ fosite.Hasher = secretHasher{}

var errSecretMismatch = errors.New("authz: client secret does not match")

func (secretHasher) Compare(_ context.Context, hash, data []byte) error {
	if len(hash) == 0 || len(data) == 0 || !store.VerifyToken(string(hash), string(data)) {
		return errSecretMismatch
	}
	return nil
}

func (secretHasher) Hash(_ context.Context, data []byte) ([]byte, error) {
	return []byte(store.HashToken(string(data))), nil
}

// clientCacheTTL bounds how long a replica may use a client record it read;
// short, so a deleted client stops working everywhere within seconds.
const clientCacheTTL = 2 * time.Second

// Resource identifiers: the aud of access tokens, one per API a scope opens.
// The bank's own APIs verify tokens through the token record (Verify), so
// aud is for resource servers that read JWT access tokens themselves.
const (
	resourceFDX   = "/fdx/v6"
	resourceAdmin = "/admin/v1"
	resourceOps   = "/ops/v1"
)

// grantResourceAudiences grants ar the resource identifiers of the APIs its
// granted scopes open (RFC 9068 aud), in a fixed order.
func grantResourceAudiences(ar fosite.Requester, issuer string) {
	scopes := ar.GetGrantedScopes()
	for _, r := range []struct {
		path   string
		scopes []string
	}{
		{resourceFDX, store.DataScopes}, // ours and FDX's
		{resourceAdmin, []string{store.ScopeAdmin}},
		{resourceOps, []string{store.ScopeOperator}},
	} {
		if slices.ContainsFunc(r.scopes, func(sc string) bool { return scopes.Has(sc) }) && !ar.GetGrantedAudience().Has(issuer+r.path) {
			ar.GrantAudience(issuer + r.path)
		}
	}
}

// resourceAudienceMatcher is fosite's audience check: the bank's resource
// identifiers are every client's to ask for (the scopes decide which a
// grant gets), anything else only if registered for the client. fosite
// checks a refresh's audience with it.
func resourceAudienceMatcher(issuer string) fosite.AudienceMatchingStrategy {
	ours := []string{issuer + resourceFDX, issuer + resourceAdmin, issuer + resourceOps}
	return func(haystack []string, needle []string) error {
		var others []string
		for _, n := range needle {
			if !slices.Contains(ours, n) {
				others = append(others, n)
			}
		}
		return fosite.DefaultAudienceMatchingStrategy(haystack, others)
	}
}

// checkRedirectParam refuses a request whose redirect_uri is not one of its
// client's by matchRedirectURI: fosite's own match is looser. nil when
// there is no client or no redirect_uri to judge.
func checkRedirectParam(form url.Values, ar fosite.Requester) error {
	raw := form.Get("redirect_uri")
	if raw == "" || ar == nil {
		return nil
	}
	fc, ok := ar.GetClient().(*fositeClient)
	if !ok || matchRedirectURI(fc.c, raw) {
		return nil
	}
	return fosite.ErrInvalidRequest.WithHint("The redirect_uri is not one registered for this client.")
}

package authz

import (
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
	vendorScopes     = []string{store.ScopeOpenID, store.ScopeProfile, store.ScopeOfflineAccess, store.ScopeAccountsRead, store.ScopeStatementsRead}
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
		Name:          strings.TrimSpace(spec.Name),
		ResponseTypes: []string{"code"},
		RequirePAR:    spec.RequirePAR,
		FirstParty:    spec.FirstParty,
		LogoURI:       spec.LogoURI,
		PolicyURI:     spec.PolicyURI,
		TOSURI:        spec.TOSURI,
	}
	if c.Name == "" {
		return c, store.Invalid("name", "a client needs a name")
	}
	if len(spec.RedirectURIs) == 0 && !spec.FirstParty {
		return c, store.Invalid("redirect_uri", "a vendor client needs at least one redirect URI")
	}
	for _, u := range spec.RedirectURIs {
		if err := validateRedirectURI(u); err != nil {
			return c, err
		}
		if !slices.Contains(c.RedirectURIs, u) {
			c.RedirectURIs = append(c.RedirectURIs, u)
		}
	}
	for field, u := range map[string]string{"logo_uri": spec.LogoURI, "policy_uri": spec.PolicyURI, "tos_uri": spec.TOSURI} {
		if u == "" {
			continue
		}
		if p, err := url.Parse(u); err != nil || p.Scheme != "https" || p.Host == "" {
			return c, store.Invalid(field, "must be an https URL")
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
	if methods != 1 {
		return c, store.Invalid("auth", "choose exactly one authentication method: a JWKS, a JWKS URI or a secret")
	}
	switch {
	case spec.Secret:
		c.TokenEndpointAuthMethod = authClientSecretBasic
	case len(spec.JWKS) > 0:
		alg, err := validateClientJWKS(spec.JWKS, spec.SigningAlg)
		if err != nil {
			return c, err
		}
		c.TokenEndpointAuthMethod = authPrivateKeyJWT
		c.TokenEndpointAuthSigningAlg = alg
		c.JWKS = spec.JWKS
	default:
		if p, err := url.Parse(spec.JWKSURI); err != nil || p.Scheme != "https" || p.Host == "" {
			return c, store.Invalid("jwks_uri", "must be an https URL")
		}
		alg := spec.SigningAlg
		if alg == "" {
			alg = "ES256"
		}
		if alg != "ES256" && alg != "PS256" {
			return c, store.Invalid("signing_alg", "must be ES256 or PS256")
		}
		c.TokenEndpointAuthMethod = authPrivateKeyJWT
		c.TokenEndpointAuthSigningAlg = alg
		c.JWKSURI = spec.JWKSURI
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
}

var (
	_ fosite.OpenIDConnectClient = (*fositeClient)(nil)
	_ fosite.ResponseModeClient  = (*fositeClient)(nil)
)

func newFositeClient(c store.Client) (*fositeClient, error) {
	fc := &fositeClient{c: c}
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
	return []fosite.ResponseModeType{fosite.ResponseModeQuery}
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

package authz

import (
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v3"
	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"
	"github.com/ory/fosite"

	"github.com/bankfeed/bankfeed/store"
)

const (
	assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	// assertionLeeway is FAPI 2.0's clock-skew allowance for iat/nbf (and exp).
	assertionLeeway = 10 * time.Second
	// assertionMaxLife refuses assertions valid for longer than this.
	assertionMaxLife = time.Hour
)

// authenticateClient is fosite's ClientAuthenticationStrategy. private_key_jwt
// is verified here rather than by fosite because we need: PS256/ES256 only,
// aud = issuer, token URL or PAR URL (string or array), 10 s leeway and jti
// single use in the database. client_secret_basic goes to fosite's default
// (with our store.HashToken hasher).
func (s *Server) authenticateClient(ctx context.Context, r *http.Request, form url.Values) (fosite.Client, error) {
	// A client registered with an mTLS method names itself by client_id and
	// proves itself by its certificate (RFC 8705 §2).
	if c, ok, err := s.certificateClient(ctx, r, form); ok {
		return c, err
	}
	switch t := form.Get("client_assertion_type"); {
	case t == assertionType:
		return s.authenticateAssertion(ctx, form)
	case t != "":
		return nil, fosite.ErrInvalidRequest.WithHintf("Unknown client_assertion_type '%s'.", t)
	case form.Get("client_assertion") != "":
		return nil, fosite.ErrInvalidRequest.WithHint("client_assertion needs client_assertion_type.")
	case form.Get("client_secret") != "":
		return nil, fosite.ErrInvalidClient.WithHint("client_secret_post is not supported; use HTTP Basic authentication.")
	}
	c, err := s.provider.DefaultClientAuthenticationStrategy(ctx, r, form)
	if err != nil && errors.Is(err, fosite.ErrInvalidClient) {
		// The secret may be one rotated in after this replica cached the
		// client: read the client again, once, so a new secret works at once.
		if id, _, ok := r.BasicAuth(); ok {
			if id, uerr := url.QueryUnescape(id); uerr == nil {
				if _, cached := s.store.clients.LoadAndDelete(id); cached {
					return s.provider.DefaultClientAuthenticationStrategy(ctx, r, form)
				}
			}
		}
	}
	return c, err
}

func invalidClient(hint string, err error) error {
	e := fosite.ErrInvalidClient.WithHint(hint)
	if err != nil {
		e = e.WithWrap(err).WithDebug(err.Error())
	}
	return e
}

func (s *Server) authenticateAssertion(ctx context.Context, form url.Values) (fosite.Client, error) {
	assertion := form.Get("client_assertion")
	if assertion == "" {
		return nil, fosite.ErrInvalidRequest.WithHint("client_assertion is missing.")
	}
	var client *fositeClient
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{"ES256", "PS256"}),
		jwt.WithLeeway(assertionLeeway),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(s.now),
	)
	claims := jwt.MapClaims{}
	readID := "" // the client the key function read
	keyFunc := func(t *jwt.Token) (interface{}, error) {
		readID = form.Get("client_id")
		if readID == "" {
			readID, _ = claims["sub"].(string)
		}
		c, err := s.store.client(ctx, readID)
		if err != nil {
			return nil, err
		}
		if c.c.TokenEndpointAuthMethod != authPrivateKeyJWT {
			return nil, errors.New("client does not use private_key_jwt")
		}
		alg, _ := t.Header["alg"].(string)
		if alg != c.c.TokenEndpointAuthSigningAlg {
			return nil, fmt.Errorf("assertion signed with %s, client registered %s", alg, c.c.TokenEndpointAuthSigningAlg)
		}
		kid, _ := t.Header["kid"].(string)
		key, err := s.clientKey(ctx, c, kid, alg)
		if err != nil {
			return nil, err
		}
		client = c
		return key, nil
	}
	_, err := parser.ParseWithClaims(assertion, claims, keyFunc)
	if err != nil && readID != "" {
		// The keys may have been replaced (clients update) after this
		// replica cached the client: read the client again, once, so new
		// keys work at once. The jti is recorded only after success.
		if _, cached := s.store.clients.LoadAndDelete(readID); cached {
			client, claims = nil, jwt.MapClaims{}
			_, err = parser.ParseWithClaims(assertion, claims, keyFunc)
		}
	}
	if err != nil || client == nil {
		return nil, invalidClient("The client_assertion could not be verified.", err)
	}

	id := client.GetID()
	if iss, _ := claims["iss"].(string); iss != id {
		return nil, invalidClient("Claim 'iss' of the client_assertion must be the client_id.", nil)
	}
	if sub, _ := claims["sub"].(string); sub != id {
		return nil, invalidClient("Claim 'sub' of the client_assertion must be the client_id.", nil)
	}
	if fid := form.Get("client_id"); fid != "" && fid != id {
		return nil, invalidClient("client_id does not match the client_assertion.", nil)
	}
	aud, err := claims.GetAudience()
	if err != nil || !slices.ContainsFunc(aud, func(a string) bool { return slices.Contains(s.assertionAudiences, a) }) {
		return nil, invalidClient("Claim 'aud' of the client_assertion must be the issuer or the endpoint's URL.", nil)
	}
	// FAPI 2.0 §5.3.2.1-8: the profile's clients name the issuer alone, as a
	// string — an endpoint URL or an array is what let an assertion made for
	// one server be replayed at another (the 2025 private_key_jwt advisory).
	if a, ok := claims["aud"].(string); s.fapi2Applies(client) && (!ok || a != s.cfg.Issuer) {
		return nil, invalidClient("The FAPI 2.0 profile requires claim 'aud' of the client_assertion to be the issuer identifier, as a string.", nil)
	}
	jti, _ := claims["jti"].(string)
	if jti == "" {
		return nil, invalidClient("Claim 'jti' of the client_assertion is required.", nil)
	}
	exp, err := claims.GetExpirationTime()
	if err != nil || exp == nil {
		return nil, invalidClient("Claim 'exp' of the client_assertion is required.", err)
	}
	if exp.Sub(s.now()) > assertionMaxLife {
		return nil, invalidClient("The client_assertion is valid for too long (at most one hour).", nil)
	}
	// jti is scoped to the client so two clients cannot burn each other's.
	if err := s.st.UseJTI(ctx, id+":"+jti, exp.Add(assertionLeeway)); errors.Is(err, store.ErrConflict) {
		return nil, invalidClient("Claim 'jti' of the client_assertion was already used.", nil)
	} else if err != nil {
		return nil, fosite.ErrServerError.WithWrap(err).WithDebug(err.Error())
	}
	return client, nil
}

// clientKey finds the client's public key for kid and alg, in its registered
// JWKS or at its jwks_uri (fetched again when the kid is unknown, at most
// once per clientJWKSRefetch).
func (s *Server) clientKey(ctx context.Context, c *fositeClient, kid, alg string) (interface{}, error) {
	if set := c.GetJSONWebKeys(); set != nil {
		return pickKey(set, kid, alg)
	}
	if uri := c.GetJSONWebKeysURI(); uri != "" {
		set, err := s.clientKeys.get(ctx, uri, false)
		if err != nil {
			return nil, err
		}
		if k, err := pickKey(set, kid, alg); err == nil {
			return k, nil
		}
		if set, err = s.clientKeys.get(ctx, uri, true); err != nil {
			return nil, err
		}
		return pickKey(set, kid, alg)
	}
	return nil, errors.New("client has no keys")
}

func pickKey(set *jose.JSONWebKeySet, kid, alg string) (interface{}, error) {
	keys := set.Keys
	if kid != "" {
		keys = set.Key(kid)
	}
	for _, k := range keys {
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		switch pk := k.Key.(type) {
		case *ecdsa.PublicKey:
			if alg == "ES256" {
				return pk, nil
			}
		case *rsa.PublicKey:
			if alg == "PS256" {
				return pk, nil
			}
		}
	}
	return nil, fmt.Errorf("no %s key with kid %q", alg, kid)
}

// challengeClients adds the WWW-Authenticate challenge RFC 6749 §5.2 asks
// of a 401 (a failed client authentication) at the endpoints that
// authenticate clients: the scheme the client tried in its Authorization
// header, else Basic (fosite writes none). A handler's own challenge stays.
func challengeClients(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		resp := c.Response()
		resp.Before(func() {
			if resp.Status != http.StatusUnauthorized || resp.Header().Get("WWW-Authenticate") != "" {
				return
			}
			scheme := "Basic"
			if h := c.Request().Header.Get("Authorization"); h != "" {
				if s, _, _ := strings.Cut(h, " "); isAuthScheme(s) {
					scheme = s
				}
			}
			resp.Header().Set("WWW-Authenticate", scheme+` realm="bankfeed"`)
		})
		return next(c)
	}
}

// isAuthScheme reports whether s can be echoed as an auth scheme: a short
// HTTP token, so a client's header cannot inject into ours.
func isAuthScheme(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

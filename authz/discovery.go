package authz

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/authz/dpop"
	"github.com/bankfeed/bankfeed/store"
)

// buildDiscovery marshals the metadata once: it lists exactly what New
// composed.
func (s *Server) buildDiscovery() (oidc, as []byte, err error) {
	iss := s.cfg.Issuer
	authMethods := s.clientAuthMethods()
	assertionAlgs := []string{"PS256", "ES256"}
	requirePAR, dpopAlgs := s.cfg.RequirePAR, dpop.Algs
	if s.fapi2() {
		requirePAR, dpopAlgs = true, fapi2Algs
	}
	m := map[string]any{
		"issuer":                                iss,
		"authorization_endpoint":                iss + pathAuthorize,
		"token_endpoint":                        iss + pathToken,
		"pushed_authorization_request_endpoint": iss + pathPAR,
		"require_pushed_authorization_requests": requirePAR,
		"revocation_endpoint":                   iss + pathRevoke,
		"introspection_endpoint":                iss + pathIntrospect,
		"userinfo_endpoint":                     iss + pathUserinfo,
		"jwks_uri":                              iss + pathJWKS,
		"registration_endpoint":                 iss + pathRegister,
		"scopes_supported": []string{
			store.ScopeOpenID, store.ScopeProfile, store.ScopeOfflineAccess,
			store.ScopeAccountsRead, store.ScopeStatementsRead, store.ScopeAdmin, store.ScopeOperator,
			store.ScopeFDXAccountBasic, store.ScopeFDXAccountDetailed, store.ScopeFDXTransactions,
			store.ScopeFDXStatements, store.ScopeFDXCustomerContact,
		},
		"response_types_supported":                                 []string{"code"},
		"response_modes_supported":                                 []string{"query", "jwt", "query.jwt", "fragment.jwt", "form_post.jwt"},
		"authorization_signing_alg_values_supported":               jarmAlgs,
		"grant_types_supported":                                    []string{"authorization_code", "refresh_token", "client_credentials"},
		"subject_types_supported":                                  []string{"public"},
		"id_token_signing_alg_values_supported":                    []string{signingAlg},
		"token_endpoint_auth_methods_supported":                    authMethods,
		"token_endpoint_auth_signing_alg_values_supported":         assertionAlgs,
		"revocation_endpoint_auth_methods_supported":               authMethods,
		"revocation_endpoint_auth_signing_alg_values_supported":    assertionAlgs,
		"introspection_endpoint_auth_methods_supported":            authMethods,
		"introspection_endpoint_auth_signing_alg_values_supported": assertionAlgs,
		"code_challenge_methods_supported":                         []string{"S256"},
		"authorization_response_iss_parameter_supported":           true,
		"dpop_signing_alg_values_supported":                        dpopAlgs,
		"claims_supported":                                         []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "at_hash", "name", "preferred_username"},
		"acr_values_supported":                                     []string{acrPassword},
		"claims_parameter_supported":                               false,
		"ui_locales_supported":                                     []string{"en", "fr"},
		"request_parameter_supported":                              true, // at PAR only (JAR, jar.go)
		"request_object_signing_alg_values_supported":              jarAlgs,
		"request_uri_parameter_supported":                          false,
		"userinfo_signing_alg_values_supported":                    []string{"none"},
	}
	if s.cfg.TokenFormat == "jwt" {
		m["access_token_signing_alg_values_supported"] = []string{signingAlg}
	}
	if s.cfg.MTLS.Enabled {
		m["tls_client_certificate_bound_access_tokens"] = true
		if b := s.cfg.MTLS.BaseURL; b != "" {
			m["mtls_endpoint_aliases"] = map[string]string{
				"token_endpoint":                        b + pathToken,
				"pushed_authorization_request_endpoint": b + pathPAR,
				"revocation_endpoint":                   b + pathRevoke,
				"introspection_endpoint":                b + pathIntrospect,
				"userinfo_endpoint":                     b + pathUserinfo,
			}
		}
	}
	if oidc, err = json.Marshal(m); err != nil {
		return nil, nil, fmt.Errorf("authz: discovery: %w", err)
	}
	// RFC 8414 metadata: the same document without the OIDC-only members.
	for _, k := range []string{"userinfo_endpoint", "subject_types_supported", "id_token_signing_alg_values_supported", "claims_supported", "acr_values_supported", "claims_parameter_supported", "request_parameter_supported", "request_uri_parameter_supported", "userinfo_signing_alg_values_supported"} {
		delete(m, k)
	}
	if as, err = json.Marshal(m); err != nil {
		return nil, nil, fmt.Errorf("authz: metadata: %w", err)
	}
	return oidc, as, nil
}

func (s *Server) handleDiscovery(c echo.Context) error {
	return writeCachedJSON(c, s.discovery)
}

func (s *Server) handleASMetadata(c echo.Context) error {
	return writeCachedJSON(c, s.asMetadata)
}

// handleJWKS serves the published keys, re-read from the database at most
// every keyCacheTTL and marshalled once per key-set change.
func (s *Server) handleJWKS(c echo.Context) error {
	ks, err := s.keys.get(c.Request().Context())
	if outage(c.Request().Context(), err) {
		s.writeUnavailable(c.Request().Context(), c.Response(), pathJWKS, err)
		return nil
	} else if err != nil {
		s.log.ErrorContext(c.Request().Context(), "jwks: load keys failed", "err", err)
		return c.JSON(http.StatusInternalServerError, map[string]string{"error": "server_error"})
	}
	return writeCachedJSON(c, ks.jwks)
}

func writeCachedJSON(c echo.Context, b []byte) error {
	h := c.Response().Header()
	h.Set("Cache-Control", "public, max-age=60")
	h.Set("Access-Control-Allow-Origin", "*")
	return c.Blob(http.StatusOK, "application/json", b)
}

// clientAuthMethods are the client authentication methods the token, PAR,
// introspection and revocation endpoints advertise: discovery lists them
// and refusals name them (clientAuthHint), from this one list.
func (s *Server) clientAuthMethods() []string {
	methods := []string{authPrivateKeyJWT, authClientSecretBasic}
	if s.fapi2() {
		// What a FAPI 2.0 relying party may use; the bank's first-party
		// clients, outside the profile, may still use their secrets.
		methods = []string{authPrivateKeyJWT}
	}
	if s.cfg.MTLS.Enabled {
		// RFC 8705: tls_client_auth needs a CA to verify certificates with.
		if s.cfg.MTLS.ClientCAs != nil {
			methods = append(methods, authTLSClientAuth)
		}
		methods = append(methods, authSelfSignedTLS)
	}
	return methods
}

// clientAuthHint is the hint of an invalid_client answer to a request that
// authenticated with something else than a client method (an access
// token): the advertised methods, "(a, b or c)".
func (s *Server) clientAuthHint() string {
	m := s.clientAuthMethods()
	list := m[len(m)-1]
	if len(m) > 1 {
		list = strings.Join(m[:len(m)-1], ", ") + " or " + list
	}
	return "Authenticate as a client (" + list + "); an access token is no credential here."
}

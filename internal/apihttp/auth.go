package apihttp

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/store"
)

// TokenVerifier checks the access token of a request's Authorization
// header (Bearer or DPoP) and its sender constraint (the DPoP proof of a
// bound token); authz.Server satisfies it. Any error but the store's
// ErrUnavailable means the token is not valid now; one with a
// Challenge(realm) method carries the WWW-Authenticate to send, one with
// DPoPNonce() the DPoP-Nonce (authz.ResourceError).
type TokenVerifier interface {
	VerifyRequest(r *http.Request) (store.Grant, error)
}

// Bearer verifies the Authorization header with v; the problem is a 401,
// or the store's error when the token could not be read (a database
// outage is a 503, not an invalid token: issue 11, finding 3).
func Bearer(c echo.Context, v TokenVerifier, realm string) (store.Grant, error) {
	h := c.Request().Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if h == "" || !ok || !(strings.EqualFold(scheme, "Bearer") || strings.EqualFold(scheme, "DPoP")) || strings.TrimSpace(token) == "" {
		return store.Grant{}, Unauthorized("an access token is required (Authorization: Bearer …, or DPoP … with a DPoP proof)",
			Challenge(v, realm, "", ""))
	}
	g, err := v.VerifyRequest(c.Request())
	if errors.Is(err, store.ErrUnavailable) {
		return store.Grant{}, fmt.Errorf("verify token: %w", err)
	} else if err != nil {
		p := Unauthorized("the access token is invalid or expired",
			Challenge(v, realm, "invalid_token", "the access token is invalid or expired"))
		// A DPoP proof's refusal is on the DPoP scheme (RFC 9449 §7.1).
		var ch interface{ Challenge(realm string) string }
		if errors.As(err, &ch) {
			p.WWWAuthenticate = ch.Challenge(realm)
		}
		var n interface{ DPoPNonce() string }
		if errors.As(err, &n) && n.DPoPNonce() != "" {
			c.Response().Header().Set("DPoP-Nonce", n.DPoPNonce())
		}
		return store.Grant{}, p
	}
	return g, nil
}

// Challenger is a TokenVerifier that words a resource's WWW-Authenticate
// challenge (RFC 6750 §3, RFC 9449 §7.1) itself: authz.Server, whose DPoP
// challenge lists the proof algorithms of its profile. code is the error
// parameter ("" for none).
type Challenger interface {
	Challenge(realm, code, description string) string
}

// Challenge is the WWW-Authenticate of a 401 at realm: v's when it is a
// Challenger, else Bearer's alone (v accepts no DPoP proof it could name).
func Challenge(v TokenVerifier, realm, code, description string) string {
	if ch, ok := v.(Challenger); ok {
		return ch.Challenge(realm, code, description)
	}
	if code == "" {
		return fmt.Sprintf("Bearer realm=%q", realm)
	}
	return fmt.Sprintf("Bearer realm=%q, error=%q, error_description=%q", realm, code, description)
}

// InsufficientScope is the 403 of a token without scope.
func InsufficientScope(realm, scope, detail string) *Problem {
	p := Forbidden("insufficient-scope", detail)
	p.WWWAuthenticate = fmt.Sprintf(`Bearer realm=%q, error="insufficient_scope", scope=%q`, realm, scope)
	return p
}

package authz

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/store"
)

// handleUserinfo is OIDC UserInfo: Bearer access token with openid.
func (s *Server) handleUserinfo(c echo.Context) error {
	ctx := c.Request().Context()
	w := c.Response()
	w.Header().Set("Cache-Control", "no-store")
	auth := c.Request().Header.Get("Authorization")
	scheme, token, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+s.cfg.Issuer+`"`)
		return c.JSON(http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": "A Bearer access token is required."})
	}
	grant, acc, err := s.verifyGrant(ctx, strings.TrimSpace(token))
	if errors.Is(err, ErrInvalidToken) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		return c.JSON(http.StatusUnauthorized, map[string]string{"error": "invalid_token"})
	} else if outage(ctx, err) {
		s.writeUnavailable(ctx, w, pathUserinfo, err)
		return nil
	} else if err != nil {
		s.log.ErrorContext(ctx, "userinfo: verify failed", "err", err)
		return c.JSON(http.StatusInternalServerError, map[string]string{"error": "server_error"})
	}
	if !grant.HasScope(store.ScopeOpenID) || grant.UserID == "" {
		w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope", scope="openid"`)
		return c.JSON(http.StatusForbidden, map[string]string{"error": "insufficient_scope"})
	}
	// verifyGrant judged the grant with its user, read with the token.
	user := acc.User
	out := map[string]any{"sub": user.ID}
	if grant.HasScope(store.ScopeProfile) {
		out["name"] = user.DisplayName
		out["preferred_username"] = user.LoginID
	}
	return c.JSON(http.StatusOK, out)
}

package authz

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/store"
)

// handleUserinfo is OIDC UserInfo: Bearer access token with openid.
func (s *Server) handleUserinfo(c echo.Context) error {
	ctx := c.Request().Context()
	w := c.Response()
	w.Header().Set("Cache-Control", "no-store")
	grant, acc, err := s.verifyRequestGrant(c.Request(), s.st.GetTokenGrantRecords)
	var re *ResourceError
	if errors.As(err, &re) {
		w.Header().Set("WWW-Authenticate", re.Challenge(s.cfg.Issuer))
		if n := re.DPoPNonce(); n != "" {
			w.Header().Set(headerDPoPNonce, n)
		}
		code := re.Code
		if code == "" {
			code = "invalid_token"
		}
		return c.JSON(http.StatusUnauthorized, map[string]string{"error": code, "error_description": re.Description})
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
	// verifyRequestGrant judged the grant with its user, read whole with
	// the token.
	user := acc.User
	out := map[string]any{"sub": user.ID}
	if grant.HasScope(store.ScopeProfile) {
		out["name"] = user.DisplayName
		out["preferred_username"] = user.LoginID
	}
	return c.JSON(http.StatusOK, out)
}

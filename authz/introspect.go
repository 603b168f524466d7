package authz

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/ory/fosite"
)

// handleIntrospect is RFC 7662 introspection. The caller authenticates as a
// client, as at the token endpoint (client_secret_basic or private_key_jwt;
// an access token is no credential), and learns about its own tokens only
// (§4): any other token — unknown, inactive or another client's — is
// {"active": false}, one answer for all so that nothing can be probed.
// There is no registration of resource servers: the bank's own APIs verify
// tokens in process (Verify).
func (s *Server) handleIntrospect(c echo.Context) error {
	ctx := context.WithValue(c.Request().Context(), introspectingKey{}, true)
	r, w := c.Request(), c.Response()
	if err := r.ParseForm(); err != nil || len(r.PostForm) == 0 {
		s.provider.WriteIntrospectionError(ctx, w, fosite.ErrInvalidRequest.WithHint("The POST body must be a form with the token."))
		return nil
	}
	if h := r.Header.Get("Authorization"); h != "" && !strings.HasPrefix(strings.ToLower(h), "basic ") {
		err := fosite.ErrInvalidClient.WithHint("Authenticate as a client (client_secret_basic or private_key_jwt); an access token is no credential here.")
		s.logOAuthError(ctx, pathIntrospect, err)
		s.provider.WriteAccessError(ctx, w, nil, err)
		return nil
	}
	client, err := s.profileAuthenticate(ctx, r, r.PostForm)
	if outage(ctx, err) {
		s.writeUnavailable(ctx, w, pathIntrospect, err)
		return nil
	} else if err != nil {
		s.logOAuthError(ctx, pathIntrospect, err)
		s.provider.WriteAccessError(ctx, w, nil, err)
		return nil
	}
	scopes := fosite.RemoveEmpty(strings.Split(r.PostForm.Get("scope"), " "))
	use, ar, err := s.provider.IntrospectToken(ctx, r.PostForm.Get("token"), fosite.TokenUse(r.PostForm.Get("token_type_hint")), newSession(), scopes...)
	if outage(ctx, err) {
		s.writeUnavailable(ctx, w, pathIntrospect, err)
		return nil
	}
	if err != nil || ar.GetClient() == nil || ar.GetClient().GetID() != client.GetID() {
		writeInactive(w)
		return nil
	}
	resp := &fosite.IntrospectionResponse{Active: true, AccessRequester: ar, TokenUse: use}
	if use == fosite.AccessToken {
		resp.AccessTokenType = fosite.BearerAccessToken
	}
	s.provider.WriteIntrospectionResponse(ctx, w, resp)
	return nil
}

func writeInactive(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	_ = json.NewEncoder(w).Encode(map[string]bool{"active": false})
}

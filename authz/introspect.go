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
// client, as at the token endpoint (the methods discovery advertises; an
// access token is no credential), and learns about its own tokens only
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
	if s.refuseTokenCredentials(ctx, w, r, pathIntrospect) {
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
	if !writeActive(w, ar) {
		resp := &fosite.IntrospectionResponse{Active: true, AccessRequester: ar, TokenUse: use}
		if use == fosite.AccessToken {
			resp.AccessTokenType = fosite.BearerAccessToken
		}
		s.provider.WriteIntrospectionResponse(ctx, w, resp)
	}
	return nil
}

// activeResponse is fosite's answer for an active token
// (WriteIntrospectionResponse) as a struct: its members are those fosite
// sets, in the order its map encodes them (sorted), so the bytes are the
// same (TestIntrospectionResponseAsFosites), without building, sorting and
// reflecting over a map of interfaces (7.5 % of an introspection's CPU,
// issue 15).
type activeResponse struct {
	Active    bool               `json:"active"`
	Aud       []string           `json:"aud,omitempty"`
	ClientID  string             `json:"client_id,omitempty"`
	Cnf       *confirmationClaim `json:"cnf,omitempty"`
	Exp       int64              `json:"exp,omitempty"`
	Iat       int64              `json:"iat,omitempty"`
	Scope     string             `json:"scope,omitempty"`
	Sub       string             `json:"sub,omitempty"`
	TokenType string             `json:"token_type,omitempty"`
	Username  string             `json:"username,omitempty"`
}

// writeActive writes the answer for ar's active token, as fosite would,
// and reports whether it did: a session of another type is left to fosite.
func writeActive(w http.ResponseWriter, ar fosite.Requester) bool {
	sess, ok := ar.GetSession().(*Session)
	if !ok || sess == nil {
		return false
	}
	r := activeResponse{Active: true, Aud: ar.GetGrantedAudience(), ClientID: ar.GetClient().GetID(),
		Scope: strings.Join(ar.GetGrantedScopes(), " "), Sub: sess.GetSubject(), Username: sess.GetUsername()}
	r.Cnf, r.TokenType = sess.confirmation()
	// fosite's writer gives the access token's expiry for either kind.
	if t := sess.GetExpiresAt(fosite.AccessToken); !t.IsZero() {
		r.Exp = t.Unix()
	}
	if t := ar.GetRequestedAt(); !t.IsZero() {
		r.Iat = t.Unix()
	}
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=UTF-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	_ = json.NewEncoder(w).Encode(&r)
	return true
}

func writeInactive(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	_ = json.NewEncoder(w).Encode(map[string]bool{"active": false})
}

// refuseTokenCredentials answers 401 invalid_client, naming the advertised
// methods, to an introspection or revocation request whose Authorization
// header is not Basic (an access token, which authenticates no client);
// it reports whether it did.
func (s *Server) refuseTokenCredentials(ctx context.Context, w http.ResponseWriter, r *http.Request, path string) bool {
	h := r.Header.Get("Authorization")
	if h == "" || len(h) >= len("basic ") && strings.EqualFold(h[:len("basic ")], "basic ") {
		return false
	}
	err := fosite.ErrInvalidClient.WithHint(s.clientAuthHint())
	s.logOAuthError(ctx, path, err)
	s.provider.WriteAccessError(ctx, w, nil, err)
	return true
}

package authz

import (
	"slices"
	"strings"

	"github.com/ory/fosite"
)

// narrowRefresh applies a refresh grant's scope parameter (RFC 6749 §6),
// which fosite ignores: a scope beyond what the presented refresh token
// grants is invalid_scope; a narrower one narrows the new access token. The
// new refresh token keeps the presented one's scopes ("identical", §6):
// sess.refreshScopes carries them to the store (refreshRecordRequest).
func narrowRefresh(ar fosite.AccessRequester, sess *Session) error {
	requested := strings.Fields(ar.GetRequestForm().Get("scope"))
	if len(requested) == 0 {
		return nil
	}
	granted := ar.GetGrantedScopes()
	for _, sc := range requested {
		if !granted.Has(sc) {
			return fosite.ErrInvalidScope.WithHintf("The refresh token does not grant scope '%s'.", sc)
		}
	}
	req, ok := ar.(*fosite.AccessRequest)
	if !ok {
		return fosite.ErrServerError.WithDebug("unexpected access request type")
	}
	sess.refreshScopes = slices.Clone([]string(granted))
	var narrowed fosite.Arguments
	for _, sc := range granted { // the grant's order, not the request's
		if slices.Contains(requested, sc) {
			narrowed = append(narrowed, sc)
		}
	}
	req.GrantedScope = narrowed
	return nil
}

// refreshRecordRequest is the request a new refresh token is stored with:
// req, with the presented refresh token's scopes if narrowRefresh narrowed
// the grant's.
func refreshRecordRequest(req fosite.Requester) fosite.Requester {
	s, ok := req.GetSession().(*Session)
	if !ok || s.refreshScopes == nil {
		return req
	}
	r, ok := req.(*fosite.Request)
	if !ok {
		return req
	}
	c := *r
	c.GrantedScope = fosite.Arguments(slices.Clone(s.refreshScopes))
	return &c
}

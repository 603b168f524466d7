package authz

import (
	"maps"
	"slices"

	"github.com/ory/fosite"
	"github.com/ory/fosite/token/jwt"
)

// decodedRequestCacheSize bounds fositeStore.decoded: a few kilobytes per
// access token introspected while it lives.
const decodedRequestCacheSize = 4096

// decodedRequest is an access token's stored request as decoded once: the
// sealed bytes it came from (a record holding other bytes is decoded
// afresh), the request's fields, and a session that is never handed out —
// every use gets its own deep copy, which fosite is free to change.
type decodedRequest struct {
	sealed []byte
	req    storedRequest
	sess   *Session
}

// sessionInto copies the decoded session into sess, the empty session
// fosite asked to be filled (a new one when nil); false for a session type
// other than ours, which is then decoded from the JSON as before.
func (d decodedRequest) sessionInto(sess fosite.Session) (fosite.Session, bool) {
	switch s := sess.(type) {
	case nil:
		return d.sess.deepCopy(), true
	case *Session:
		*s = *d.sess.deepCopy()
		return s, true
	}
	return nil, false
}

// sharedInto is sessionInto without the copy: sess gets the decoded
// session's own claims, headers and expiry times, which must only be read
// (fositeStore.readGrant).
func (d decodedRequest) sharedInto(sess fosite.Session) (*Session, bool) {
	switch s := sess.(type) {
	case nil:
		c := *d.sess
		return &c, true
	case *Session:
		*s = *d.sess
		return s, true
	}
	return nil, false
}

// deepCopy copies the session field by field: Clone's reflective copy cost
// as much as decoding the JSON again. TestSessionDeepCopyShares nothing
// guards it against fields fosite may add.
func (s *Session) deepCopy() *Session {
	c := *s
	c.refreshScopes = slices.Clone(s.refreshScopes)
	if s.DefaultSession != nil {
		d := *s.DefaultSession
		if d.Claims != nil {
			cl := *d.Claims
			cl.Audience = slices.Clone(cl.Audience)
			cl.AuthenticationMethodsReferences = slices.Clone(cl.AuthenticationMethodsReferences)
			cl.Extra = copyJSONMap(cl.Extra)
			d.Claims = &cl
		}
		d.Headers = copyHeaders(d.Headers)
		d.ExpiresAt = maps.Clone(d.ExpiresAt)
		c.DefaultSession = &d
	}
	if s.JWTClaims != nil {
		j := *s.JWTClaims
		j.Audience = slices.Clone(j.Audience)
		j.Scope = slices.Clone(j.Scope)
		j.Extra = copyJSONMap(j.Extra)
		c.JWTClaims = &j
	}
	c.JWTHeader = copyHeaders(s.JWTHeader)
	return &c
}

func copyHeaders(h *jwt.Headers) *jwt.Headers {
	if h == nil {
		return nil
	}
	return &jwt.Headers{Extra: copyJSONMap(h.Extra)}
}

// copyJSONMap deep-copies claims as JSON decodes them: nested objects and
// arrays are copied, every other value is immutable.
func copyJSONMap(m map[string]interface{}) map[string]interface{} {
	if m == nil {
		return nil
	}
	out := make(map[string]interface{}, len(m))
	for k, v := range m {
		out[k] = copyJSONValue(v)
	}
	return out
}

func copyJSONValue(v interface{}) interface{} {
	switch v := v.(type) {
	case map[string]interface{}:
		return copyJSONMap(v)
	case []interface{}:
		out := make([]interface{}, len(v))
		for i, e := range v {
			out[i] = copyJSONValue(e)
		}
		return out
	case []string:
		return slices.Clone(v)
	}
	return v
}

package authz

import (
	"context"
	"encoding/json"
)

// DecodedRequestSnapshot is the JSON of the request and session this
// replica keeps decoded for an access token (fositeStore.decoded), and
// whether it keeps one: what the tests compare to show it unchanged.
func DecodedRequestSnapshot(s *Server, accessToken string) ([]byte, bool) {
	d, ok := s.store.decoded.get(s.access.AccessTokenSignature(context.Background(), accessToken))
	if !ok {
		return nil, false
	}
	b, err := json.Marshal(struct {
		Request       storedRequest
		Session       *Session
		RefreshScopes []string
	}{d.req, d.sess, d.sess.refreshScopes})
	if err != nil {
		panic(err) // a programming error: both are JSON by design
	}
	return b, true
}

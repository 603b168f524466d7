package authz

import (
	"context"
	"encoding/json"
	"net/url"
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

// PushedFlowForm is the form a flow started from requestURI keeps, as the
// flow's sealed request holds it.
func PushedFlowForm(ctx context.Context, s *Server, requestURI string) (url.Values, error) {
	flow, err := s.st.GetAuthFlow(ctx, s.pushed.flowID(requestURI))
	if err != nil {
		return nil, err
	}
	blob, err := s.flowSeal.open(flow.Request, "flow:"+flow.ID)
	if err != nil {
		return nil, err
	}
	sr, _, err := parseRequest(blob, nil)
	return sr.Form, err
}

package admin_test

import (
	"net/http"
	"strings"

	"github.com/bankfeed/bankfeed/store"
)

// requestToken is the token of r's Authorization header.
func requestToken(r *http.Request) string {
	_, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	return strings.TrimSpace(token)
}

// VerifyRequest is the test verifier's admin.TokenVerifier: the token of
// the Authorization header, looked up by Verify (the DPoP sender
// constraint is authz's, tested there and through the whole wiring in
// cmd/bankfeed).
func (v *verifier) VerifyRequest(r *http.Request) (store.Grant, error) {
	return v.Verify(r.Context(), requestToken(r))
}

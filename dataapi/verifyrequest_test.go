package dataapi_test

import (
	"context"
	"net/http"
	"strings"

	"github.com/bankfeed/bankfeed/store"
)

// VerifyRequestWith is the test verifier's dataapi.TokenVerifier: the
// token of the Authorization header (Bearer; the DPoP sender constraint is
// authz's, tested there and through the whole wiring in cmd/bankfeed),
// verified by VerifyWith.
func (v *verifier) VerifyRequestWith(r *http.Request, read func(context.Context, string) (store.TokenRecord, error)) (store.Grant, error) {
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return store.Grant{}, errBadToken
	}
	return v.VerifyWith(r.Context(), strings.TrimSpace(token), read)
}

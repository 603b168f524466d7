// Package authz is bankfeed's OAuth 2.0 / OpenID Connect authorization server,
// built on github.com/ory/fosite: the authorize, PAR, token, revocation,
// introspection, userinfo, discovery and JWKS endpoints, the fosite storage
// adapter over store.Store, signing keys kept (encrypted) in the database,
// client registration (CreateClient) and access-token verification (Verify)
// for the data and administration APIs.
//
// It owns the OAuth protocol and nothing of the bank's pages: a user signs in
// and consents in package consent, and the two meet only through the stored
// store.AuthFlow record (see store/oauth.go). authz re-checks what consent
// recorded (user active, accounting software user, scopes the job role allows
// now) before it issues a code, and again on every refresh.
//
// It must not import any project package but store, must keep no state in
// process that two replicas would disagree on (caches are short-lived copies
// of the database), and must never log a code, token, secret or password.
package authz

// Package consent owns the bank's server-rendered pages on the OAuth
// authorization path: sign in, first sign-in (new password and security
// question), the consent screen and the user's list of connected
// applications (with "Disconnect").
//
// It meets the authorization server (package authz) through the store and
// two functions: authz parks a request as a store.AuthFlow and sends the
// browser to /login?login_challenge=ID; this package signs the user in and
// moves the flow with compare-and-swap (login → consent, never backwards).
// With Config.Finish set (serve sets authz.Server.Finish), Allow and Deny
// hand the decision to authz in the same request, which records it on the
// flow as read and marks the flow done in one statement and answers with
// the vendor's redirect. Otherwise, or when the flow changed since read,
// the decision is recorded here (consent → decided) with the hash of a
// one-time verifier and the flow handed back: to Config.Resume in the same
// request when set (authz.Server.Resume), else by sending the browser to
// /oauth2/authorize/resume. Either way authz finishes the flow and
// re-checks everything; this package never issues tokens or creates
// consents.
//
// It must not import authz, dataapi, admin, config, gorm or fosite. Pages are
// embedded html/template files rendered into a buffer (never half a page),
// with no script and no third-party content: a vendor's LogoURI is not shown
// (an <img> would load third-party content and tell the vendor who is looking),
// only its registered name.
//
// Forms carry a CSRF token: the sign-in form a double-submit cookie (no
// session exists yet), every later form the token of the browser session;
// both behind SameSite=Lax cookies and net/http's cross-origin check. The
// consent page's CSP form-action also lists the vendor's registered redirect
// origins, because browsers apply form-action to the redirects that follow a
// form post (Allow → the vendor, or Allow → /oauth2/authorize/resume → the
// vendor).
//
// A sign-in flood is bounded before any password is checked: per client
// address and per typed login ID (its login key, alike for every ID) token
// buckets answer 429, and the process-wide argon2id bound of package store
// answers 503 when its short queue is full (ratelimit.go, login.go). Neither
// refusal counts a failure or tells whether the login ID exists.
package consent

package store

import (
	"encoding/json"
	"time"
)

// Client is an OAuth client: a vendor's accounting software, or a first-party
// system of the bank.
type Client struct {
	ID         string
	Name       string
	SecretHash string // empty for private_key_jwt clients
	// PreviousSecretHash stays valid beside SecretHash until
	// PreviousSecretExpiresAt, the overlap of a secret rotation.
	PreviousSecretHash          string
	PreviousSecretExpiresAt     time.Time
	RedirectURIs                []string
	GrantTypes                  []string
	ResponseTypes               []string
	Scopes                      []string // what the client may ask for
	Audience                    []string
	TokenEndpointAuthMethod     string // "private_key_jwt" or "client_secret_basic"
	TokenEndpointAuthSigningAlg string // "PS256" or "ES256" for private_key_jwt
	JWKS                        json.RawMessage
	JWKSURI                     string
	RequirePAR                  bool
	FirstParty                  bool
	// DPoPBoundAccessTokens requires a DPoP proof for every token the client
	// obtains (RFC 9449 §5.2 dpop_bound_access_tokens).
	DPoPBoundAccessTokens bool
	// NativeApp allows the RFC 8252 §7.3 loopback port relaxation of its
	// redirect URIs; every other client's match exactly.
	NativeApp bool
	// RequireSignedRequestObject refuses a pushed authorization request
	// without a request object signed with the client's key (RFC 9101 §10.5).
	RequireSignedRequestObject bool
	// TLSClientAuth is what a tls_client_auth client's certificate must
	// carry (RFC 8705 §2.1.2); zero for every other method.
	TLSClientAuth TLSClientAuth
	LogoURI       string
	PolicyURI     string
	TOSURI        string
	// Status is ClientActive, or ClientPending / ClientRejected for a client
	// that registered itself (RFC 7591); "" reads as active.
	Status string
	// RegistrationTokenHash is the hash of the RFC 7592 registration access
	// token of a client that registered itself; empty otherwise.
	RegistrationTokenHash string
	Registration          ClientRegistration
	CreatedAt             time.Time
	UpdatedAt             time.Time
}

// Secretless is c without its secret hashes (current, previous, and the
// registration access token's): what SessionAccessFlow returns, since the
// pages it serves never authenticate the client.
func (c Client) Secretless() Client {
	c.SecretHash, c.PreviousSecretHash, c.RegistrationTokenHash = "", "", ""
	return c
}

// TLSClientAuth names the one subject DN or subject alternative name a
// tls_client_auth client's certificate must carry (RFC 8705 §2.1.2): exactly
// one field is set.
type TLSClientAuth struct {
	SubjectDN string // RFC 4514 string, e.g. "CN=books,O=Books Online,C=CA"
	SANDNS    string
	SANURI    string
	SANIP     string
	SANEmail  string
}

// Consent is a user's standing permission for a client to read data.
type Consent struct {
	ID         string // also the fosite request ID of every token it issued
	UserID     string
	ClientID   string
	Scopes     []string
	GrantedAt  time.Time
	ExpiresAt  time.Time // zero: until revoked
	RevokedAt  time.Time
	LastUsedAt time.Time
	// Replaced, set by ReplaceConsent only (not stored), are the consents of
	// the same user and client it revoked: the audit line names them
	// without reading them back.
	Replaced []string
}

// Active reports whether the consent stands at now.
func (c Consent) Active(now time.Time) bool {
	return c.RevokedAt.IsZero() && (c.ExpiresAt.IsZero() || now.Before(c.ExpiresAt))
}

// TokenKind names the table a token record lives in.
type TokenKind string

const (
	TokenAuthorizeCode TokenKind = "authorize_code"
	TokenAccess        TokenKind = "access_token"
	TokenRefresh       TokenKind = "refresh_token"
	TokenPKCE          TokenKind = "pkce"
	TokenOIDC          TokenKind = "oidc"
	// TokenPAR records are no longer written: a pushed request lives in
	// its request_uri (authz). Those of earlier versions expire and are
	// swept with the others (DeleteExpiredTokens).
	TokenPAR TokenKind = "par"
)

// TokenKey names one token record.
type TokenKey struct {
	Kind      TokenKind
	Signature string
}

// TokenRecord is what the OAuth server persists for codes, tokens, PKCE, OIDC
// and PAR sessions. Signature is a signature or hash, never the raw secret.
// Request is the serialized (and optionally encrypted) request and session;
// the store does not look inside it.
type TokenRecord struct {
	Kind            TokenKind
	Signature       string
	RequestID       string // the grant family (= Consent.ID for user grants)
	ClientID        string
	Subject         string // user ID, or empty for client_credentials
	Active          bool
	RequestedAt     time.Time
	ExpiresAt       time.Time
	FirstUsedAt     time.Time // refresh tokens: first rotation (grace period)
	AccessSignature string    // refresh tokens: the access token issued with it
	TokenType       string    // "bearer" today; "DPoP" later
	KeyThumbprint   string    // cnf.jkt for sender-constrained tokens later
	Request         []byte
}

// MaxUILocales bounds the ui_locales list (OIDC Core §3.1.2.1) that authz
// hands to the bank's pages with a flow, and that the consent page passes
// on to sign-in: a longer one is dropped, not passed on.
const MaxUILocales = 200

// AuthFlow is an authorization request parked while the user signs in and
// consents on the bank's pages (the hand-off between authz and consent).
//
//	authz: NewAuthorizeRequest ok → CreateAuthFlow(state=login) → redirect /login?login_challenge=ID
//	consent: sign in (+ first sign-in) → state=consent → Allow/Deny → state=decided, Verifier set
//	authz: /oauth2/authorize/resume?login_challenge=ID&login_verifier=V → check, mark state=done (single use)
//	(or, with Allow and Deny wired to authz in the same request, consent →
//	done with the decision in one statement: FinishReadAuthFlow)
type AuthFlow struct {
	ID              string // the login challenge (random, unguessable)
	ClientID        string
	RequestedScopes []string
	Request         []byte // the serialized authorize request (authz's business)
	State           AuthFlowState
	UserID          string
	AuthTime        time.Time
	GrantedScopes   []string
	Denied          bool
	DenyReason      string
	VerifierHash    string // hash of the one-time verifier handed back to authz
	CSRFToken       string
	ExpiresAt       time.Time
	CreatedAt       time.Time
	UpdatedAt       time.Time
	// Version is the flow's as read; every change moves it
	// (UpdateReadAuthFlow compares it).
	Version int64
}

// FlowDecision is the user's answer on the consent page: the scopes
// granted, or why the flow is denied.
type FlowDecision struct {
	GrantedScopes []string
	DenyReason    string // "": allowed
}

// AuthFlowState is a step of the flow; transitions only go forward.
type AuthFlowState string

const (
	FlowLogin   AuthFlowState = "login"
	FlowConsent AuthFlowState = "consent"
	FlowDecided AuthFlowState = "decided"
	FlowDone    AuthFlowState = "done"
)

// BrowserSession is a signed-in session on the bank's pages. ID is the hash
// of the cookie value.
type BrowserSession struct {
	ID        string
	UserID    string
	AuthTime  time.Time
	CSRFToken string
	ExpiresAt time.Time
	CreatedAt time.Time
}

// SigningKey is a JOSE key pair. PrivateJWK is encrypted at rest by the
// caller; the store keeps the bytes it is given.
type SigningKey struct {
	ID         string // kid
	Algorithm  string // PS256 or ES256
	PublicJWK  json.RawMessage
	PrivateJWK []byte // encrypted
	CreatedAt  time.Time
	RetiredAt  time.Time // zero while current; retired keys stay published until their tokens expire
}

// Grant is what a verified access token stands for (handed by authz to the
// data and administration APIs, which re-check the user, consent, role and
// account group on every request).
type Grant struct {
	RequestID  string // the grant family; the Consent ID for user grants
	ClientID   string
	UserID     string // empty for client_credentials
	Scopes     []string
	ExpiresAt  time.Time
	FirstParty bool
}

// HasScope reports whether s was granted.
func (g Grant) HasScope(s string) bool {
	for _, x := range g.Scopes {
		if x == s {
			return true
		}
	}
	return false
}

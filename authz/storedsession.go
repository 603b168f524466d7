package authz

import (
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/token/jwt"
)

// storedSession is a Session as a stored request carries it: Session's own
// JSON names, so Session's plain decoding reads it (an older release's too:
// it decodes into an empty session), without the members that hold a zero
// value. fosite's claim types carry no omitempty, and their zero
// timestamps, nulls and empty strings were more than a third of every
// token record and of the JSON work to write and read one (issue 15).
//
// omitzero, not omitempty: an empty but non-nil slice or map is written and
// decodes as itself, so decoding into an empty session gives back the
// session that was encoded. The pointers DefaultSession keeps (claims,
// headers) are written even when nil, because an empty session has them.
type storedSession struct {
	DefaultSession *storedDefaultSession `json:"id_token"`

	JWTClaims *storedJWTClaims `json:"jwt_claims,omitempty"`
	JWTHeader *storedHeaders   `json:"jwt_header,omitempty"`

	ClientID       string `json:"client_id,omitzero"`
	FirstParty     bool   `json:"first_party,omitzero"`
	DPoPJKT        string `json:"dpop_jkt,omitzero"`
	CertThumbprint string `json:"x5t_s256,omitzero"`
}

type storedDefaultSession struct {
	Claims    *storedIDTokenClaims           `json:"id_token_claims"`
	Headers   *storedHeaders                 `json:"headers"`
	ExpiresAt map[fosite.TokenType]time.Time `json:"expires_at,omitzero"`
	Username  string                         `json:"username,omitzero"`
	Subject   string                         `json:"subject,omitzero"`
}

// storedIDTokenClaims, storedJWTClaims and storedHeaders have the fields
// of fosite's jwt.IDTokenClaims, jwt.JWTClaims and jwt.Headers, in their
// order, so that a pointer to one converts to a pointer to the other: a
// field fosite adds or changes stops the build instead of going unstored.
type storedIDTokenClaims struct {
	JTI                                 string                 `json:"jti,omitzero"`
	Issuer                              string                 `json:"iss,omitzero"`
	Subject                             string                 `json:"sub,omitzero"`
	Audience                            []string               `json:"aud,omitzero"`
	Nonce                               string                 `json:"nonce,omitzero"`
	ExpiresAt                           time.Time              `json:"exp,omitzero"`
	IssuedAt                            time.Time              `json:"iat,omitzero"`
	RequestedAt                         time.Time              `json:"rat,omitzero"`
	AuthTime                            time.Time              `json:"auth_time,omitzero"`
	AccessTokenHash                     string                 `json:"at_hash,omitzero"`
	AuthenticationContextClassReference string                 `json:"acr,omitzero"`
	AuthenticationMethodsReferences     []string               `json:"amr,omitzero"`
	CodeHash                            string                 `json:"c_hash,omitzero"`
	Extra                               map[string]interface{} `json:"ext,omitzero"`
}

type storedJWTClaims struct {
	Subject    string                 `json:",omitzero"`
	Issuer     string                 `json:",omitzero"`
	Audience   []string               `json:",omitzero"`
	JTI        string                 `json:",omitzero"`
	IssuedAt   time.Time              `json:",omitzero"`
	NotBefore  time.Time              `json:",omitzero"`
	ExpiresAt  time.Time              `json:",omitzero"`
	Scope      []string               `json:",omitzero"`
	Extra      map[string]interface{} `json:",omitzero"`
	ScopeField jwt.JWTScopeFieldEnum  `json:",omitzero"`
}

type storedHeaders struct {
	Extra map[string]interface{} `json:"extra,omitzero"`
}

// stored is s in its stored form; it shares s's claims, maps and slices.
func (s *Session) stored() *storedSession {
	out := &storedSession{
		JWTClaims:      (*storedJWTClaims)(s.JWTClaims),
		JWTHeader:      (*storedHeaders)(s.JWTHeader),
		ClientID:       s.ClientID,
		FirstParty:     s.FirstParty,
		DPoPJKT:        s.DPoPJKT,
		CertThumbprint: s.CertThumbprint,
	}
	if d := s.DefaultSession; d != nil {
		out.DefaultSession = &storedDefaultSession{
			Claims:    (*storedIDTokenClaims)(d.Claims),
			Headers:   (*storedHeaders)(d.Headers),
			ExpiresAt: d.ExpiresAt,
			Username:  d.Username,
			Subject:   d.Subject,
		}
	}
	return out
}

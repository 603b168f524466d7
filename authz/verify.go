package authz

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v3"

	"github.com/bankfeed/bankfeed/store"
)

// ErrInvalidToken is returned by Verify for a missing, malformed, unknown,
// expired or revoked access token (answer 401 with
// WWW-Authenticate: Bearer error="invalid_token").
var ErrInvalidToken = errors.New("authz: invalid access token")

// Verify checks an access token (opaque or JWT, per configuration) and
// returns what it grants. The signature is checked in process and the token
// looked up by its signature in the database (one indexed read), so a
// revocation takes effect at once. Callers still re-check the user, consent,
// role and account group on every request.
func (s *Server) Verify(ctx context.Context, token string) (store.Grant, error) {
	if token == "" || len(token) > 4096 {
		return store.Grant{}, ErrInvalidToken
	}
	if s.cfg.TokenFormat == "jwt" {
		if err := s.verifyJWT(ctx, token); err != nil {
			return store.Grant{}, ErrInvalidToken
		}
	} else if !strings.HasPrefix(token, "ory_at_") || s.hmac.Enigma.Validate(ctx, strings.TrimPrefix(token, "ory_at_")) != nil {
		return store.Grant{}, ErrInvalidToken
	}
	sig := s.access.AccessTokenSignature(ctx, token)
	rec, err := s.st.GetToken(ctx, store.TokenAccess, sig)
	if errors.Is(err, store.ErrNotFound) {
		return store.Grant{}, ErrInvalidToken
	} else if err != nil {
		return store.Grant{}, fmt.Errorf("authz: verify: %w", err)
	}
	if !rec.Active || !s.now().Before(rec.ExpiresAt) {
		return store.Grant{}, ErrInvalidToken
	}
	plain, err := s.store.seal.open(rec.Request, recordAD(store.TokenAccess, sig))
	if err != nil {
		return store.Grant{}, fmt.Errorf("authz: verify: %w", err)
	}
	var sr struct {
		GrantedScope []string `json:"granted_scopes"`
		Session      struct {
			FirstParty bool `json:"first_party"`
		} `json:"session"`
	}
	if err := json.Unmarshal(plain, &sr); err != nil {
		return store.Grant{}, fmt.Errorf("authz: verify: decode: %w", err)
	}
	return store.Grant{
		RequestID:  rec.RequestID,
		ClientID:   rec.ClientID,
		UserID:     rec.Subject,
		Scopes:     sr.GrantedScope,
		ExpiresAt:  rec.ExpiresAt,
		FirstParty: sr.Session.FirstParty,
	}, nil
}

// verifyJWT checks a JWT access token's signature against every published
// key (so tokens signed before a rotation keep verifying), its typ and alg.
func (s *Server) verifyJWT(ctx context.Context, token string) error {
	jws, err := jose.ParseSigned(token)
	if err != nil || len(jws.Signatures) != 1 {
		return ErrInvalidToken
	}
	h := jws.Signatures[0].Protected
	if h.Algorithm != signingAlg {
		return ErrInvalidToken
	}
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); !strings.EqualFold(typ, "at+jwt") {
		return ErrInvalidToken
	}
	ks, err := s.keys.get(ctx)
	if err != nil {
		return err
	}
	key, ok := ks.public[h.KeyID]
	if !ok {
		// A key rotated in on another replica: reload once.
		s.keys.reset()
		if ks, err = s.keys.get(ctx); err != nil {
			return err
		}
		if key, ok = ks.public[h.KeyID]; !ok {
			return ErrInvalidToken
		}
	}
	payload, err := jws.Verify(key)
	if err != nil {
		return ErrInvalidToken
	}
	var claims struct {
		Exp int64  `json:"exp"`
		Iss string `json:"iss"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil || claims.Iss != s.cfg.Issuer || !s.now().Before(time.Unix(claims.Exp, 0)) {
		return ErrInvalidToken
	}
	return nil
}

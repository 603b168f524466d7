package authz

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
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
// read by its signature with its consent and user (one read), so a
// revocation takes effect at once: a user grant that no longer stands by
// store.JudgeGrant (consent revoked, expired or replaced; user locked by an
// administrator or deleted) is ErrInvalidToken. Callers still re-check the
// role and account group on every request.
func (s *Server) Verify(ctx context.Context, token string) (store.Grant, error) {
	g, _, err := s.verifyGrant(ctx, token)
	return g, err
}

// verifyGrant is Verify, also returning the records the grant was judged
// on (Access's consent and user; zero for a client_credentials grant).
func (s *Server) verifyGrant(ctx context.Context, token string) (store.Grant, store.Access, error) {
	var acc store.Access
	g, err := s.VerifyWith(ctx, token, func(ctx context.Context, sig string) (store.TokenRecord, error) {
		rec, a, err := s.st.GetTokenGrant(ctx, store.TokenAccess, sig)
		acc = a
		return rec, err
	})
	if err != nil || g.UserID == "" {
		return g, acc, err
	}
	if _, err := store.JudgeGrant(g, acc, s.now(), false); errors.Is(err, store.ErrGrantEnded) {
		return store.Grant{}, store.Access{}, ErrInvalidToken
	} else if err != nil {
		return store.Grant{}, store.Access{}, fmt.Errorf("authz: verify: %w", err)
	}
	return g, acc, nil
}

// VerifyWith is Verify with the read of the token record (by its signature,
// kind store.TokenAccess) left to the caller, so that the data API can read
// it in the same statement as the records it re-checks. read must return
// store.ErrNotFound for a signature it does not hold.
//
// It does not check a sender constraint: resources call VerifyRequest or
// VerifyRequestWith, which do; a DPoP-bound token is refused here.
func (s *Server) VerifyWith(ctx context.Context, token string, read func(ctx context.Context, signature string) (store.TokenRecord, error)) (store.Grant, error) {
	g, rec, err := s.verifyWith(ctx, token, read)
	if err == nil && rec.KeyThumbprint != "" {
		return store.Grant{}, ErrInvalidToken
	}
	return g, err
}

// verifyWith is VerifyWith, also returning the token record (its
// KeyThumbprint is the DPoP binding).
func (s *Server) verifyWith(ctx context.Context, token string, read func(ctx context.Context, signature string) (store.TokenRecord, error)) (store.Grant, store.TokenRecord, error) {
	var none store.TokenRecord
	if token == "" || len(token) > 4096 {
		return store.Grant{}, none, ErrInvalidToken
	}
	if s.cfg.TokenFormat == "jwt" {
		if err := s.verifyJWT(ctx, token); errors.Is(err, store.ErrUnavailable) {
			// The keys could not be read: not the token's fault.
			return store.Grant{}, none, fmt.Errorf("authz: verify: %w", err)
		} else if err != nil {
			return store.Grant{}, none, ErrInvalidToken
		}
	} else if !strings.HasPrefix(token, "ory_at_") || s.hmac.Enigma.Validate(ctx, strings.TrimPrefix(token, "ory_at_")) != nil {
		return store.Grant{}, none, ErrInvalidToken
	}
	sig := s.access.AccessTokenSignature(ctx, token)
	rec, err := read(ctx, sig)
	if errors.Is(err, store.ErrNotFound) {
		return store.Grant{}, none, ErrInvalidToken
	} else if err != nil {
		return store.Grant{}, none, fmt.Errorf("authz: verify: %w", err)
	}
	if rec.Kind != store.TokenAccess || rec.Signature != sig || !rec.Active || !s.now().Before(rec.ExpiresAt) {
		return store.Grant{}, none, ErrInvalidToken
	}
	claims, ok := s.grants.get(sig)
	if !ok {
		plain, err := s.store.seal.open(rec.Request, recordAD(store.TokenAccess, sig))
		if err != nil {
			return store.Grant{}, none, fmt.Errorf("authz: verify: %w", err)
		}
		var sr struct {
			GrantedScope []string `json:"granted_scopes"`
			Session      struct {
				FirstParty bool `json:"first_party"`
			} `json:"session"`
		}
		if err := json.Unmarshal(plain, &sr); err != nil {
			return store.Grant{}, none, fmt.Errorf("authz: verify: decode: %w", err)
		}
		claims = grantClaims{scopes: sr.GrantedScope, firstParty: sr.Session.FirstParty}
		s.grants.put(sig, claims, rec.ExpiresAt, s.now())
	}
	return store.Grant{
		RequestID:  rec.RequestID,
		ClientID:   rec.ClientID,
		UserID:     rec.Subject,
		Scopes:     slices.Clone(claims.scopes),
		ExpiresAt:  rec.ExpiresAt,
		FirstParty: claims.firstParty,
	}, rec, nil
}

// grantClaims is what Verify decodes from a token record's sealed request.
type grantClaims struct {
	scopes     []string
	firstParty bool
}

// grantCache keeps the decoded claims of the access tokens in use, by
// signature: a record's sealed request never changes, and opening and
// decoding it was a third of Verify's CPU on every data API request. Only
// that is cached — whether the token is still active and unexpired is read
// from the database every time.
type grantCache = sigCache[grantClaims]

func newGrantCache(max int) *grantCache { return newSigCache[grantClaims](max) }

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

package authz

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/ory/fosite"

	"github.com/bankfeed/bankfeed/authz/dpop"
	"github.com/bankfeed/bankfeed/store"
)

// Profiles (Config.Profile, oauth.profile).
const (
	// ProfileDefault is bankfeed as it always was: secrets, bearer tokens
	// and PAR are each a client's choice.
	ProfileDefault = "default"
	// ProfileFAPI2 enforces the FAPI 2.0 Security Profile (final) on every
	// third-party client: PAR, private_key_jwt, DPoP-bound tokens, https
	// redirect URIs, ES256/PS256. The bank's first-party clients are not
	// subject to it (they are not FAPI relying parties).
	ProfileFAPI2 = "fapi2"
)

// fapi2Algs are the only JWS algorithms of client assertions and DPoP
// proofs in the fapi2 profile (FAPI 2.0 §5.4.1 also allows EdDSA; the
// bank's profile keeps to the two its clients' HSMs all offer).
var fapi2Algs = []string{"ES256", "PS256"}

// fapi2 reports whether the server runs the fapi2 profile.
func (s *Server) fapi2() bool { return s.cfg.Profile == ProfileFAPI2 }

// fapi2Applies reports whether the profile's rules bind client c.
func (s *Server) fapi2Applies(c fosite.Client) bool {
	fc, ok := c.(*fositeClient)
	return s.fapi2() && ok && !fc.c.FirstParty
}

// profileAuthenticate is fosite's ClientAuthenticationStrategy: the usual
// authentication, then, in the fapi2 profile, a third-party client must
// have authenticated with private_key_jwt or mutual TLS (FAPI 2.0
// §5.3.2.1-5). It covers PAR, token, revocation and introspection alike.
func (s *Server) profileAuthenticate(ctx context.Context, r *http.Request, form url.Values) (fosite.Client, error) {
	c, err := s.authenticateClient(ctx, r, form)
	if err != nil {
		return c, err
	}
	if s.fapi2Applies(c) && !fapi2AuthMethod(c.(*fositeClient).c.TokenEndpointAuthMethod) {
		return nil, fosite.ErrInvalidClient.WithHint("The FAPI 2.0 profile requires private_key_jwt or mutual-TLS client authentication; this client is registered with a secret.")
	}
	exchangeNoteOf(ctx).authenticatedClient(c.GetID())
	return c, nil
}

// profileAuthorize is the fapi2 profile's check of an authorization
// request: a third-party client's request must come through PAR (FAPI 2.0
// §5.3.2.2-2).
func (s *Server) profileAuthorize(fc *fositeClient, pushed bool) error {
	if !s.fapi2Applies(fc) || pushed {
		return nil
	}
	return fosite.ErrInvalidRequest.WithHint("The FAPI 2.0 profile requires a pushed authorization request (PAR).")
}

// profilePAR is the fapi2 profile's check of a pushed request: its
// redirect_uri must use https (FAPI 2.0 §5.3.2.2-6; confidential clients
// only, so no native-app loopback).
func (s *Server) profilePAR(ar fosite.AuthorizeRequester) error {
	if !s.fapi2Applies(ar.GetClient()) {
		return nil
	}
	if u := ar.GetRedirectURI(); u == nil || u.Scheme != "https" {
		return fosite.ErrInvalidRequest.WithHint("The FAPI 2.0 profile requires an https redirect_uri.")
	}
	return nil
}

// fapi2AuthMethod reports whether the profile accepts a client
// authentication method: private_key_jwt or mutual TLS (FAPI 2.0 §5.3.2.1-5).
func fapi2AuthMethod(m string) bool { return m == authPrivateKeyJWT || isMTLSMethod(m) }

// profileToken is the fapi2 profile's check at the token endpoint, once
// the client is authenticated: its tokens must be sender-constrained
// (FAPI 2.0 §5.3.2.1-4), so a request with neither a DPoP proof (jkt) nor
// a client certificate (x5t) is refused.
func (s *Server) profileToken(ar fosite.AccessRequester, jkt, x5t string) error {
	if jkt == "" && x5t == "" && s.fapi2Applies(ar.GetClient()) {
		return errDPoPRequired.WithHint("The FAPI 2.0 profile requires sender-constrained tokens: send a DPoP header (RFC 9449) or a client certificate (RFC 8705).")
	}
	return nil
}

// profileProofAlg refuses, in the fapi2 profile, a DPoP proof signed with
// another algorithm than ES256 or PS256. It reads only the protected
// header's alg; the signature is the dpop checker's business.
func (s *Server) profileProofAlg(proof string) error {
	if !s.fapi2() {
		return nil
	}
	alg := ""
	if head, _, ok := strings.Cut(proof, "."); ok {
		if b, err := base64.RawURLEncoding.DecodeString(head); err == nil {
			var h struct {
				Alg string `json:"alg"`
			}
			if json.Unmarshal(b, &h) == nil {
				alg = h.Alg
			}
		}
	}
	if !slices.Contains(fapi2Algs, alg) {
		return dpopError(&dpop.Error{Code: dpop.CodeInvalidProof, Description: "the FAPI 2.0 profile accepts DPoP proofs signed with ES256 or PS256 only"})
	}
	return nil
}

// CheckClientSpec says why a client registered as spec could not comply
// with profile: one line per reason, nil when it could (or when the
// profile is the default one, or the client is first-party).
func CheckClientSpec(profile string, spec ClientSpec) error {
	c, err := clientFromSpec(spec)
	if err != nil {
		return err
	}
	return profileProblems(profile, c)
}

// CheckClientUpdate says why client c, once u is applied, could not
// comply with profile (see CheckClientSpec).
func CheckClientUpdate(profile string, c store.Client, u ClientUpdate) error {
	c, err := applyClientUpdate(c, u)
	if err != nil {
		return err
	}
	return profileProblems(profile, c)
}

// ErrProfile is wrapped by CheckClientSpec's and CheckClientUpdate's refusals.
var ErrProfile = errors.New("the client cannot comply with the FAPI 2.0 profile")

func profileProblems(profile string, c store.Client) error {
	if profile != ProfileFAPI2 || c.FirstParty {
		return nil
	}
	var why []string
	if !fapi2AuthMethod(c.TokenEndpointAuthMethod) {
		why = append(why, "it must authenticate with private_key_jwt (--jwks or --jwks-uri) or mutual TLS (--auth-method tls_client_auth or self_signed_tls_client_auth), not a client secret")
	}
	if c.TokenEndpointAuthSigningAlg != "" && !slices.Contains(fapi2Algs, c.TokenEndpointAuthSigningAlg) {
		why = append(why, "its assertions must be signed with ES256 or PS256, not "+c.TokenEndpointAuthSigningAlg)
	}
	for _, u := range c.RedirectURIs {
		if !strings.HasPrefix(u, "https://") {
			why = append(why, "redirect URI "+u+" must use https (no loopback http: FAPI 2.0 clients are confidential)")
		}
	}
	if len(why) == 0 {
		return nil
	}
	return &profileError{why: why}
}

// profileError lists the reasons, one per line.
type profileError struct{ why []string }

func (e *profileError) Error() string {
	return ErrProfile.Error() + ":\n  - " + strings.Join(e.why, "\n  - ")
}

func (e *profileError) Unwrap() error { return ErrProfile }

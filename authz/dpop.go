package authz

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/ory/fosite"

	"github.com/bankfeed/bankfeed/authz/dpop"
	"github.com/bankfeed/bankfeed/store"
)

// DPoPConfig configures DPoP (RFC 9449). Zero values take the defaults.
type DPoPConfig struct {
	// IATWindow is how old a proof may be (default 60 s); proofs more than
	// 10 s in the future are refused.
	IATWindow time.Duration
	// NonceRequired makes every proof carry a server nonce (DPoP-Nonce).
	NonceRequired bool
}

const (
	headerDPoP      = "DPoP"
	headerDPoPNonce = "DPoP-Nonce"
	// dpopSeenMax bounds the resources' per-replica jti cache: at the iat
	// window's 70 s, room for about 7,000 proofs a second.
	dpopSeenMax = 500_000
)

// initDPoP builds the proof checker: nonces are MACs under a key derived
// from the token secret, so every replica accepts every other's.
func (s *Server) initDPoP() error {
	m := hmac.New(sha256.New, s.cfg.TokenSecret)
	m.Write([]byte("bankfeed authz dpop nonces"))
	secret := m.Sum(nil)
	c, err := dpop.New(dpop.Config{Secret: secret, IATWindow: s.cfg.DPoP.IATWindow, RequireNonce: s.cfg.DPoP.NonceRequired, Now: s.now})
	if err != nil {
		return fmt.Errorf("authz: config: %w", err)
	}
	s.dpop = c
	s.dpopSeen = dpop.NewMemory(dpopSeenMax, s.now)
	return nil
}

// dpopError is the token and PAR endpoints' refusal of a proof (RFC 9449
// §5): 400 invalid_dpop_proof, or use_dpop_nonce with a fresh DPoP-Nonce.
func dpopError(err error) error {
	var de *dpop.Error
	if !errors.As(err, &de) {
		return err
	}
	return &fosite.RFC6749Error{ErrorField: de.Code, DescriptionField: "The DPoP proof is invalid.", HintField: de.Description, CodeField: http.StatusBadRequest}
}

var errDPoPRequired = &fosite.RFC6749Error{ErrorField: "invalid_request", DescriptionField: "A DPoP proof is required.",
	HintField: "This client's access tokens are DPoP-bound: send a DPoP header (RFC 9449).", CodeField: http.StatusBadRequest}

// endpointProof checks the DPoP proof of a token or PAR request, if any
// (a zero Proof without one). Its jti is recorded by useProof once the
// client is authenticated, so that strangers cannot fill the table.
func (s *Server) endpointProof(r *http.Request, path string) (dpop.Proof, error) {
	proofs := r.Header.Values(headerDPoP)
	switch len(proofs) {
	case 0:
		return dpop.Proof{}, nil
	case 1:
	default:
		return dpop.Proof{}, dpopError(&dpop.Error{Code: dpop.CodeInvalidProof, Description: "send exactly one DPoP header"})
	}
	if err := s.profileProofAlg(proofs[0]); err != nil {
		return dpop.Proof{}, err
	}
	p, err := s.dpop.Check(proofs[0], dpop.Request{Method: http.MethodPost, URL: s.requestBase(r) + path})
	if err != nil {
		return dpop.Proof{}, dpopError(err)
	}
	return p, nil
}

// useProof records a token or PAR proof's jti in the database, so that a
// replay to any replica is refused (the janitor sweeps it after the iat
// window). A zero Proof records nothing.
func (s *Server) useProof(ctx context.Context, p dpop.Proof) error {
	if p.JKT == "" {
		return nil
	}
	if err := s.st.UseJTI(ctx, p.ReplayKey(), p.IAT.Add(s.dpop.IATWindow())); errors.Is(err, store.ErrConflict) {
		return dpopError(&dpop.Error{Code: dpop.CodeInvalidProof, Description: "the DPoP proof's jti was used before"})
	} else if err != nil {
		return noteOutage(ctx, fmt.Errorf("authz: record dpop jti: %w", err))
	}
	return nil
}

// bindToken is the token endpoint's DPoP step, between fosite restoring
// the grant and issuing tokens, with the thumbprint of the request's
// proof (endpointProof, "" without one): a grant bound to a key (a code bound by
// dpop_jkt or at PAR, a refresh token of a bound grant) needs a proof of
// that key; a client registered with dpop_bound_access_tokens needs a
// proof; a valid proof binds the tokens about to be issued (cnf.jkt).
// Without a proof, the request's client certificate (x5t, "" without one)
// binds them (cnf x5t#S256, RFC 8705 §3), and a grant bound to a
// certificate needs one: a new certificate of the same client (whose
// authentication binds its refresh token, §4) is bound from then on.
func bindToken(ar fosite.AccessRequester, jkt, x5t string) error {
	sess, ok := ar.GetSession().(*Session)
	if !ok {
		return fosite.ErrServerError.WithDebug("unexpected session type")
	}
	fc, ok := ar.GetClient().(*fositeClient)
	if !ok {
		return fosite.ErrServerError.WithDebug("unexpected client type")
	}
	switch {
	case jkt == "" && sess.DPoPJKT != "":
		return dpopError(&dpop.Error{Code: dpop.CodeInvalidProof, Description: "this grant is bound to a DPoP key: send a proof of that key"})
	case jkt == "" && fc.c.DPoPBoundAccessTokens:
		return errDPoPRequired
	case jkt == "" && x5t != "":
		sess.bindCertificate(x5t)
		return nil
	case jkt == "" && sess.CertThumbprint != "":
		return errCertificateRequired
	case jkt == "":
		return nil
	case sess.DPoPJKT != "" && sess.DPoPJKT != jkt:
		return dpopError(&dpop.Error{Code: dpop.CodeInvalidProof, Description: "the DPoP proof's key is not the key this grant is bound to"})
	}
	sess.bind(jkt)
	return nil
}

// parProof binds a pushed request to a key (RFC 9449 §10): the PAR
// request's proof, or dpop_jkt, or both when they agree. The thumbprint
// goes into the pushed form as dpop_jkt, from which the code's session
// takes it.
func (s *Server) parProof(ctx context.Context, r *http.Request, ar fosite.AuthorizeRequester) error {
	p, err := s.endpointProof(r, pathPAR)
	if err == nil {
		err = s.useProof(ctx, p)
	}
	if err != nil {
		return err
	}
	jkt := p.JKT
	form := ar.GetRequestForm()
	if given := form.Get("dpop_jkt"); jkt != "" && given != "" && given != jkt {
		return dpopError(&dpop.Error{Code: dpop.CodeInvalidProof, Description: "dpop_jkt is not the thumbprint of the DPoP proof's key"})
	}
	if jkt != "" {
		form.Set("dpop_jkt", jkt)
	}
	return nil
}

// checkDPoPJKT validates a dpop_jkt parameter's form.
func checkDPoPJKT(v []string) error {
	if len(v) > 1 || (len(v) == 1 && !dpop.ValidJKT(v[0])) {
		return fosite.ErrInvalidRequest.WithHint("dpop_jkt must be one base64url SHA-256 JWK thumbprint.")
	}
	return nil
}

// writeDPoPNonce adds a fresh DPoP-Nonce when nonces are required, so the
// client has one for its next proof.
func (s *Server) writeDPoPNonce(h http.Header) {
	if s.dpop.RequireNonce() {
		h.Set(headerDPoPNonce, s.dpop.Nonce())
	}
}

// ResourceError is a refused request at a protected resource (the data
// API, the administration APIs, userinfo): it is an ErrInvalidToken, and it
// tells the resource the WWW-Authenticate challenge (RFC 6750 §3, RFC 9449
// §7.1) and the DPoP-Nonce to send.
type ResourceError struct {
	// Code is the error parameter: invalid_request, invalid_token,
	// invalid_dpop_proof or use_dpop_nonce ("" when no credentials came).
	Code        string
	Description string
	nonce       string
	algs        []string // the challenge's proof algorithms; nil: dpop.Algs
}

func (e *ResourceError) Error() string {
	if e.Code == "" {
		return "authz: " + e.Description
	}
	return "authz: " + e.Code + ": " + e.Description
}

// Is makes every ResourceError an ErrInvalidToken: a 401.
func (e *ResourceError) Is(target error) bool { return target == ErrInvalidToken }

// DPoPNonce is the nonce to send in DPoP-Nonce ("" for none).
func (e *ResourceError) DPoPNonce() string { return e.nonce }

// Challenge is the WWW-Authenticate value for realm: both schemes, since
// bearer tokens are still accepted, the error on the scheme it concerns.
func (e *ResourceError) Challenge(realm string) string {
	return challenge(realm, e.Code, e.Description, e.algs)
}

func challenge(realm, code, desc string, algs []string) string {
	if algs == nil {
		algs = dpop.Algs
	}
	bearer := fmt.Sprintf("Bearer realm=%q", realm)
	dp := fmt.Sprintf("DPoP algs=%q", strings.Join(algs, " "))
	if code == "" {
		return bearer + ", " + dp
	}
	errParams := fmt.Sprintf("error=%q, error_description=%q", code, desc)
	if code == dpop.CodeInvalidProof || code == dpop.CodeUseNonce {
		return bearer + ", DPoP " + errParams + ", " + strings.TrimPrefix(dp, "DPoP ")
	}
	return bearer + ", " + errParams + ", " + dp
}

// Challenge is the WWW-Authenticate value of a 401 without an error
// parameter (no credentials), for realm, in the default profile.
func Challenge(realm string) string { return challenge(realm, "", "", nil) }

// Challenge is the WWW-Authenticate value of a resource's 401 that did not
// come from VerifyRequest (no credentials, a token in the query, a grant
// judged ended by the resource): both schemes, the DPoP one with this
// server's profile's proof algorithms, and the error parameters (code ""
// for none) on the scheme they concern. The resources word every
// challenge through it, so that none lists an algorithm the profile
// refuses.
func (s *Server) Challenge(realm, code, description string) string {
	var algs []string
	if s.fapi2() {
		algs = fapi2Algs
	}
	return challenge(realm, code, description, algs)
}

// resourceAlgs tells a resource's refusal the proof algorithms to
// challenge with: in the fapi2 profile only its own (ES256, PS256).
func (s *Server) resourceAlgs(err error) error {
	var re *ResourceError
	if s.fapi2() && errors.As(err, &re) {
		re.algs = fapi2Algs
	}
	return err
}

func resourceErr(code, desc string) *ResourceError {
	return &ResourceError{Code: code, Description: desc}
}

// presented reads the Authorization header: the scheme (Bearer or DPoP)
// and the token.
func presented(r *http.Request) (scheme, token string, err error) {
	vals := r.Header.Values("Authorization")
	if len(vals) == 0 {
		return "", "", resourceErr("", "an access token is required (Authorization: Bearer or DPoP)")
	}
	if len(vals) > 1 {
		return "", "", resourceErr("invalid_request", "more than one Authorization header")
	}
	scheme, token, _ = strings.Cut(vals[0], " ")
	token = strings.TrimSpace(token)
	switch {
	case strings.EqualFold(scheme, "Bearer"):
		scheme = "Bearer"
	case strings.EqualFold(scheme, "DPoP"):
		scheme = "DPoP"
	default:
		return "", "", resourceErr("", "only the Bearer and DPoP authorization schemes are accepted")
	}
	if token == "" {
		return "", "", resourceErr("invalid_token", "the access token is missing")
	}
	return scheme, token, nil
}

// VerifyRequest is the one check of a protected resource's request: the
// access token of its Authorization header (Bearer or DPoP), verified and
// judged as Verify does, and its sender constraint — a DPoP-bound token
// only with the DPoP scheme and a valid proof of its key for this very
// request (method, URL, ath). Refusals are *ResourceError.
func (s *Server) VerifyRequest(r *http.Request) (store.Grant, error) {
	g, _, err := s.verifyRequestGrant(r, s.st.GetTokenGrant)
	return g, err
}

// verifyRequestGrant is VerifyRequest with the records the grant was
// judged on, as read reads them with the token: userinfo, which names the
// user, reads the whole user (GetTokenGrantRecords), where GetTokenGrant
// reads its standing only.
func (s *Server) verifyRequestGrant(r *http.Request, read func(context.Context, store.TokenKind, string) (store.TokenRecord, store.Access, error)) (store.Grant, store.Access, error) {
	var acc store.Access
	g, err := s.VerifyRequestWith(r, func(ctx context.Context, sig string) (store.TokenRecord, error) {
		rec, a, err := read(ctx, store.TokenAccess, sig)
		acc = a
		return rec, err
	})
	if err != nil || g.UserID == "" {
		return g, acc, err
	}
	if _, err := store.JudgeGrant(g, acc, s.now(), false); errors.Is(err, store.ErrGrantEnded) {
		return store.Grant{}, store.Access{}, s.resourceAlgs(resourceErr("invalid_token", "the access token is invalid, expired or revoked"))
	} else if err != nil {
		return store.Grant{}, store.Access{}, fmt.Errorf("authz: verify: %w", err)
	}
	return g, acc, nil
}

// VerifyRequestWith is VerifyRequest with the read of the token record left
// to the caller, as VerifyWith.
func (s *Server) VerifyRequestWith(r *http.Request, read func(ctx context.Context, signature string) (store.TokenRecord, error)) (store.Grant, error) {
	g, err := s.verifyRequestWith(r, read)
	return g, s.resourceAlgs(err)
}

func (s *Server) verifyRequestWith(r *http.Request, read func(ctx context.Context, signature string) (store.TokenRecord, error)) (store.Grant, error) {
	ctx := r.Context()
	scheme, token, err := presented(r)
	if err != nil {
		return store.Grant{}, err
	}
	g, rec, err := s.verifyWith(ctx, token, read)
	if errors.Is(err, ErrInvalidToken) {
		return store.Grant{}, resourceErr("invalid_token", "the access token is invalid, expired or revoked")
	} else if err != nil {
		return store.Grant{}, err
	}
	if err := s.checkSender(r, scheme, token, rec.KeyThumbprint); err != nil {
		return store.Grant{}, err
	}
	return g, nil
}

// checkSender enforces a token's DPoP binding (RFC 9449 §7), or its
// certificate binding (RFC 8705 §3, mtls.go).
func (s *Server) checkSender(r *http.Request, scheme, token, jkt string) error {
	if x5t, ok := strings.CutPrefix(jkt, x5tPrefix); ok {
		return s.checkCertificateBound(r, scheme, x5t)
	}
	if jkt == "" {
		if scheme == "DPoP" {
			return resourceErr("invalid_token", "the access token is not DPoP-bound: send it as Bearer")
		}
		return nil
	}
	if scheme != "DPoP" {
		// §7.2: a bound token downgraded to Bearer.
		return resourceErr("invalid_token", "the access token is DPoP-bound: send it with the DPoP scheme and a proof")
	}
	proofs := r.Header.Values(headerDPoP)
	if len(proofs) != 1 {
		return resourceErr(dpop.CodeInvalidProof, "send exactly one DPoP proof")
	}
	p, err := s.dpop.Check(proofs[0], dpop.Request{Method: r.Method, URL: s.requestBase(r) + r.URL.EscapedPath(), AccessToken: token})
	var de *dpop.Error
	if errors.As(err, &de) {
		e := resourceErr(de.Code, de.Description)
		if de.Code == dpop.CodeUseNonce {
			e.nonce = s.dpop.Nonce()
		}
		return e
	} else if err != nil {
		return fmt.Errorf("authz: dpop: %w", err)
	}
	if p.JKT != jkt {
		return resourceErr(dpop.CodeInvalidProof, "the DPoP proof's key is not the key the access token is bound to")
	}
	if err := s.dpopSeen.Use(r.Context(), p.ReplayKey(), p.IAT.Add(s.dpop.IATWindow())); err != nil {
		return resourceErr(dpop.CodeInvalidProof, "the DPoP proof's jti was used before")
	}
	return nil
}

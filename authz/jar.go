package authz

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/ory/fosite"
)

// Signed request objects at PAR (JAR, RFC 9101; FAPI 2.0 Message Signing
// §5.3.1). fosite's own request-object support is OIDC Core §6's: only with
// scope openid, alg none accepted, aud and iss unchecked, claims merged into
// the outer form. So the object is verified here, before fosite parses the
// request, and its claims replace the request's parameters; fosite never
// sees a request parameter.

const (
	// jarMaxLife is FAPI 2.0 Message Signing's bound on exp − nbf.
	jarMaxLife = 60 * time.Minute
	// maxRequestObject bounds the object read (a form value, already
	// bounded by the body limit; this keeps the claims decode small).
	maxRequestObject = 64 << 10
)

// jarAlgs are the request object algorithms accepted (and advertised).
var jarAlgs = []string{"PS256", "ES256"}

// outerAuthParams are the only outer parameters kept beside a request
// object: they authenticate the client to the PAR endpoint itself.
var outerAuthParams = []string{"client_assertion", "client_assertion_type", "client_secret"}

// jarClaimsNotParams are the JWT claims of a request object that are not
// authorization request parameters.
var jarClaimsNotParams = []string{"iss", "aud", "exp", "nbf", "iat", "jti", "sub"}

func invalidRequestObject(hint string, err error) error {
	e := fosite.ErrInvalidRequestObject.WithHint(hint)
	if err != nil {
		e = e.WithWrap(err).WithDebug(err.Error())
	}
	return e
}

// applyRequestObject verifies the request object of a pushed authorization
// request, if it has one, and makes its claims the request's parameters:
// only client_id and the client's authentication stay from the outer form
// (RFC 9101 §6.3). It reports whether there was an object. The caller
// checks, once fosite has authenticated the client, that the object's
// issuer is that client (requestObjectClient).
func (s *Server) applyRequestObject(ctx context.Context, r *http.Request) (string, error) {
	if err := r.ParseForm(); err != nil {
		return "", fosite.ErrInvalidRequest.WithHint("The request could not be parsed.").WithWrap(err)
	}
	raw := r.PostForm.Get("request")
	if raw == "" {
		if r.Form.Has("request") {
			return "", fosite.ErrInvalidRequest.WithHint("The request object must be sent in the request body.")
		}
		return "", nil
	}
	if len(raw) > maxRequestObject {
		return "", invalidRequestObject("The request object is too large.", nil)
	}
	claims, err := s.verifyRequestObject(ctx, raw, r.PostForm.Get("client_id"))
	if err != nil {
		return "", err
	}
	form, err := requestObjectForm(claims)
	if err != nil {
		return "", err
	}
	iss, _ := claims["iss"].(string)
	form.Set("client_id", iss)
	for _, k := range outerAuthParams {
		if v, ok := r.PostForm[k]; ok {
			form[k] = v
		}
	}
	r.Form, r.PostForm = form, form
	return iss, nil
}

// verifyRequestObject checks the object's signature with the key its issuer
// (the client) registered, and aud, exp and nbf as FAPI 2.0 Message Signing
// asks. clientID, when the outer request names one, must be the issuer.
func (s *Server) verifyRequestObject(ctx context.Context, raw, clientID string) (jwt.MapClaims, error) {
	if strings.Count(raw, ".") != 2 {
		return nil, invalidRequestObject("The request object must be a signed JWT (JWS compact serialization).", nil)
	}
	parser := jwt.NewParser(
		// Only asymmetric signatures: none (an unsigned object) and HMAC
		// fail here, before any key is looked up.
		jwt.WithValidMethods(jarAlgs),
		jwt.WithLeeway(assertionLeeway),
		jwt.WithExpirationRequired(),
		jwt.WithAudience(s.cfg.Issuer),
		jwt.WithTimeFunc(s.now),
	)
	claims := jwt.MapClaims{}
	readID := ""
	keyFunc := func(t *jwt.Token) (interface{}, error) {
		if typ, _ := t.Header["typ"].(string); typ != "" && !strings.EqualFold(typ, "oauth-authz-req+jwt") && !strings.EqualFold(typ, "JWT") {
			return nil, fmt.Errorf("request object typ %q", typ)
		}
		iss, _ := claims["iss"].(string)
		if iss == "" {
			return nil, errors.New("request object has no iss")
		}
		if clientID != "" && iss != clientID {
			return nil, errors.New("request object iss is not the client_id")
		}
		readID = iss
		c, err := s.store.client(ctx, iss)
		if err != nil {
			return nil, fmt.Errorf("request object issuer: %w", err)
		}
		alg, _ := t.Header["alg"].(string)
		kid, _ := t.Header["kid"].(string)
		return s.clientKey(ctx, c, kid, alg)
	}
	_, err := parser.ParseWithClaims(raw, claims, keyFunc)
	if err != nil && readID != "" {
		// The client's keys may have been replaced since this replica
		// cached it: read it again, once, as client assertions do.
		if _, cached := s.store.clients.LoadAndDelete(readID); cached {
			claims = jwt.MapClaims{}
			_, err = parser.ParseWithClaims(raw, claims, keyFunc)
		}
	}
	if err != nil {
		return nil, invalidRequestObject(requestObjectHint(err), err)
	}
	if cid, ok := claims["client_id"]; ok && cid != claims["iss"] {
		return nil, invalidRequestObject("Claim 'client_id' of the request object must be its issuer.", nil)
	}
	nbf, err := claims.GetNotBefore()
	if err != nil || nbf == nil {
		return nil, invalidRequestObject("Claim 'nbf' of the request object is required.", err)
	}
	exp, _ := claims.GetExpirationTime() // required by the parser
	if exp.Sub(nbf.Time) > jarMaxLife {
		return nil, invalidRequestObject("The request object's exp is more than 60 minutes after its nbf.", nil)
	}
	if s.now().Sub(nbf.Time) > jarMaxLife {
		return nil, invalidRequestObject("The request object's nbf is more than 60 minutes in the past.", nil)
	}
	return claims, nil
}

// requestObjectHint says which check failed without echoing the object.
func requestObjectHint(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return "The request object must be signed (PS256 or ES256) with a key the client registered."
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "Claim 'aud' of the request object must be the issuer."
	case errors.Is(err, jwt.ErrTokenExpired), errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "The request object has expired or has no exp."
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "The request object is not valid yet."
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "The request object is not a well-formed JWT."
	}
	return "The request object could not be verified."
}

// requestObjectForm turns the object's claims into authorization request
// parameters: strings as they are, numbers (max_age) in decimal, objects
// (claims, authorization_details) as JSON. A request object may not carry
// another one.
func requestObjectForm(claims jwt.MapClaims) (url.Values, error) {
	form := url.Values{}
	for k, v := range claims {
		if slices.Contains(jarClaimsNotParams, k) {
			continue
		}
		if k == "request" || k == "request_uri" {
			return nil, invalidRequestObject("A request object may not contain "+k+".", nil)
		}
		switch x := v.(type) {
		case string:
			form.Set(k, x)
		case float64:
			form.Set(k, strconv.FormatFloat(x, 'f', -1, 64))
		case bool:
			form.Set(k, strconv.FormatBool(x))
		case nil:
		default:
			b, err := json.Marshal(x)
			if err != nil {
				return nil, invalidRequestObject("Claim '"+k+"' of the request object cannot be used.", err)
			}
			form.Set(k, string(b))
		}
	}
	return form, nil
}

// checkRequestObjectClient refuses, after fosite authenticated the client,
// an object issued by another client, and a client that must sign its
// requests (require_signed_request_object) but sent none.
func checkRequestObjectClient(ar fosite.Requester, objectIssuer string) error {
	fc, ok := ar.GetClient().(*fositeClient)
	if !ok {
		return fosite.ErrServerError.WithDebug("unexpected client type")
	}
	if objectIssuer == "" {
		if fc.c.RequireSignedRequestObject {
			return fosite.ErrInvalidRequest.WithHint("This client must send its authorization request as a signed request object (require_signed_request_object).")
		}
		return nil
	}
	if objectIssuer != fc.GetID() {
		return invalidRequestObject("The request object was issued by another client.", nil)
	}
	return nil
}

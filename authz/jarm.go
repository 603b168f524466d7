package authz

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v3"
	"github.com/ory/fosite"
)

// JWT Secured Authorization Response Mode (JARM, FAPI 2.0 Message
// Signing): the authorization response — the code or the error — travels
// as one JWT the server signs, so the client can tell it came from the
// bank, unaltered, for it.
const (
	modeJWT         = fosite.ResponseModeType("jwt")
	modeQueryJWT    = fosite.ResponseModeType("query.jwt")
	modeFragmentJWT = fosite.ResponseModeType("fragment.jwt")
	modeFormPostJWT = fosite.ResponseModeType("form_post.jwt")

	// jarmLifespan bounds a response JWT's exp: it only has to reach the
	// client's redirect endpoint (JARM §2.1 suggests at most 10 minutes).
	jarmLifespan = 5 * time.Minute
)

// jarmModes are the response modes the jarm handler writes.
var jarmModes = fosite.ResponseModeTypes{modeJWT, modeQueryJWT, modeFragmentJWT, modeFormPostJWT}

// jarmAlgs are the algorithms responses are signed with: the server's
// signing key's (keys.go).
var jarmAlgs = []string{signingAlg}

// jarmHandler is fosite's ResponseModeHandlerExtension: fosite hands it
// every authorization response and error whose response_mode is one of
// jarmModes, and accepts those modes in requests (and pushed requests).
type jarmHandler struct{ s *Server }

var _ fosite.ResponseModeHandler = (*jarmHandler)(nil)

func (h *jarmHandler) ResponseModes() fosite.ResponseModeTypes { return jarmModes }

func (h *jarmHandler) WriteAuthorizeResponse(ctx context.Context, rw http.ResponseWriter, ar fosite.AuthorizeRequester, resp fosite.AuthorizeResponder) {
	for k := range resp.GetHeader() {
		rw.Header().Set(k, resp.GetHeader().Get(k))
	}
	claims := map[string]any{}
	for k, v := range resp.GetParameters() {
		if len(v) > 0 && v[0] != "" {
			claims[k] = v[0]
		}
	}
	h.write(ctx, rw, ar, claims)
}

func (h *jarmHandler) WriteAuthorizeError(ctx context.Context, rw http.ResponseWriter, ar fosite.AuthorizeRequester, err error) {
	rw.Header().Set("Cache-Control", "no-store")
	rw.Header().Set("Pragma", "no-cache")
	rfc := fosite.ErrorToRFC6749Error(err).WithExposeDebug(false)
	if !ar.IsRedirectURIValid() {
		// Nowhere trusted to send it (authorize.go shows the bank's error
		// page before this when it can): the error as fosite writes it.
		b, jerr := json.Marshal(rfc)
		if jerr != nil {
			http.Error(rw, `{"error":"server_error"}`, http.StatusInternalServerError)
			return
		}
		rw.Header().Set("Content-Type", "application/json;charset=UTF-8")
		rw.WriteHeader(rfc.CodeField)
		_, _ = rw.Write(b)
		return
	}
	claims := map[string]any{}
	for k, v := range rfc.ToValues() {
		if len(v) > 0 && v[0] != "" {
			claims[k] = v[0]
		}
	}
	if st := ar.GetState(); st != "" {
		claims["state"] = st
	}
	h.write(ctx, rw, ar, claims)
}

// write signs claims as the response JWT (iss, aud, exp, iat added) and
// delivers it to the client's redirect URI in the request's mode.
func (h *jarmHandler) write(ctx context.Context, rw http.ResponseWriter, ar fosite.AuthorizeRequester, claims map[string]any) {
	rw.Header().Set("Cache-Control", "no-store")
	rw.Header().Set("Pragma", "no-cache")
	now := h.s.now()
	claims["iss"] = h.s.cfg.Issuer
	claims["aud"] = ar.GetClient().GetID()
	claims["iat"] = now.Unix()
	claims["exp"] = now.Add(jarmLifespan).Unix()
	token, err := h.s.signJARM(ctx, claims)
	if err != nil {
		// Nothing unsigned may reach the client: the user sees the error.
		h.s.log.ErrorContext(ctx, "authorize: sign the response", "err", err)
		http.Error(rw, "The authorization response could not be signed; try again later.", http.StatusInternalServerError)
		return
	}
	redir := *ar.GetRedirectURI()
	redir.Fragment = ""
	switch jarmDelivery(ar) {
	case modeFormPostJWT:
		writeJARMForm(rw, redir.String(), token)
	case modeFragmentJWT:
		rw.Header().Set("Location", redir.String()+"#"+url.Values{"response": {token}}.Encode())
		rw.WriteHeader(http.StatusSeeOther)
	default:
		q := redir.Query()
		q.Set("response", token)
		redir.RawQuery = q.Encode()
		rw.Header().Set("Location", redir.String())
		rw.WriteHeader(http.StatusSeeOther)
	}
}

// jarmDelivery is where the JWT goes. jwt means query.jwt for code and
// fragment.jwt for response types that return tokens (JARM §2.3.4); a token
// never goes in a query, so query.jwt with such a type (only ever an error
// here: bankfeed issues codes only) is delivered in the fragment too.
func jarmDelivery(ar fosite.AuthorizeRequester) fosite.ResponseModeType {
	rm := ar.GetResponseMode()
	if rm != modeJWT && rm != modeQueryJWT {
		return rm
	}
	types := strings.Fields(ar.GetRequestForm().Get("response_type"))
	if len(types) == 0 {
		types = ar.GetResponseTypes()
	}
	if slices.Contains(types, "token") || slices.Contains(types, "id_token") {
		return modeFragmentJWT
	}
	return modeQueryJWT
}

// signJARM signs claims with the server's current signing key (its kid in
// the header, so clients find it in the JWKS).
func (s *Server) signJARM(ctx context.Context, claims map[string]any) (string, error) {
	key, err := s.keys.privateKey(ctx)
	if err != nil {
		return "", fmt.Errorf("authz: jarm: signing key: %w", err)
	}
	jwk, ok := key.(*jose.JSONWebKey)
	if !ok {
		return "", fmt.Errorf("authz: jarm: signing key is %T", key)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(jwk.Algorithm), Key: jwk}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", fmt.Errorf("authz: jarm: signer: %w", err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("authz: jarm: claims: %w", err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("authz: jarm: sign: %w", err)
	}
	return jws.CompactSerialize()
}

// jarmFormScript submits the form on load; the page's CSP allows exactly
// this script (by its hash) and a form post to the client's redirect
// origin, nothing else.
const jarmFormScript = `document.forms[0].submit();`

var (
	jarmFormScriptHash = func() string {
		sum := sha256.Sum256([]byte(jarmFormScript))
		return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}()
	jarmFormPage = template.Must(template.New("jarm").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Returning to the application</title></head>
<body><form method="post" action="{{.Action}}"><input type="hidden" name="response" value="{{.Response}}">
<noscript><p>Your browser does not run scripts: continue to the application.</p><button type="submit">Continue</button></noscript></form>
<script>` + jarmFormScript + `</script></body></html>
`))
)

// writeJARMForm is form_post.jwt: a page that posts the JWT to the
// redirect URI (OAuth 2.0 Form Post Response Mode).
func writeJARMForm(rw http.ResponseWriter, action, token string) {
	origin := action
	if u, err := url.Parse(action); err == nil {
		origin = u.Scheme + "://" + u.Host
	}
	h := rw.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src "+jarmFormScriptHash+"; form-action "+origin+"; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	rw.WriteHeader(http.StatusOK)
	_ = jarmFormPage.Execute(rw, struct{ Action, Response string }{action, token})
}

package authz

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/ory/fosite"
	"go.opentelemetry.io/otel/attribute"

	"github.com/bankfeed/bankfeed/internal/audit"
	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/tracing"
)

// handleToken is the token endpoint: authorization_code, refresh_token and
// client_credentials.
func (s *Server) handleToken(c echo.Context) error {
	// A span over fosite's (Fosite.NewAccessRequest, ...), named by grant
	// type once fosite has parsed the form: only the known types name it.
	ctx, span := tracing.Start(c.Request().Context(), "oauth2.token")
	defer func() {
		g := grantTypeName(c.Request().PostForm.Get("grant_type"))
		span.SetName("oauth2.token " + g)
		span.SetAttributes(attribute.String("oauth2.grant_type", g))
		span.End()
	}()
	ctx, ended := withEndedGrants(ctx)
	ctx, outcome := withTokenOutcome(ctx)
	ctx = withRetryNote(ctx)
	ctx = withExchangeNote(ctx)
	defer s.countToken(c, outcome)
	defer func() {
		// A used refresh token or code presented again: fosite revoked its
		// family (and the consent with it) while refusing it.
		switch c.Request().PostForm.Get("grant_type") {
		case "refresh_token":
			s.auditEnded(c, ended, audit.RefreshFamilyRevoked, audit.Refused, func(cs store.Consent) map[string]any {
				return map[string]any{"clientId": cs.ClientID, "consentId": cs.ID}
			})
		case "authorization_code":
			s.auditEnded(c, ended, audit.ConsentRevoked, audit.Refused, func(cs store.Consent) map[string]any {
				return map[string]any{"by": audit.ByCodeReuse, "clientId": cs.ClientID, "userId": cs.UserID}
			})
		}
	}()
	w := c.Response()
	s.writeDPoPNonce(w.Header())
	// The proof first: fosite's PKCE handler consumes the code's challenge
	// while restoring the grant, so a client told use_dpop_nonce could not
	// retry the exchange.
	proof, err := s.endpointProof(c.Request(), pathToken)
	if err != nil {
		s.logOAuthError(ctx, pathToken, err)
		s.provider.WriteAccessError(ctx, w, fosite.NewAccessRequest(newSession()), err)
		return nil
	}
	ar, err := s.provider.NewAccessRequest(ctx, c.Request(), newSession())
	if outage(ctx, err) {
		s.writeUnavailable(ctx, w, pathToken, err)
		return nil
	} else if err != nil {
		s.logOAuthError(ctx, pathToken, err)
		s.provider.WriteAccessError(ctx, w, ar, err)
		return nil
	}
	x5t := s.requestCertThumbprint(c.Request())
	err = s.profileToken(ar, proof.JKT, x5t)
	if err == nil {
		err = s.useProof(ctx, proof)
	}
	if err == nil {
		err = bindToken(ar, proof.JKT, x5t)
	}
	if outage(ctx, err) {
		s.writeUnavailable(ctx, w, pathToken, err)
		return nil
	} else if err != nil {
		s.logOAuthError(ctx, pathToken, err)
		s.provider.WriteAccessError(ctx, w, ar, err)
		return nil
	}
	// The grant handlers' transaction is deferred (BeginTX).
	resp, err := s.provider.NewAccessResponse(context.WithValue(ctx, grantResponseKey{}, true), ar)
	switch {
	case errors.Is(err, fosite.ErrInvalidatedAuthorizeCode):
		// The code was used or revoked (a newer grant to the same client
		// replaced this one) between reading it and consuming it: fosite
		// wraps that as a server error, but it is the client's invalid_grant.
		err = fosite.ErrInvalidGrant.WithHint("The authorization code has already been used.")
	case errors.Is(err, store.ErrGrantConsentRevoked):
		// The consent was revoked (or replaced) after grantPolicy judged it
		// and before the tokens were stored: the store refused them.
		err = fosite.ErrInvalidGrant.WithHint(grantHint(store.ErrGrantConsentRevoked))
	}
	if outage(ctx, err) {
		s.writeUnavailable(ctx, w, pathToken, err)
		return nil
	} else if err != nil {
		s.logOAuthError(ctx, pathToken, err)
		s.provider.WriteAccessError(ctx, w, ar, err)
		return nil
	}
	if proof.JKT != "" {
		// fosite writes "bearer", and its refresh handler hard-codes it.
		resp.SetTokenType("DPoP")
	}
	if !ar.GetGrantTypes().ExactOne("client_credentials") {
		// The consent's ID (the grant's request ID), as FAPI Grant
		// Management's grant_id, which FDX's Consent API follows: the
		// recipient reads and revokes it at /fdx/v6/consents/{consentId}.
		resp.SetExtra("grant_id", ar.GetID())
	}
	s.provider.WriteAccessResponse(ctx, w, ar, resp)
	return nil
}

// handleRevoke is RFC 7009 revocation. Revoking a refresh token ends the
// whole grant (the consent); revoking an access token ends its family's
// access tokens.
func (s *Server) handleRevoke(c echo.Context) error {
	ctx, ended := withEndedGrants(context.WithValue(c.Request().Context(), revokingKey{}, true))
	defer s.auditEnded(c, ended, audit.ConsentRevoked, audit.Success, func(cs store.Consent) map[string]any {
		return map[string]any{"by": audit.ByClient, "clientId": cs.ClientID, "userId": cs.UserID}
	})
	if s.refuseTokenCredentials(ctx, c.Response(), c.Request(), pathRevoke) {
		return nil
	}
	err := s.provider.NewRevocationRequest(ctx, c.Request())
	if outage(ctx, err) {
		s.writeUnavailable(ctx, c.Response(), pathRevoke, err)
		return nil
	} else if err != nil {
		s.logOAuthError(ctx, pathRevoke, err)
	}
	s.provider.WriteRevocationResponse(ctx, c.Response(), err)
	return nil
}

// grantTypeName bounds a requested grant type for a span's name.
func grantTypeName(g string) string {
	switch g {
	case "authorization_code", "refresh_token", "client_credentials":
		return g
	case "":
		return "none"
	}
	return "other"
}

// grantPolicy is a token-endpoint handler that runs after fosite's grant
// handlers restored the grant: it refuses a code or refresh token whose user
// is no longer active, whose consent was revoked, or whose data scopes the
// job role no longer allows (invalid_grant, so the vendor reconnects), and
// grants client_credentials scopes to first-party clients only.
type grantPolicy struct{ s *Server }

var _ fosite.TokenEndpointHandler = (*grantPolicy)(nil)

func (g *grantPolicy) CanSkipClientAuth(context.Context, fosite.AccessRequester) bool { return false }

func (g *grantPolicy) CanHandleTokenEndpointRequest(_ context.Context, ar fosite.AccessRequester) bool {
	gt := ar.GetGrantTypes()
	return gt.ExactOne("authorization_code") || gt.ExactOne("refresh_token") || gt.ExactOne("client_credentials")
}

func (g *grantPolicy) PopulateTokenEndpointResponse(context.Context, fosite.AccessRequester, fosite.AccessResponder) error {
	return nil
}

func (g *grantPolicy) HandleTokenEndpointRequest(ctx context.Context, ar fosite.AccessRequester) error {
	fc, ok := ar.GetClient().(*fositeClient)
	if !ok {
		return fosite.ErrServerError.WithDebug("unexpected client type")
	}
	sess, ok := ar.GetSession().(*Session)
	if !ok {
		return fosite.ErrServerError.WithDebug("unexpected session type")
	}
	if err := checkClientApproved(fc); err != nil {
		return err
	}
	if ar.GetGrantTypes().ExactOne("client_credentials") {
		if !fc.c.FirstParty || !fc.GetGrantTypes().Has("client_credentials") {
			return fosite.ErrUnauthorizedClient.WithHint("Only the bank's own systems may use the client_credentials grant.")
		}
		for _, sc := range ar.GetRequestedScopes() {
			ar.GrantScope(sc) // fosite checked them against the client's scopes
		}
		grantResourceAudiences(ar, g.s.cfg.Issuer)
		sess.ClientID = fc.GetID()
		sess.FirstParty = true
		sess.GetJWTClaims()
		sess.JWTClaims.Subject = fc.GetID()
		return nil
	}
	if ar.GetGrantTypes().ExactOne("refresh_token") {
		if err := narrowRefresh(ar, sess); err != nil {
			return err
		}
	}
	// A code's consent is stamped used by the code's consumption, in the
	// tokens' transaction (store.TokenStore.ConsumeToken).
	touch := !ar.GetGrantTypes().ExactOne("authorization_code")
	if err := g.s.checkGrant(ctx, ar.GetID(), sess.GetSubject(), fc, ar.GetGrantedScopes(), touch); err != nil {
		return err
	}
	// Here, not when the code was issued, so that grants issued before
	// tokens named their audience get it at their next refresh.
	grantResourceAudiences(ar, g.s.cfg.Issuer)
	return nil
}

// checkGrant is the live re-check of a user grant (code exchange, refresh):
// the records read in one statement — the one that read the code or the
// refresh token, in this request (exchangeNote) —, judged by
// store.JudgeGrant. A grant that no longer stands is invalid_grant with
// the precise reason, and the vendor reconnects (rule 6). With touch, the
// grant's consent is stamped used (at most once a minute).
func (s *Server) checkGrant(ctx context.Context, consentID, userID string, fc *fositeClient, granted []string, touch bool) error {
	a, ok := exchangeNoteOf(ctx).grant(consentID, userID)
	if !ok {
		var err error
		if a, err = s.st.GrantRecords(ctx, consentID, userID); err != nil {
			return fosite.ErrServerError.WithWrap(err).WithDebug(err.Error())
		}
	}
	now := s.now()
	g := store.Grant{RequestID: consentID, ClientID: fc.GetID(), UserID: userID, Scopes: granted, FirstParty: fc.c.FirstParty}
	p, err := store.JudgeGrant(g, a, now, true)
	if errors.Is(err, store.ErrGrantEnded) {
		return fosite.ErrInvalidGrant.WithHint(grantHint(err))
	} else if err != nil {
		return fosite.ErrServerError.WithWrap(err).WithDebug(err.Error())
	}
	// The store stamps LastUsedAt at most once a minute; the consent just
	// read says whether this grant would, which spares every other refresh
	// two statements.
	if touch && now.Sub(p.Consent.LastUsedAt) >= time.Minute {
		if err := s.st.TouchConsent(ctx, p.Consent.ID, now); err != nil {
			s.log.WarnContext(ctx, "touch consent failed", "consent", p.Consent.ID, "err", err)
		}
	}
	return nil
}

// grantHint is the error_description's hint for a grant that no longer
// stands: its reason, as a sentence.
func grantHint(err error) string {
	hint := err.Error()
	return strings.ToUpper(hint[:1]) + hint[1:] + "."
}

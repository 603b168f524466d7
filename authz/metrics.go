package authz

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"
)

// tokenOutcome carries the RFC 6749 error a token request was refused
// with, from logOAuthError to the handler's count.
type tokenOutcome struct{ err string }

type tokenOutcomeKey struct{}

func withTokenOutcome(ctx context.Context) (context.Context, *tokenOutcome) {
	o := &tokenOutcome{}
	return context.WithValue(ctx, tokenOutcomeKey{}, o), o
}

// noteOAuthError records code as the request's error, if ctx counts one.
func noteOAuthError(ctx context.Context, code string) {
	if o, ok := ctx.Value(tokenOutcomeKey{}).(*tokenOutcome); ok {
		o.err = code
	}
}

// countToken counts a token request once answered: issued on a 200, else
// refused with the error noted, or the one its status implies (an outage's
// 503 is answered without going through logOAuthError).
func (s *Server) countToken(c echo.Context, o *tokenOutcome) {
	m := s.cfg.Metrics
	if m == nil || clientGone(c.Request().Context()) {
		// A client gone was never answered: not a token issued or refused
		// (the HTTP metrics count it as 499).
		return
	}
	grantType := c.Request().PostForm.Get("grant_type") // parsed by fosite; bounded by metrics
	status := c.Response().Status
	switch {
	case status == http.StatusOK:
		m.TokenIssued(grantType)
	case o.err != "":
		m.TokenFailed(grantType, o.err)
	case status == http.StatusServiceUnavailable:
		m.TokenFailed(grantType, "temporarily_unavailable")
	default:
		m.TokenFailed(grantType, "server_error")
	}
}

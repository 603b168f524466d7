package authz

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/internal/admission"
	"github.com/bankfeed/bankfeed/store"
)

// retryAfter is the Retry-After (seconds) of a 503 answered while the
// database is unavailable: long enough for a pool to reconnect, short
// enough that a client retrying does not wait past a brief outage.
const retryAfter = "5"

// A database outage is not the client's fault: it must never come out as
// invalid_client, invalid_grant or an inactive token, which a vendor would
// take for revoked credentials (issue 11, finding 2). fosite turns store
// errors into those codes and sometimes drops the cause, so the store
// adapter also notes the outage in the request's context (noteOutage), and
// each endpoint asks outage before writing fosite's answer.

type outageKey struct{}

// withOutageNote lets fositeStore record, for this request, that the store
// was unavailable.
func withOutageNote(ctx context.Context) context.Context {
	if _, ok := ctx.Value(outageKey{}).(*atomic.Bool); ok {
		return ctx
	}
	return context.WithValue(ctx, outageKey{}, new(atomic.Bool))
}

// noteOutages is the route middleware that gives each OAuth request its
// outage note.
func noteOutages(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		c.SetRequest(r.WithContext(withOutageNote(r.Context())))
		return next(c)
	}
}

// noteOutage records err in ctx's note when it is store.ErrUnavailable, and
// returns err unchanged.
func noteOutage(ctx context.Context, err error) error {
	if errors.Is(err, store.ErrUnavailable) {
		if b, ok := ctx.Value(outageKey{}).(*atomic.Bool); ok {
			b.Store(true)
		}
	}
	return err
}

// outage reports whether err, or anything the store answered while handling
// ctx's request, was store.ErrUnavailable.
func outage(ctx context.Context, err error) bool {
	if errors.Is(err, store.ErrUnavailable) {
		return true
	}
	b, ok := ctx.Value(outageKey{}).(*atomic.Bool)
	return ok && b.Load()
}

// clientGone reports whether ctx, a request's, was cancelled because its
// client went away (net/http cancels it when the connection closes): what
// failed then — "create token: context canceled", a begin that gave up — is
// not the server's failure, and is logged at INFO (issue 15); the access
// log records the request as 499. A deadline is not this.
func clientGone(ctx context.Context) bool {
	return errors.Is(ctx.Err(), context.Canceled)
}

// logOutage logs the failure at error level: the endpoint and the store's
// error, which names the operation and the driver's reason, never a request
// value.
func (s *Server) logOutage(ctx context.Context, endpoint string, err error) {
	if clientGone(ctx) {
		s.log.InfoContext(ctx, "oauth request abandoned: client gone", "endpoint", endpoint, "err", err)
		return
	}
	s.log.ErrorContext(ctx, "oauth endpoint: database unavailable", "endpoint", endpoint, "status", http.StatusServiceUnavailable, "err", err)
}

// writeUnavailable answers 503 temporarily_unavailable (RFC 6749 §5.2's
// JSON, Cache-Control no-store) with Retry-After. fosite's own writers
// cannot: introspection would answer {"active":false} and revocation 200.
func (s *Server) writeUnavailable(ctx context.Context, w http.ResponseWriter, endpoint string, err error) {
	s.logOutage(ctx, endpoint, err)
	writeUnavailableJSON(w, retryAfter)
}

func writeUnavailableJSON(w http.ResponseWriter, after string) {
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=UTF-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("Retry-After", after)
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = w.Write([]byte(`{"error":"temporarily_unavailable","error_description":"The authorization server is temporarily unable to handle the request. Retry later."}` + "\n"))
}

// busyJSON and busyPage answer a request the admission gate turned away
// (too many waiting): the outage's 503, Retry-After the gate's. Nothing
// was read or checked, and the access log has the request; no more is
// logged, which a flood would only feed.
func busyJSON(c echo.Context) error {
	writeUnavailableJSON(c.Response(), admission.RetryAfter)
	return nil
}

func busyPage(c echo.Context) error {
	writeUnavailableHTML(c.Response(), admission.RetryAfter)
	return nil
}

// unavailablePage is what a browser sees at /oauth2/authorize during an
// outage: the client's redirect URI cannot be checked without the
// database, so there is nothing safe to redirect to.
const unavailablePage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Temporarily unavailable</title></head>
<body><main><h1>Temporarily unavailable</h1>
<p>The bank's sign-in service cannot handle your request at the moment. Please try again in a few minutes.</p>
<p><small>Error: temporarily_unavailable</small></p></main></body></html>
`

// writeUnavailablePage answers a browser's 503 with the page above.
func (s *Server) writeUnavailablePage(ctx context.Context, w http.ResponseWriter, err error) {
	s.logOutage(ctx, pathAuthorize, err)
	writeUnavailableHTML(w, retryAfter)
}

func writeUnavailableHTML(w http.ResponseWriter, after string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Retry-After", after)
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = w.Write([]byte(unavailablePage))
}

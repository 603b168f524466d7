package dataapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/internal/admission"
	"github.com/bankfeed/bankfeed/store"
)

// Problem is an RFC 9457 problem detail carrying the FDX error members
// (code, message, debugMessage) so that both kinds of client understand it.
type Problem struct {
	Type         string         `json:"type"`
	Title        string         `json:"title"`
	Status       int            `json:"status"`
	Detail       string         `json:"detail,omitempty"`
	Instance     string         `json:"instance,omitempty"`
	Code         string         `json:"code"`
	Message      string         `json:"message"`
	DebugMessage string         `json:"debugMessage,omitempty"`
	Errors       []InvalidParam `json:"errors,omitempty"`

	// Not serialized: response headers the problem needs.
	wwwAuthenticate string
	// challenge marks a 401 whose WWW-Authenticate the server words
	// (Server.challenge) from authError and authDescription (RFC 6750 §3).
	challenge                  bool
	authError, authDescription string
	retryAfter                 int
	allow                      string
}

// InvalidParam names one bad request parameter.
type InvalidParam struct {
	Name   string `json:"name"`
	In     string `json:"in"` // query, path or header
	Reason string `json:"reason"`
}

func (p *Problem) Error() string { return fmt.Sprintf("%d %s: %s", p.Status, p.Title, p.Detail) }

// problemTypeBase prefixes every problem type; the slugs are stable and
// listed in the README.
const problemTypeBase = "urn:bankfeed:problem:"

// FDX error codes used by this API (FDX 6 error code table).
const (
	codeInvalidInput      = "401"  // FDX "Invalid Input" (sent with HTTP 400)
	codeForbidden         = "403"  // FDX "Forbidden"
	codeNotFound          = "404"  // no such resource path
	codeInternal          = "500"  // FDX "Internal server error"
	codeUnavailable       = "503"  // FDX "Scheduled Maintenance" / unavailable
	codeAuthFailed        = "603"  // FDX "Authentication failed"
	codeAccountNotFound   = "701"  // FDX "Account not found"
	codeInvalidDate       = "702"  // FDX "Invalid start or end date"
	codeInvalidDateRange  = "703"  // FDX "Invalid date range"
	codeStatementNotFound = "1104" // FDX "Statement id not found for Account"
	codeNotAcceptable     = "1203" // FDX "Content Type not Supported"
	codeMethodNotAllowed  = "1206" // FDX "Method Not Allowed"
	codeTooManyRequests   = "1207" // FDX "Too Many Requests"
	codeStatementPending  = "1300" // FDX "Statement is Processing"
)

func newProblem(status int, slug, title, code, detail string) *Problem {
	return &Problem{
		Type: problemTypeBase + slug, Title: title, Status: status,
		Detail: detail, Code: code, Message: title, DebugMessage: detail,
	}
}

// The problems this API answers; handlers return them as errors.

func errUnauthenticated(detail string) *Problem {
	p := newProblem(http.StatusUnauthorized, "unauthenticated", "Authentication required", codeAuthFailed, detail)
	p.challenge = true
	return p
}

func errInvalidToken(detail string) *Problem {
	p := newProblem(http.StatusUnauthorized, "invalid-token", "Invalid token", codeAuthFailed, detail)
	p.challenge, p.authError, p.authDescription = true, "invalid_token", "the access token is invalid, expired or revoked"
	return p
}

func errTokenInQuery() *Problem {
	p := newProblem(http.StatusUnauthorized, "token-in-query", "Token not accepted in the query", codeAuthFailed,
		"send the access token in the Authorization header (Bearer), never in the URL")
	p.challenge, p.authError, p.authDescription = true, "invalid_request", "access tokens are accepted only in the Authorization header"
	return p
}

// errInsufficientScope: the call needs one of scopes (RFC 6750 lists them,
// space-separated, in scope=).
func errInsufficientScope(scopes ...string) *Problem {
	quoted := make([]string, len(scopes))
	for i, sc := range scopes {
		quoted[i] = strconv.Quote(sc)
	}
	what := fmt.Sprintf("the %s scope", strings.Join(quoted, " or "))
	if len(scopes) > 1 {
		what = fmt.Sprintf("the %s scope (either)", strings.Join(quoted, " or "))
	}
	p := newProblem(http.StatusForbidden, "insufficient-scope", "Insufficient scope", codeForbidden,
		fmt.Sprintf("this call needs %s, which the token or the user's job role does not grant", what))
	p.wwwAuthenticate = fmt.Sprintf(`Bearer realm="fdx", error="insufficient_scope", scope=%q`, strings.Join(scopes, " "))
	return p
}

func errAccountNotFound() *Problem {
	return newProblem(http.StatusNotFound, "account-not-found", "Account not found", codeAccountNotFound,
		"no account with this accountId is available to this token")
}

func errStatementNotFound() *Problem {
	return newProblem(http.StatusNotFound, "statement-not-found", "Statement not found", codeStatementNotFound,
		"no statement with this statementId exists for the account")
}

func errStatementProcessing() *Problem {
	return newProblem(http.StatusBadRequest, "statement-processing", "Statement is processing", codeStatementPending,
		"the statement is not available yet; try again later")
}

// errNotReconciled refuses a document whose balances do not add up; the
// cause is logged, the client learns which document and that nothing was sent.
func errNotReconciled(subject string) *Problem {
	return newProblem(http.StatusInternalServerError, "not-reconciled", "Document does not reconcile", codeInternal,
		fmt.Sprintf("the %s does not reconcile (opening + entries ≠ closing, or a stored daily balance disagrees); nothing was sent and the bank has been alerted", subject))
}

func errRouteNotFound() *Problem {
	return newProblem(http.StatusNotFound, "not-found", "Not found", codeNotFound, "no such resource")
}

func errMethodNotAllowed() *Problem {
	p := newProblem(http.StatusMethodNotAllowed, "method-not-allowed", "Method not allowed", codeMethodNotAllowed,
		"this API is read-only: only GET is allowed")
	p.allow = http.MethodGet
	return p
}

func errNotAcceptable(offered []string) *Problem {
	return newProblem(http.StatusNotAcceptable, "not-acceptable", "Content type not supported", codeNotAcceptable,
		fmt.Sprintf("none of the Accept types can be served; available: %v", offered))
}

func errTooManyRequests(retryAfter int) *Problem {
	p := newProblem(http.StatusTooManyRequests, "too-many-requests", "Too many requests", codeTooManyRequests,
		fmt.Sprintf("the client's request budget is spent; retry after %d s", retryAfter))
	p.retryAfter = retryAfter
	return p
}

func errInternal() *Problem {
	return &Problem{
		Type: problemTypeBase + "internal", Title: "Internal Server Error", Status: http.StatusInternalServerError,
		Code: codeInternal, Message: "Internal Server Error",
	}
}

// outageRetryAfter is the Retry-After (seconds) while the database is
// unavailable: time for the pool to reconnect.
const outageRetryAfter = 5

func errUnavailable() *Problem {
	p := &Problem{
		Type: problemTypeBase + "unavailable", Title: "Service unavailable", Status: http.StatusServiceUnavailable,
		Code: codeUnavailable, Message: "Service unavailable",
	}
	p.retryAfter = 1
	return p
}

// errBusy is the 503 of a request the admission gate turned away: nothing
// was read or checked.
func errBusy() *Problem {
	p := errUnavailable()
	p.Detail = "the server is busy: too many requests are waiting; retry after " + admission.RetryAfter + " s"
	return p
}

// paramErrors collects invalid parameters; problem() turns them into one 400.
type paramErrors struct {
	list []InvalidParam
	code string // the FDX code of the first error (702/703 for dates)
}

func (pe *paramErrors) add(code, name, in, format string, args ...any) {
	if pe.code == "" {
		pe.code = code
	}
	pe.list = append(pe.list, InvalidParam{Name: name, In: in, Reason: fmt.Sprintf(format, args...)})
}

func (pe *paramErrors) err() error {
	if len(pe.list) == 0 {
		return nil
	}
	title := "Invalid request parameters"
	slug := "invalid-parameters"
	switch pe.code {
	case codeInvalidDate:
		title, slug = "Invalid start or end date", "invalid-date"
	case codeInvalidDateRange:
		title, slug = "Invalid date range", "invalid-date-range"
	}
	detail := ""
	for i, e := range pe.list {
		if i > 0 {
			detail += "; "
		}
		detail += e.Name + ": " + e.Reason
	}
	p := newProblem(http.StatusBadRequest, slug, title, pe.code, detail)
	p.Errors = pe.list
	return p
}

func invalidParam(code, name, in, format string, args ...any) error {
	var pe paramErrors
	pe.add(code, name, in, format, args...)
	return pe.err()
}

// problemFor maps any error a handler returns to the problem to send: the
// single place where errors become HTTP answers. Unknown errors become a 500
// whose detail is logged, never sent.
func (s *Server) problemFor(ctx context.Context, err error) *Problem {
	var p *Problem
	switch {
	case errors.As(err, &p):
		return p
	case errors.Is(err, echo.ErrNotFound):
		// The only error echo returns inside the group: its catch-all
		// route (problems made an unknown method on a known path a 405).
		return errRouteNotFound()
	case errors.Is(err, store.ErrUnavailable) && ctx.Err() == nil:
		// Before ErrNotFound: a database outage is no one's refusal. (A
		// request whose own deadline passed is the timeout below.)
		s.log.ErrorContext(ctx, "dataapi: database unavailable", slog.Any("err", err))
		p := errUnavailable()
		p.retryAfter = outageRetryAfter
		return p
	case errors.Is(err, store.ErrNotFound):
		// A record vanished between the access check and the read: the
		// caller may not learn why, so it is the account's 404.
		return errAccountNotFound()
	case clientGone(ctx, err):
		s.log.InfoContext(ctx, "dataapi: request abandoned: client gone", slog.Any("err", err))
		return errUnavailable() // never sent
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		s.log.WarnContext(ctx, "dataapi: request cancelled or timed out", slog.Any("err", err))
		return errUnavailable()
	}
	s.log.ErrorContext(ctx, "dataapi: internal error", slog.Any("err", err))
	return errInternal()
}

// fdxError is the error body FDX's examples show: code as a number,
// served as application/json, for clients that accept nothing else.
type fdxError struct {
	Code         int            `json:"code"`
	Message      string         `json:"message"`
	DebugMessage string         `json:"debugMessage,omitempty"`
	Errors       []InvalidParam `json:"errors,omitempty"`
}

// wantsFDXError reports whether the request's Accept prefers
// application/json to application/problem+json: application/json is named
// with a weight above zero, above an explicit application/problem+json's
// and at least that of a matching wildcard. Everyone else (no Accept, */*,
// problem+json) gets the RFC 9457 problem.
func wantsFDXError(r *http.Request) bool {
	jsonQ, problemQ, wildQ := -1.0, -1.0, -1.0
	for _, v := range r.Header.Values("Accept") {
		for _, part := range strings.Split(v, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			q := 1.0
			if s, ok := params["q"]; ok {
				if q, err = strconv.ParseFloat(s, 64); err != nil || q < 0 || q > 1 {
					continue
				}
			}
			switch mt {
			case "application/json":
				jsonQ = max(jsonQ, q)
			case "application/problem+json":
				problemQ = max(problemQ, q)
			case "application/*", "*/*":
				wildQ = max(wildQ, q)
			}
		}
	}
	return jsonQ > 0 && jsonQ > problemQ && jsonQ >= wildQ
}

// writeProblem sends p as application/problem+json with its headers, or in
// FDX's application/json shape when the client asks for that (wantsFDXError).
func writeProblem(c echo.Context, p *Problem) error {
	h := c.Response().Header()
	if p.wwwAuthenticate != "" {
		h.Set("WWW-Authenticate", p.wwwAuthenticate)
	}
	if p.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(p.retryAfter))
	}
	if p.allow != "" {
		h.Set("Allow", p.allow)
	}
	if p.Instance == "" {
		p.Instance = c.Request().URL.Path
	}
	contentType := "application/problem+json"
	var v any = p
	if wantsFDXError(c.Request()) {
		code, _ := strconv.Atoi(p.Code) // every FDX code is numeric
		contentType = echo.MIMEApplicationJSON
		v = fdxError{Code: code, Message: p.Message, DebugMessage: p.DebugMessage, Errors: p.Errors}
	}
	h.Set(echo.HeaderContentType, contentType)
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("dataapi: encode problem: %w", err)
	}
	if c.Request().Method == http.MethodHead {
		body = nil
	}
	return c.Blob(p.Status, contentType, body)
}

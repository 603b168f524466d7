package apihttp

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/store"
)

// ProblemTypeBase prefixes every problem type URI; the slug after it is
// stable API (documented in the README next to dataapi's).
const ProblemTypeBase = "urn:bankfeed:problem:"

// Problem is an RFC 9457 problem details document.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
	// Errors lists invalid input fields (extension member).
	Errors []FieldError `json:"errors,omitempty"`
	// Missing names the permission and right the caller lacks (403).
	Missing *MissingRight `json:"missing,omitempty"`
	// Row is the zero-based index of the offending row of a batch (422).
	Row *int `json:"row,omitempty"`

	// WWWAuthenticate is the challenge of a 401 or 403 (header only).
	WWWAuthenticate string `json:"-"`
	retryAfter      string // seconds, for a 503
}

// FieldError is one invalid input field.
type FieldError struct {
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// MissingRight is the (permission, right) a 403 refers to.
type MissingRight struct {
	Permission string `json:"permission"`
	Title      string `json:"title"`
	Right      string `json:"right"`
}

func (p *Problem) Error() string { return fmt.Sprintf("%d %s: %s", p.Status, p.Title, p.Detail) }

// NewProblem is a problem of type ProblemTypeBase + slug.
func NewProblem(status int, slug, title, detail string) *Problem {
	return &Problem{Type: ProblemTypeBase + slug, Title: title, Status: status, Detail: detail}
}

// BadRequest is a 400.
func BadRequest(format string, args ...any) *Problem {
	return NewProblem(http.StatusBadRequest, "bad-request", "Bad Request", fmt.Sprintf(format, args...))
}

// InvalidField is a 422 naming one bad field.
func InvalidField(field, format string, args ...any) *Problem {
	return InvalidFields(FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// InvalidFields is a 422 naming every bad field; its detail is the first.
func InvalidFields(errs ...FieldError) *Problem {
	p := NewProblem(http.StatusUnprocessableEntity, "invalid", "Unprocessable Content", FieldMsg(errs[0].Field, errs[0].Message))
	p.Errors = errs
	return p
}

// FieldMsg is a field's message as a detail: "field: message".
func FieldMsg(field, msg string) string {
	if field == "" {
		return msg
	}
	return field + ": " + msg
}

// NotFound is the 404 of the record what with ID id.
func NotFound(what, id string) *Problem {
	return NewProblem(http.StatusNotFound, "not-found", "Not Found", fmt.Sprintf("%s %q not found", what, id))
}

// Conflict is a 409.
func Conflict(format string, args ...any) *Problem {
	return NewProblem(http.StatusConflict, "conflict", "Conflict", fmt.Sprintf(format, args...))
}

// Forbidden is a 403 of type slug.
func Forbidden(slug, detail string) *Problem {
	return NewProblem(http.StatusForbidden, slug, "Forbidden", detail)
}

// outageRetryAfter is the Retry-After (seconds) of a 503 answered while
// the database is unavailable.
const outageRetryAfter = "5"

// unavailable is the 503 of a database outage (issue 11, finding 3): the
// request may be retried as it is; nothing about it was refused.
func unavailable() *Problem {
	p := NewProblem(http.StatusServiceUnavailable, "unavailable", "Service Unavailable",
		"the service is temporarily unavailable; retry later")
	p.retryAfter = outageRetryAfter
	return p
}

// Unauthorized is a 401 with its WWW-Authenticate challenge.
func Unauthorized(detail, wwwAuth string) *Problem {
	p := NewProblem(http.StatusUnauthorized, "unauthorized", "Unauthorized", detail)
	p.WWWAuthenticate = wwwAuth
	return p
}

// ToProblem maps any handler error to a problem; ok is false for internal
// failures, which are logged and never echoed.
func ToProblem(err error) (p *Problem, ok bool) {
	var (
		pr    *Problem
		right *store.RightError
		rule  *store.RuleError
		mbe   *http.MaxBytesError
	)
	switch {
	case errors.As(err, &pr):
		return pr, true
	case errors.Is(err, store.ErrUnavailable):
		// Before the sentinels below: an outage is no one's refusal.
		return unavailable(), true
	case errors.As(err, &right):
		p := Forbidden("missing-right", fmt.Sprintf("you need the %s right on the %q permission", right.Right, right.Permission.Title()))
		p.Missing = &MissingRight{Permission: string(right.Permission), Title: right.Permission.Title(), Right: right.Right.String()}
		return p, true
	case errors.As(err, &rule):
		p := NewProblem(http.StatusUnprocessableEntity, "invalid", "Unprocessable Content", rule.Error())
		p.Errors = []FieldError{{Field: rule.Field, Message: rule.Message}}
		return p, true
	case errors.As(err, &mbe):
		return NewProblem(http.StatusRequestEntityTooLarge, "too-large", "Content Too Large",
			fmt.Sprintf("the request body is larger than %d bytes", mbe.Limit)), true
	case errors.Is(err, store.ErrNotFound):
		return NewProblem(http.StatusNotFound, "not-found", "Not Found", "the resource was not found"), true
	case errors.Is(err, store.ErrConflict):
		return NewProblem(http.StatusConflict, "conflict", "Conflict", "the change conflicts with the current state; reload and try again"), true
	}
	// store.ErrInvalid and store.ErrForbidden come only inside the
	// *RuleError and *RightError handled above, and no handler returns an
	// *echo.HTTPError (Decode reads bodies itself): anything else is ours.
	return nil, false
}

// WriteProblem sends p with the problem media type.
func WriteProblem(c echo.Context, p *Problem) error {
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	if p.WWWAuthenticate != "" {
		h.Set("WWW-Authenticate", p.WWWAuthenticate)
	}
	if p.retryAfter != "" {
		h.Set("Retry-After", p.retryAfter)
	}
	if p.Instance == "" {
		p.Instance = c.Request().URL.Path
	}
	b, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("apihttp: marshal problem: %w", err)
	}
	return c.Blob(p.Status, "application/problem+json", b)
}

// Internal is the 500 of a failure that is logged, never echoed.
func Internal() *Problem {
	return NewProblem(http.StatusInternalServerError, "internal", "Internal Server Error", "an unexpected error occurred; it has been logged")
}

// RefuseText answers a request that carries a NUL byte or invalid UTF-8 in
// field (in "query", "path" or "body"), the server's edge check calling it
// before any handler runs: a body field is the 422 every invalid field
// gets, a path or query parameter the 400 of a malformed parameter; both
// name it.
func RefuseText(c echo.Context, field, in string) error {
	const msg = "must be UTF-8 text without NUL bytes"
	if in == "body" {
		return WriteProblem(c, InvalidField(field, msg))
	}
	p := BadRequest("%s", FieldMsg(field, msg))
	p.Errors = []FieldError{{Field: field, Message: msg}}
	return WriteProblem(c, p)
}

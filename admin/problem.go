package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/admin/feed"
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

	wwwAuthenticate string
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

func problem(status int, slug, title, detail string) *Problem {
	return &Problem{Type: ProblemTypeBase + slug, Title: title, Status: status, Detail: detail}
}

func badRequest(format string, args ...any) *Problem {
	return problem(http.StatusBadRequest, "bad-request", "Bad Request", fmt.Sprintf(format, args...))
}

func invalidField(field, format string, args ...any) *Problem {
	return invalidFields(FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// invalidFields is a 422 naming every bad field; its detail is the first.
func invalidFields(errs ...FieldError) *Problem {
	p := problem(http.StatusUnprocessableEntity, "invalid", "Unprocessable Content", fieldMsg(errs[0].Field, errs[0].Message))
	p.Errors = errs
	return p
}

func fieldMsg(field, msg string) string {
	if field == "" {
		return msg
	}
	return field + ": " + msg
}

func notFound(what, id string) *Problem {
	return problem(http.StatusNotFound, "not-found", "Not Found", fmt.Sprintf("%s %q not found", what, id))
}

func conflict(format string, args ...any) *Problem {
	return problem(http.StatusConflict, "conflict", "Conflict", fmt.Sprintf(format, args...))
}

func forbidden(slug, detail string) *Problem {
	return problem(http.StatusForbidden, slug, "Forbidden", detail)
}

// outageRetryAfter is the Retry-After (seconds) of a 503 answered while
// the database is unavailable.
const outageRetryAfter = "5"

// unavailable is the 503 of a database outage (issue 11, finding 3): the
// request may be retried as it is; nothing about it was refused.
func unavailable() *Problem {
	p := problem(http.StatusServiceUnavailable, "unavailable", "Service Unavailable",
		"the service is temporarily unavailable; retry later")
	p.retryAfter = outageRetryAfter
	return p
}

func unauthorized(detail, wwwAuth string) *Problem {
	p := problem(http.StatusUnauthorized, "unauthorized", "Unauthorized", detail)
	p.wwwAuthenticate = wwwAuth
	return p
}

// toProblem maps any handler error to a problem; ok is false for internal
// failures, which are logged and never echoed.
func toProblem(err error) (p *Problem, ok bool) {
	var (
		pr    *Problem
		right *store.RightError
		rule  *store.RuleError
		row   *feed.RowError
		mbe   *http.MaxBytesError
	)
	switch {
	case errors.As(err, &pr):
		return pr, true
	case errors.Is(err, store.ErrUnavailable):
		// Before the sentinels below: an outage is no one's refusal.
		return unavailable(), true
	case errors.As(err, &row):
		inner, ok := toProblem(row.Err)
		if !ok {
			return nil, false
		}
		cp := *inner
		i := row.Index
		cp.Row = &i
		cp.Detail = fmt.Sprintf("row %d: %s", row.Index, inner.Detail)
		for k := range cp.Errors {
			cp.Errors[k].Field = fmt.Sprintf("transactions[%d].%s", row.Index, cp.Errors[k].Field)
		}
		return &cp, true
	case errors.As(err, &right):
		p := forbidden("missing-right", fmt.Sprintf("you need the %s right on the %q permission", right.Right, right.Permission.Title()))
		p.Missing = &MissingRight{Permission: string(right.Permission), Title: right.Permission.Title(), Right: right.Right.String()}
		return p, true
	case errors.As(err, &rule):
		p := problem(http.StatusUnprocessableEntity, "invalid", "Unprocessable Content", rule.Error())
		p.Errors = []FieldError{{Field: rule.Field, Message: rule.Message}}
		return p, true
	case errors.As(err, &mbe):
		return problem(http.StatusRequestEntityTooLarge, "too-large", "Content Too Large",
			fmt.Sprintf("the request body is larger than %d bytes", mbe.Limit)), true
	case errors.Is(err, store.ErrNotFound):
		return problem(http.StatusNotFound, "not-found", "Not Found", "the resource was not found"), true
	case errors.Is(err, store.ErrConflict):
		return problem(http.StatusConflict, "conflict", "Conflict", "the change conflicts with the current state; reload and try again"), true
	}
	// store.ErrInvalid and store.ErrForbidden come only inside the
	// *RuleError and *RightError handled above, and no handler returns an
	// *echo.HTTPError (decode reads bodies itself): anything else is ours.
	return nil, false
}

// writeProblem sends p with the problem media type.
func writeProblem(c echo.Context, p *Problem) error {
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	if p.wwwAuthenticate != "" {
		h.Set("WWW-Authenticate", p.wwwAuthenticate)
	}
	if p.retryAfter != "" {
		h.Set("Retry-After", p.retryAfter)
	}
	if p.Instance == "" {
		p.Instance = c.Request().URL.Path
	}
	b, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("admin: marshal problem: %w", err)
	}
	return c.Blob(p.Status, "application/problem+json", b)
}

func internalProblem() *Problem {
	return problem(http.StatusInternalServerError, "internal", "Internal Server Error", "an unexpected error occurred; it has been logged")
}

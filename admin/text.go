package admin

import (
	"github.com/labstack/echo/v4"
)

// RefuseText answers a request to /admin/v1 or /ops/v1 that carries a NUL
// byte or invalid UTF-8 in field (in "query", "path" or "body"), the
// server's edge check calling it before any handler runs: a body field is
// the 422 every invalid field gets, a path or query parameter the 400 of a
// malformed parameter; both name it.
func RefuseText(c echo.Context, field, in string) error {
	const msg = "must be UTF-8 text without NUL bytes"
	if in == "body" {
		return writeProblem(c, invalidField(field, msg))
	}
	p := badRequest("%s", fieldMsg(field, msg))
	p.Errors = []FieldError{{Field: field, Message: msg}}
	return writeProblem(c, p)
}

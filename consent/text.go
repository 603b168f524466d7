package consent

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"
)

// RefuseText answers a request to the bank's pages that carries a NUL byte
// or invalid UTF-8 in field (in "query", "path" or "body"): the pages' bad
// request page, as for any malformed form. The server's edge check calls it
// before any handler runs; the field is logged, never its value.
func (h *Handler) RefuseText(c echo.Context, field, in string) error {
	return h.renderError(c, http.StatusBadRequest, errBadRequest,
		fmt.Errorf("consent: %s %q is not UTF-8 text without NUL bytes", in, field))
}

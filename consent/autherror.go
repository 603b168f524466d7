package consent

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// AuthorizeErrorPage is what the customer's browser gets when the
// authorization server refuses a request it cannot send back to the
// application — unknown client_id, unregistered redirect_uri, a used
// request_uri, a sign-in that does not check out: the bank's error page,
// with the pages' headers, in the user's language, naming the OAuth error
// code for the application's support (never its description).
func (h *Handler) AuthorizeErrorPage(w http.ResponseWriter, r *http.Request, status int, code string) {
	c := h.pageEcho.NewContext(r, w)
	_ = h.headers(func(c echo.Context) error {
		h.log.InfoContext(r.Context(), "consent: authorization error page", "request_id", requestID(c), "status", status, "error", code)
		b := h.newBase(c, "error_title")
		p := errorPage{base: b, Body: b.L.T("authorize_error_body"), Code: b.L.F("error_code", code)}
		if rid := requestID(c); rid != "" {
			p.Reference = b.L.F("error_reference", rid)
		}
		return h.render(c, status, "error", p)
	})(c)
}

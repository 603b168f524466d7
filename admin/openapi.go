package admin

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// serveDocument answers one of admin/openapi's documents as JSON; like
// the data API's, it needs no token.
func serveDocument(doc func() ([]byte, error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		b, err := doc()
		if err != nil {
			return err
		}
		return c.Blob(http.StatusOK, "application/json", b)
	}
}

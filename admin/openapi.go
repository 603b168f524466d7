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
		// Any origin may read it (a developer's tool in a browser); no
		// credentials are involved, so none are allowed.
		c.Response().Header().Set("Access-Control-Allow-Origin", "*")
		return c.Blob(http.StatusOK, "application/json", b)
	}
}

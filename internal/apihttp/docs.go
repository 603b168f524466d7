package apihttp

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/internal/apidocs"
)

// MountDocs registers an API's OpenAPI document, as JSON at
// prefix/openapi.json, and its reference at prefix/docs, rendered with the
// Redoc bundle embedded in the binary (internal/apidocs) like the data
// API's /fdx/v6/docs. Like the data API's, they need no token; wrap is the
// API's error handling (Errors.H).
func MountDocs(e *echo.Echo, prefix, title string, doc func() ([]byte, error), wrap func(echo.HandlerFunc) echo.HandlerFunc) {
	e.GET(prefix+"/openapi.json", wrap(serveDocument(doc)))
	e.GET(prefix+"/docs", wrap(echo.WrapHandler(apidocs.Page(title, "openapi.json", "docs"))))
	e.GET(prefix+"/docs/"+apidocs.ScriptName, wrap(echo.WrapHandler(apidocs.Script())))
}

// serveDocument answers an OpenAPI document as JSON.
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

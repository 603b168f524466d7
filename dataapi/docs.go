package dataapi

import (
	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/internal/apidocs"
)

// The API reference at /fdx/v6/docs: this API's OpenAPI document rendered
// in the browser by the Redoc bundle embedded in the binary (no CDN).
var (
	docsPage   = apidocs.Page("bankfeed data API (FDX v6) reference", "openapi.json", "docs")
	docsScript = apidocs.Script()
)

func (s *Server) handleDocs(c echo.Context) error {
	docsPage.ServeHTTP(c.Response(), c.Request())
	return nil
}

func (s *Server) handleDocsScript(c echo.Context) error {
	docsScript.ServeHTTP(c.Response(), c.Request())
	return nil
}

package admin

import (
	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/internal/apidocs"
)

// mountDocs registers the API references: /admin/v1/docs and /ops/v1/docs
// render their OpenAPI documents with the Redoc bundle embedded in the
// binary (internal/apidocs), like the data API's /fdx/v6/docs. Like the
// documents, they need no token.
func (s *Server) mountDocs(e *echo.Echo) {
	script := echo.WrapHandler(apidocs.Script())
	e.GET("/admin/v1/docs", s.h(echo.WrapHandler(apidocs.Page("bankfeed administration API (/admin/v1) reference", "openapi.json", "docs"))))
	e.GET("/admin/v1/docs/"+apidocs.ScriptName, s.h(script))
	e.GET("/ops/v1/docs", s.h(echo.WrapHandler(apidocs.Page("bankfeed operations API (/ops/v1) reference", "openapi.json", "docs"))))
	e.GET("/ops/v1/docs/"+apidocs.ScriptName, s.h(script))
}

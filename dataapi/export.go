package dataapi

import (
	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/store"
)

// documentTypes are the statement document types in preference order (the
// first is what a request without Accept gets).
//
// TODO(integrator): dataapi/export (PDF, camt.053, BAI2, OFX/QBO, MT940,
// CSV) was not ready when this was written; wire its negotiation + writer
// API here so that PDF comes first and is the default.
func (s *Server) documentTypes() []string {
	return []string{contentTypeJSON}
}

// writeExport renders st in content type ct (one of documentTypes other
// than JSON).
func (s *Server) writeExport(c echo.Context, a store.Account, st store.Statement, ct string) error {
	return errNotAcceptable(s.documentTypes())
}

package openapi

import (
	_ "embed"

	"github.com/bankfeed/bankfeed/internal/apidocs"
)

//go:embed admin.yaml
var adminYAML []byte

var adminJSON = apidocs.JSON("admin.yaml", adminYAML)

// Admin returns the /admin/v1 document as JSON.
func Admin() ([]byte, error) { return adminJSON() }

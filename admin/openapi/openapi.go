package openapi

import (
	_ "embed"

	"github.com/bankfeed/bankfeed/internal/apidocs"
)

var (
	//go:embed admin.yaml
	adminYAML []byte
	//go:embed ops.yaml
	opsYAML []byte
)

var (
	adminJSON = apidocs.JSON("admin.yaml", adminYAML)
	opsJSON   = apidocs.JSON("ops.yaml", opsYAML)
)

// Admin returns the /admin/v1 document as JSON.
func Admin() ([]byte, error) { return adminJSON() }

// Ops returns the /ops/v1 document as JSON.
func Ops() ([]byte, error) { return opsJSON() }

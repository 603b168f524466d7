package ops

import (
	_ "embed"

	"github.com/bankfeed/bankfeed/internal/apidocs"
)

// openapiYAML is the /ops/v1 document, kept in the repository as YAML
// beside the code it describes (as dataapi's is).
//
//go:embed openapi.yaml
var openapiYAML []byte

var openapiJSON = apidocs.JSON("ops/openapi.yaml", openapiYAML)

// OpenAPI returns the /ops/v1 OpenAPI 3.1 document as JSON, served at
// /ops/v1/openapi.json; the tests check every exchange against it.
func OpenAPI() ([]byte, error) { return openapiJSON() }

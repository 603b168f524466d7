package dataapi

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"github.com/labstack/echo/v4"
	"gopkg.in/yaml.v3"
)

// openapiYAML is the API's OpenAPI 3.1 document, kept in the repository
// and served as JSON at /fdx/v6/openapi.json.
//
//go:embed openapi.yaml
var openapiYAML []byte

var openapiJSON = sync.OnceValues(func() ([]byte, error) {
	var doc any
	if err := yaml.Unmarshal(openapiYAML, &doc); err != nil {
		return nil, fmt.Errorf("dataapi: parse openapi.yaml: %w", err)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("dataapi: openapi.yaml as JSON: %w", err)
	}
	return b, nil
})

// OpenAPI returns the API's OpenAPI 3.1 document as JSON.
func OpenAPI() ([]byte, error) { return openapiJSON() }

func (s *Server) handleOpenAPI(c echo.Context) error {
	if err := readQuery(c).err(); err != nil {
		return err
	}
	b, err := openapiJSON()
	if err != nil {
		return err
	}
	// Any origin may read the document (a developer's tool in a browser);
	// no credentials are involved, so none are allowed.
	c.Response().Header().Set("Access-Control-Allow-Origin", "*")
	return c.Blob(http.StatusOK, "application/json", b)
}

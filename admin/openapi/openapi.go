package openapi

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sync"

	"gopkg.in/yaml.v3"
)

var (
	//go:embed admin.yaml
	adminYAML []byte
	//go:embed ops.yaml
	opsYAML []byte
)

// asJSON converts a document once; a YAML error is the build's (a test
// parses both documents), so it is returned rather than panicked on.
func asJSON(name string, src []byte) func() ([]byte, error) {
	return sync.OnceValues(func() ([]byte, error) {
		var doc any
		if err := yaml.Unmarshal(src, &doc); err != nil {
			return nil, fmt.Errorf("openapi: parse %s: %w", name, err)
		}
		b, err := json.Marshal(doc)
		if err != nil {
			return nil, fmt.Errorf("openapi: %s as JSON: %w", name, err)
		}
		return b, nil
	})
}

var (
	adminJSON = asJSON("admin.yaml", adminYAML)
	opsJSON   = asJSON("ops.yaml", opsYAML)
)

// Admin returns the /admin/v1 document as JSON.
func Admin() ([]byte, error) { return adminJSON() }

// Ops returns the /ops/v1 document as JSON.
func Ops() ([]byte, error) { return opsJSON() }

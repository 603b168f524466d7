package apidocs

import (
	"encoding/json"
	"fmt"
	"sync"

	"gopkg.in/yaml.v3"
)

// JSON is an OpenAPI document kept as YAML (src, named name in errors), as
// JSON, converted once. A YAML error is the build's (each API's tests load
// its document), so it is returned rather than panicked on.
func JSON(name string, src []byte) func() ([]byte, error) {
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

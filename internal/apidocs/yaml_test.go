package apidocs_test

import (
	"strings"
	"testing"

	"github.com/bankfeed/bankfeed/internal/apidocs"
)

// TestJSON: a YAML document is served as the same JSON; a broken one is an
// error naming the document, never a panic.
func TestJSON(t *testing.T) {
	b, err := apidocs.JSON("x.yaml", []byte("openapi: 3.1.0\ninfo:\n  title: T\n  version: '1'\npaths: {}\n"))()
	if err != nil || string(b) != `{"info":{"title":"T","version":"1"},"openapi":"3.1.0","paths":{}}` {
		t.Fatalf("JSON = %s, %v", b, err)
	}
	if _, err := apidocs.JSON("bad.yaml", []byte("openapi: [3.1\n"))(); err == nil || !strings.Contains(err.Error(), "bad.yaml") {
		t.Fatalf("broken YAML: err = %v, want one naming bad.yaml", err)
	}
}

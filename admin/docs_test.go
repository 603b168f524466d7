package admin_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/bankfeed/bankfeed/internal/apidocs"
)

// TestDocs: /admin/v1/docs and /ops/v1/docs are the APIs' references
// (issue 13 §5), without a token: the page with the only-this-origin CSP,
// naming the API's own document and the embedded bundle, which is served.
// The OpenAPI documents answer any origin, without credentials.
func TestDocs(t *testing.T) {
	e := newEnv(t)
	for _, api := range []string{"/admin/v1", "/ops/v1"} {
		{ // e.must fails the test itself: no subtests
			r := e.must(http.StatusOK, "", http.MethodGet, api+"/docs", nil)
			if r.Header.Get("Content-Security-Policy") != apidocs.CSP || r.Header.Get("Content-Type") != "text/html; charset=utf-8" {
				t.Errorf("headers %v", r.Header)
			}
			page := string(r.Raw)
			for _, want := range []string{`spec-url="openapi.json"`, `src="docs/` + apidocs.ScriptName + `"`} {
				if !strings.Contains(page, want) {
					t.Errorf("the page lacks %s:\n%s", want, page)
				}
			}
			if strings.Contains(page, "http") {
				t.Errorf("the page names an absolute URL:\n%s", page)
			}
			js := e.must(http.StatusOK, "", http.MethodGet, api+"/docs/"+apidocs.ScriptName, nil)
			if js.Header.Get("Content-Type") != "text/javascript; charset=utf-8" || len(js.Raw) < 100_000 {
				t.Errorf("bundle %v, %d bytes", js.Header, len(js.Raw))
			}
			doc := e.must(http.StatusOK, "", http.MethodGet, api+"/openapi.json", nil, "Origin", "https://tools.example")
			if doc.Header.Get("Access-Control-Allow-Origin") != "*" || doc.Header.Get("Access-Control-Allow-Credentials") != "" {
				t.Errorf("CORS %v", doc.Header)
			}
		}
	}
}

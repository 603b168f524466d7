package openapi_test

import (
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/bankfeed/bankfeed/admin/openapi"
	"github.com/bankfeed/bankfeed/dataapi"
	"github.com/bankfeed/bankfeed/ops"
)

// TestUnauthorizedDocumentsDPoP: every 401 of the three protected APIs
// documents the RFC 9449 challenge in WWW-Authenticate and the DPoP-Nonce
// header a use_dpop_nonce refusal carries (issue 12): the documents'
// validation accepts undocumented headers, so only this notices them.
func TestUnauthorizedDocumentsDPoP(t *testing.T) {
	for _, d := range []struct {
		name string
		json func() ([]byte, error)
	}{{"admin.yaml", openapi.Admin}, {"ops.yaml", ops.OpenAPI}, {"dataapi/openapi.yaml", dataapi.OpenAPI}} {
		t.Run(d.name, func(t *testing.T) {
			b, err := d.json()
			if err != nil {
				t.Fatal(err)
			}
			loader := openapi3.NewLoader()
			doc, err := loader.LoadFromData(b)
			if err != nil {
				t.Fatal(err)
			}
			if err := doc.Validate(loader.Context); err != nil {
				t.Fatal(err)
			}
			n := 0
			for path, item := range doc.Paths.Map() {
				for method, op := range item.Operations() {
					r := op.Responses.Status(401)
					if r == nil || r.Value == nil {
						continue
					}
					n++
					for _, h := range []string{"WWW-Authenticate", "DPoP-Nonce"} {
						if r.Value.Headers[h] == nil {
							t.Errorf("%s %s: its 401 does not document %s", method, path, h)
						}
					}
				}
			}
			if n == 0 {
				t.Fatal("no operation documents a 401")
			}
		})
	}
}

package dataapi_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// TestStatementLinksAreFDXContentTypes is issue 13 §1: a strict FDX client
// rejects a statement whose links[].types holds a media type FDX does not
// name (camt, BAI2, OFX, CSV…). The link lists only FDX content types; the
// other formats are in the additive documentTypes.
func TestStatementLinksAreFDXContentTypes(t *testing.T) {
	e := newEnv(t, envOptions{})
	tok := e.token(t)
	r := e.get(t, tok, base+"/accounts/"+e.f.chq+"/statements")
	wantStatus(t, r, 200)
	var l struct {
		Statements []struct {
			Links []struct {
				Types []string `json:"types"`
			} `json:"links"`
			DocumentTypes []string `json:"documentTypes"`
		} `json:"statements"`
	}
	r.json(t, &l)
	if len(l.Statements) == 0 {
		t.Fatalf("no statements: %s", r.body)
	}
	for _, s := range l.Statements {
		for _, link := range s.Links {
			if len(link.Types) == 0 {
				t.Fatalf("a link without types: %s", r.body)
			}
			for _, ty := range link.Types {
				if ty != "application/pdf" && ty != "application/json" && !strings.HasPrefix(ty, "image/") {
					t.Errorf("links[].types holds %q, not an FDX content type", ty)
				}
			}
			if link.Types[0] != "application/pdf" {
				t.Errorf("default type %q, want application/pdf first", link.Types[0])
			}
		}
		for _, want := range []string{"application/pdf", "text/csv", "application/x-ofx"} {
			if !slices.ContainsFunc(s.DocumentTypes, func(ty string) bool { return strings.HasPrefix(ty, want) }) {
				t.Errorf("documentTypes %v lacks %s", s.DocumentTypes, want)
			}
		}
	}
}

// TestErrorsForFDXClients is issue 13 §1: FDX's examples carry code as a
// number with Content-Type application/json. A client that accepts only
// application/json gets that shape (numeric code, message, debugMessage);
// every other client keeps the RFC 9457 problem with the code as a string.
func TestErrorsForFDXClients(t *testing.T) {
	e := newEnv(t, envOptions{})
	tok := e.token(t)
	missing := base + "/accounts/acc_nope"
	cases := []struct {
		name, accept string
		wantFDX      bool
	}{
		{"no Accept", "", false},
		{"any", "*/*", false},
		{"problem+json", "application/problem+json", false},
		{"both, problem first", "application/problem+json, application/json", false},
		{"application/json only", "application/json", true},
		{"application/json with a charset", "application/json; charset=utf-8", true},
		{"application/json preferred over problem+json", "application/json, application/problem+json;q=0.5", true},
		{"application/json with anything at a lower weight", "application/json, */*;q=0.1", true},
		{"application/json named beside */*", "application/json, */*", true},
		{"problem+json preferred", "application/problem+json, application/json;q=0.9", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var hdr []string
			if tc.accept != "" {
				hdr = []string{"Accept", tc.accept}
			}
			r := e.get(t, tok, missing, hdr...)
			wantStatus(t, r, 404)
			ct := r.header.Get("Content-Type")
			var raw map[string]json.RawMessage
			r.json(t, &raw)
			if !tc.wantFDX {
				if !strings.HasPrefix(ct, "application/problem+json") {
					t.Fatalf("Content-Type %q, want application/problem+json", ct)
				}
				wantProblem(t, r, 404, "701")
				return
			}
			if !strings.HasPrefix(ct, "application/json") {
				t.Fatalf("Content-Type %q, want application/json", ct)
			}
			var fdx struct {
				Code         int    `json:"code"`
				Message      string `json:"message"`
				DebugMessage string `json:"debugMessage"`
			}
			r.json(t, &fdx)
			if fdx.Code != 701 || fdx.Message == "" || fdx.DebugMessage == "" {
				t.Fatalf("FDX error %s", r.body)
			}
		})
	}
	t.Run("headers survive: 401 keeps WWW-Authenticate", func(t *testing.T) {
		r := e.get(t, "", base+"/accounts", "Accept", "application/json")
		wantStatus(t, r, 401)
		if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer ") || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
			t.Fatalf("headers %v", r.header)
		}
		var fdx struct{ Code int }
		r.json(t, &fdx)
		if fdx.Code != 603 {
			t.Fatalf("body %s", r.body)
		}
	})
	t.Run("invalid parameters name each one", func(t *testing.T) {
		r := e.get(t, tok, base+"/accounts?limit=0&bogus=1", "Accept", "application/json")
		wantStatus(t, r, 400)
		var fdx struct {
			Code   int
			Errors []struct{ Name string }
		}
		r.json(t, &fdx)
		if fdx.Code != 401 || len(fdx.Errors) != 2 {
			t.Fatalf("body %s", r.body)
		}
	})
}

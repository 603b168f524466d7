package dataapi_test

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/bankfeed/bankfeed/dataapi/export"
	"github.com/bankfeed/bankfeed/internal/apidocs"
)

// TestFormatEnum: the OpenAPI document's ExportFormat enum is exactly the
// format= names the server serves (issue 13 §5), in its order.
func TestFormatEnum(t *testing.T) {
	doc, _ := loadSpec(t)
	ref := doc.Components.Schemas["ExportFormat"]
	if ref == nil || ref.Value == nil {
		t.Fatal("no ExportFormat schema")
	}
	var got []string
	for _, v := range ref.Value.Enum {
		s, _ := v.(string)
		got = append(got, s)
	}
	if !slices.Equal(got, export.Names()) {
		t.Errorf("ExportFormat enum %v, the server's names %v", got, export.Names())
	}
	for _, path := range []string{"/accounts/{accountId}/exports", "/accounts/{accountId}/statements/{statementId}"} {
		p := doc.Paths.Find(path)
		if p == nil || p.Get == nil {
			t.Fatalf("no GET %s", path)
		}
		if prm := p.Get.Parameters.GetByInAndName("query", "format"); prm == nil || prm.Schema == nil || prm.Schema.Ref != "#/components/schemas/ExportFormat" {
			t.Errorf("GET %s: format= is not the ExportFormat enum", path)
		}
	}
}

// TestDocs: /fdx/v6/docs is the API reference (issue 13 §5): an HTML page
// whose Content-Security-Policy allows only the server's own origin and
// that references nothing but the embedded Redoc bundle and the OpenAPI
// document, both served here.
func TestDocs(t *testing.T) {
	e := newEnv(t, envOptions{})
	r := e.get(t, "", base+"/docs")
	wantStatus(t, r, 200)
	if ct := r.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	csp := r.header.Get("Content-Security-Policy")
	if csp != apidocs.CSP || !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "script-src 'self';") {
		t.Errorf("CSP %q", csp)
	}
	for _, d := range strings.Split(csp, ";") {
		for _, src := range strings.Fields(d)[1:] {
			if !slices.Contains([]string{"'self'", "'none'", "'unsafe-inline'", "data:", "blob:"}, src) || (src == "'unsafe-inline'" && !strings.Contains(d, "style-src")) {
				t.Errorf("CSP allows %s in %q", src, d)
			}
		}
	}
	// Every URL the page names, resolved against it, is one of ours.
	page, _ := url.Parse(e.srv.URL + base + "/docs")
	refs := regexp.MustCompile(`(?:src|href|spec-url)="([^"]*)"`).FindAllStringSubmatch(string(r.body), -1)
	want := map[string]bool{base + "/docs/" + apidocs.ScriptName: false, base + "/openapi.json": false}
	for _, m := range refs {
		if m[1] == "data:," { // the icon: none to fetch
			continue
		}
		u, err := page.Parse(m[1])
		if err != nil || u.Host != page.Host {
			t.Errorf("the page references %q, not on this server", m[1])
			continue
		}
		if _, ok := want[u.Path]; !ok {
			t.Errorf("the page references %s", u.Path)
		}
		want[u.Path] = true
	}
	for p, seen := range want {
		if !seen {
			t.Errorf("the page does not load %s", p)
		}
	}
	js := e.get(t, "", base+"/docs/"+apidocs.ScriptName)
	wantStatus(t, js, 200)
	if ct := js.header.Get("Content-Type"); ct != "text/javascript; charset=utf-8" || !strings.Contains(strings.ToLower(string(js.body[:min(len(js.body), 200)])), "redoc") {
		t.Errorf("bundle: %s %q", ct, clip(js.body[:min(len(js.body), 80)]))
	}
	if strings.Contains(string(js.body), "sourceMappingURL=http") {
		t.Error("the bundle points at a remote source map")
	}
}

// TestOpenAPICORS: any origin may GET the OpenAPI document (a developer's
// tool in a browser), without credentials.
func TestOpenAPICORS(t *testing.T) {
	e := newEnv(t, envOptions{})
	r := e.get(t, "", base+"/openapi.json", "Origin", "https://tools.example")
	wantStatus(t, r, 200)
	if got := r.header.Get("Access-Control-Allow-Origin"); got != "*" {
		t.Errorf("Access-Control-Allow-Origin %q, want *", got)
	}
	if r.header.Get("Access-Control-Allow-Credentials") != "" {
		t.Error("credentials allowed")
	}
}

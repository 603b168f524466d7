package apidocs

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"html/template"
	"net/http"
	"time"
)

// ScriptName is the bundle's file name; a page at …/docs loads it from
// …/docs/ScriptName.
const ScriptName = "redoc.standalone.js"

//go:embed redoc/redoc.standalone.js
var bundle []byte

// cdnLogo is the one thing the bundle loads from elsewhere: its
// attribution logo, an <img> from cdn.redoc.ly that no option turns off
// (Redoc 2.5 and 3.0 alike).
const cdnLogo = "https://cdn.redoc.ly/redoc/logo-mini.svg"

// script is the bundle as served: the logo's URL replaced by an empty
// data: URL, which loads nothing and which the image's own error handler
// hides, so the page needs no other origin. The file in redoc/ stays as
// published (its checksum is in redoc/README.md).
var script = bytes.Replace(bundle, []byte(cdnLogo), []byte("data:,"), -1)

// scriptETag identifies the embedded bundle for conditional requests.
var scriptETag = func() string {
	sum := sha256.Sum256(script)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}()

// CSP is the page's Content-Security-Policy: everything from the server's
// own origin only. Redoc's components inject their styles as <style>
// elements (styled-components), hence 'unsafe-inline' for styles only —
// never for scripts — and its search index runs in a worker it builds
// from a blob: URL. Images may be data: URLs (Redoc's icons).
const CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

var page = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<link rel="icon" href="data:,">
</head>
<body>
<noscript>This reference needs JavaScript. The OpenAPI document itself is at <a href="{{.Spec}}">{{.Spec}}</a>.</noscript>
<redoc spec-url="{{.Spec}}"></redoc>
<script src="{{.Script}}"></script>
</body>
</html>
`))

// Page serves the reference page for the OpenAPI document at spec (a URL
// relative to the page, e.g. "openapi.json" for a page at /fdx/v6/docs),
// titled title. The bundle is loaded from base + "/" + ScriptName.
func Page(title, spec, base string) http.Handler {
	var buf bytes.Buffer
	if err := page.Execute(&buf, struct{ Title, Spec, Script string }{title, spec, base + "/" + ScriptName}); err != nil {
		panic(err) // a constant template over strings cannot fail
	}
	body := buf.Bytes()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", CSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		cacheControl(h)
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			w.Write(body)
		}
	})
}

// Script serves the embedded Redoc bundle, revalidated by ETag.
func Script() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/javascript; charset=utf-8")
		h.Set("X-Content-Type-Options", "nosniff")
		cacheControl(h)
		h.Set("ETag", scriptETag)
		http.ServeContent(w, r, ScriptName, time.Time{}, bytes.NewReader(script))
	})
}

// cacheControl asks caches to revalidate, unless the API's middleware
// already set its own policy (the data API's no-store on every response).
func cacheControl(h http.Header) {
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-cache")
	}
}

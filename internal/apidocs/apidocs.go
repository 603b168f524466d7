package apidocs

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"html/template"
	"io"
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

// served is the bundle as served: the logo's URL replaced by an empty
// data: URL, which loads nothing and which the image's own error handler
// hides, so the page needs no other origin. The file in redoc/ stays as
// published (its checksum is in redoc/README.md). It is read from the
// embedded bundle piece by piece rather than copied: a copy held 1.2 MB of
// heap for the life of every process, docs opened or not (issue 15).
var served = splitAround(bundle, []byte(cdnLogo), []byte("data:,"))

// scriptETag identifies the embedded bundle for conditional requests.
var scriptETag = func() string {
	h := sha256.New()
	for _, p := range served.parts {
		h.Write(p)
	}
	return `"` + hex.EncodeToString(h.Sum(nil)[:16]) + `"`
}()

// pieces is one byte sequence made of consecutive parts, read in place.
type pieces struct {
	parts [][]byte
	size  int64
}

// splitAround is b with every old replaced by repl, as pieces of b and repl.
func splitAround(b, old, repl []byte) pieces {
	var p pieces
	for {
		i := bytes.Index(b, old)
		if i < 0 {
			break
		}
		p.parts = append(p.parts, b[:i], repl)
		b = b[i+len(old):]
	}
	p.parts = append(p.parts, b)
	for _, part := range p.parts {
		p.size += int64(len(part))
	}
	return p
}

// ReadAt implements io.ReaderAt over the parts as one sequence.
func (p pieces) ReadAt(b []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("apidocs: negative offset")
	}
	n := 0
	for _, part := range p.parts {
		if len(b) == 0 {
			break
		}
		if off >= int64(len(part)) {
			off -= int64(len(part))
			continue
		}
		c := copy(b, part[off:])
		n += c
		b = b[c:]
		off = 0
	}
	if len(b) > 0 {
		return n, io.EOF
	}
	return n, nil
}

// reader reads the whole sequence from its start.
func (p pieces) reader() *io.SectionReader { return io.NewSectionReader(p, 0, p.size) }

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
		http.ServeContent(w, r, ScriptName, time.Time{}, served.reader())
	})
}

// cacheControl asks caches to revalidate, unless the API's middleware
// already set its own policy (the data API's no-store on every response).
func cacheControl(h http.Header) {
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-cache")
	}
}

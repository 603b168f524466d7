package apidocs

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"unsafe"
)

// TestBundleMatchesNote: the embedded file is the one redoc/README.md
// names (version, source, checksum), with its licences beside it.
func TestBundleMatchesNote(t *testing.T) {
	note, err := os.ReadFile("redoc/README.md")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(bundle)
	if !bytes.Contains(note, []byte(hex.EncodeToString(sum[:]))) {
		t.Errorf("redoc/README.md does not name the embedded bundle's SHA-256 %x", sum)
	}
	for _, f := range []string{"redoc/LICENSE", "redoc/redoc.standalone.js.LICENSE.txt"} {
		if b, err := os.ReadFile(f); err != nil || !bytes.Contains(b, []byte("MIT")) && !bytes.Contains(b, []byte("Permission is hereby granted")) {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// servedScript is what Script serves, read through served.
func servedScript(t *testing.T) []byte {
	t.Helper()
	b, err := io.ReadAll(served.reader())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestScriptLoadsNothingElsewhere: the served bundle names no other
// origin to load from (the CDN logo is replaced exactly where it was).
func TestScriptLoadsNothingElsewhere(t *testing.T) {
	script := servedScript(t)
	if bytes.Contains(script, []byte("cdn.redoc.ly")) || !bytes.Contains(bundle, []byte(cdnLogo)) {
		t.Error("the CDN logo is still served, or the bundle no longer has it (update cdnLogo)")
	}
	if !bytes.Equal(script, bytes.ReplaceAll(bundle, []byte(cdnLogo), []byte("data:,"))) {
		t.Error("the served bundle differs by more than the logo")
	}
}

// sameArray reports whether p lies inside b's backing array.
func sameArray(p, b []byte) bool {
	start, end := &b[0], &b[:cap(b)][cap(b)-1]
	q := &p[0]
	return uintptr(unsafe.Pointer(q)) >= uintptr(unsafe.Pointer(start)) && uintptr(unsafe.Pointer(q)) <= uintptr(unsafe.Pointer(end))
}

// TestScriptRanges: byte ranges of the bundle, across the pieces it is
// served from, are those of the replaced bundle.
func TestScriptRanges(t *testing.T) {
	want := bytes.ReplaceAll(bundle, []byte(cdnLogo), []byte("data:,"))
	at := bytes.Index(want, []byte("data:,"))
	if at < 0 {
		t.Fatal("no replacement in the bundle")
	}
	n := int64(len(want))
	for _, r := range [][2]int64{{0, 0}, {0, 99}, {int64(at) - 3, int64(at) + 8}, {int64(at), int64(at) + 5}, {n - 10, n - 1}} {
		req := httptest.NewRequest(http.MethodGet, "/api/docs/"+ScriptName, nil)
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", r[0], r[1]))
		rec := httptest.NewRecorder()
		Script().ServeHTTP(rec, req)
		if rec.Code != http.StatusPartialContent || !bytes.Equal(rec.Body.Bytes(), want[r[0]:r[1]+1]) {
			t.Errorf("bytes %d-%d: %d %q, want %q", r[0], r[1], rec.Code, rec.Body.Bytes(), want[r[0]:r[1]+1])
		}
	}
	// The pieces are the embedded bundle's own bytes, not a copy.
	copied := 0
	for _, p := range served.parts {
		if len(p) > 0 && string(p) != "data:," && !sameArray(p, bundle) {
			copied += len(p)
		}
	}
	if copied > 0 {
		t.Errorf("%d bytes of the bundle copied", copied)
	}
	if k, err := served.ReadAt(make([]byte, 4), n-2); k != 2 || err != io.EOF {
		t.Errorf("read past the end: %d, %v", k, err)
	}
}

func TestPage(t *testing.T) {
	rec := httptest.NewRecorder()
	Page("T & co", "openapi.json", "docs").ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/docs", nil))
	if rec.Code != 200 || rec.Header().Get("Content-Security-Policy") != CSP || rec.Header().Get("Cache-Control") != "no-cache" {
		t.Fatalf("%d %v", rec.Code, rec.Header())
	}
	body := rec.Body.String()
	if !strings.Contains(body, "<title>T &amp; co</title>") || strings.Contains(body, "<script>") {
		t.Errorf("page %s", body)
	}
	for _, m := range regexp.MustCompile(`(?:src|href|spec-url)="([^"]*)"`).FindAllStringSubmatch(body, -1) {
		if m[1] != "data:," && (strings.Contains(m[1], ":") || strings.HasPrefix(m[1], "/")) { // data:, — no favicon to fetch
			t.Errorf("the page names %q: only relative URLs on this server", m[1])
		}
	}

	// The bundle answers 304 to its ETag.
	rec = httptest.NewRecorder()
	Script().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/docs/"+ScriptName, nil))
	if rec.Code != 200 || !bytes.Equal(rec.Body.Bytes(), servedScript(t)) || rec.Header().Get("ETag") == "" {
		t.Fatalf("script %d %v", rec.Code, rec.Header())
	}
	req := httptest.NewRequest(http.MethodGet, "/api/docs/"+ScriptName, nil)
	req.Header.Set("If-None-Match", rec.Header().Get("ETag"))
	rec = httptest.NewRecorder()
	Script().ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified {
		t.Errorf("revalidation: %d", rec.Code)
	}
}

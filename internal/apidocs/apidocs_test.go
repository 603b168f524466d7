package apidocs

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
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

// TestScriptLoadsNothingElsewhere: the served bundle names no other
// origin to load from (the CDN logo is replaced exactly where it was).
func TestScriptLoadsNothingElsewhere(t *testing.T) {
	if bytes.Contains(script, []byte("cdn.redoc.ly")) || !bytes.Contains(bundle, []byte(cdnLogo)) {
		t.Error("the CDN logo is still served, or the bundle no longer has it (update cdnLogo)")
	}
	if n := bytes.Count(bundle, []byte(cdnLogo)); len(script) != len(bundle)-n*(len(cdnLogo)-len("data:,")) {
		t.Error("the served bundle differs by more than the logo")
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
	if rec.Code != 200 || !bytes.Equal(rec.Body.Bytes(), script) || rec.Header().Get("ETag") == "" {
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

package consent

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTemplatesDir: a page or the stylesheet under ui.templates_dir/consent
// wins over the embedded one; the pages not there stay embedded; a broken
// template stops New with the template's name (issue 14).
func TestTemplatesDir(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		p := filepath.Join(dir, "consent", name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("templates/login.html", `{{define "content"}}<h1>Welcome to the bank's own sign-in</h1>{{end}}`)
	write("static/consent.css", `body { color: #000; }`)
	en := newEnv(t, func(c *Config) { c.TemplatesDir = dir })
	b := en.browser()
	p := b.get(pathLogin)
	p.status(t, http.StatusOK)
	p.mustContain(t, "Welcome to the bank's own sign-in", `<link rel="stylesheet" href="/assets/consent.css">`)
	p = b.get(pathConsent + "?login_challenge=unknown")
	p.status(t, http.StatusNotFound)
	p.mustContain(t, "This request has expired") // the embedded error page
	if css := b.get(pathCSS); strings.TrimSpace(css.Body) != "body { color: #000; }" {
		t.Errorf("stylesheet %q", css.Body)
	}

	write("templates/first.html", `{{define "content"}}{{.Nope`)
	if _, err := New(Config{Store: en.st, Issuer: en.ts.URL, TemplatesDir: dir}); err == nil || !strings.Contains(err.Error(), "template first") {
		t.Fatalf("a broken template started: %v", err)
	}
	if _, err := New(Config{Store: en.st, Issuer: en.ts.URL, TemplatesDir: filepath.Join(dir, "missing")}); err == nil {
		t.Fatal("a missing templates directory started")
	}
}

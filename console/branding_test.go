package console_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/admin"
	"github.com/bankfeed/bankfeed/console"
	"github.com/bankfeed/bankfeed/internal/branding"
	"github.com/bankfeed/bankfeed/store"
)

// rebrand serves ev's console again with cfg's branding and templates
// directory.
func (ev *env) rebrand(cfg console.Config) error {
	ev.t.Helper()
	adm, err := admin.New(admin.Config{Store: ev.st, Verifier: noTokens{}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		ev.t.Fatal(err)
	}
	cfg.Store, cfg.Admin, cfg.Issuer = ev.st, adm, "http://bank.test"
	h, err := console.New(cfg)
	if err != nil {
		return err
	}
	e := echo.New()
	h.Mount(e)
	ev.ts = httptest.NewServer(e)
	ev.t.Cleanup(ev.ts.Close)
	return nil
}

// TestConsoleBranding: the console shows the bank's name, logo and support
// contact on its pages and error pages, in both languages, and its
// stylesheet takes the brand's colour (issue 14).
func TestConsoleBranding(t *testing.T) {
	ev := newEnv(t)
	b, err := branding.New("Banque Laurentienne du Nord", "https://cdn.laurentienne.example/logo.png", "#0a5c36",
		"mailto:aide@laurentienne.example", "1-800-555-0199")
	if err != nil {
		t.Fatal(err)
	}
	if err := ev.rebrand(console.Config{Branding: b}); err != nil {
		t.Fatal(err)
	}
	br := ev.signIn(ev.bg1, "ada", store.AdminGrants())
	for _, lang := range []string{"en", "fr"} {
		br.lang = lang
		for path, status := range map[string]int{"/business/": 200, "/business/users": 200, "/business/job-roles/jr_nope": 404} {
			p := br.get(path)
			if p.Status != status {
				t.Fatalf("%s %s: %d, want %d", lang, path, p.Status, status)
			}
			for _, want := range []string{"<title>", "Banque Laurentienne du Nord</title>", `<span class="name">Banque Laurentienne du Nord</span>`,
				`<img class="logo" src="https://cdn.laurentienne.example/logo.png"`, `href="mailto:aide@laurentienne.example"`, `href="tel:18005550199"`} {
				if !p.has(want) {
					t.Errorf("%s %s lacks %q:\n%s", lang, path, want, p.Body)
				}
			}
		}
	}
	res, err := http.Get(ev.ts.URL + "/business/assets/console.css")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "img-src 'self' https://cdn.laurentienne.example;") {
		t.Errorf("CSP %s", csp)
	}
	if css := br.get("/business/assets/console.css"); !css.has("--accent: #0a5c36;") {
		t.Errorf("stylesheet without the brand's colour")
	}
}

// TestTemplatesDir: a template or stylesheet under ui.templates_dir/console
// wins over the embedded one, the others fall back to the embedded ones,
// and a broken template stops the start with its name (issue 14).
func TestTemplatesDir(t *testing.T) {
	ev := newEnv(t)
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		p := filepath.Join(dir, "console", name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("templates/home.html", `{{define "content"}}<h1>Welcome to the bank's own console</h1>{{end}}`)
	write("static/console.css", `body { color: #000; }`)
	if err := ev.rebrand(console.Config{TemplatesDir: dir}); err != nil {
		t.Fatal(err)
	}
	br := ev.signIn(ev.bg1, "ada", store.AdminGrants())
	if p := br.must(200, br.get("/business/")); !p.has("Welcome to the bank's own console") || !p.has("Sign out") {
		t.Errorf("the override lost (or the layout with it):\n%s", p.Body)
	}
	if p := br.must(200, br.get("/business/users")); !p.has("Add user") {
		t.Errorf("the embedded users page did not fall back:\n%s", p.Body)
	}
	if css := br.get("/business/assets/console.css"); strings.TrimSpace(css.Body) != "body { color: #000; }" {
		t.Errorf("stylesheet %q", css.Body)
	}

	write("templates/users.html", `{{define "content"}}{{.Nope`)
	err := ev.rebrand(console.Config{TemplatesDir: dir})
	if err == nil || !strings.Contains(err.Error(), "users") {
		t.Fatalf("a broken template started: %v", err)
	}
	if err := ev.rebrand(console.Config{TemplatesDir: filepath.Join(dir, "missing")}); err == nil {
		t.Fatal("a missing templates directory started")
	}
}

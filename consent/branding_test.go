package consent

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bankfeed/bankfeed/internal/branding"
)

// brandOpts configures the fictional bank's brand with a logo file.
func brandOpts(t *testing.T, logo string) func(*Config) {
	t.Helper()
	b, err := branding.New("Banque Laurentienne du Nord", logo, "#0a5c36", "https://help.laurentienne.example/", "+1 800 555-0199")
	if err != nil {
		t.Fatalf("NewBranding: %v", err)
	}
	return func(c *Config) { c.Branding = b }
}

// TestBrandingOnEveryPage: the bank's name, logo and support contact are on
// the sign-in, first sign-in, consent, connections and error pages, in
// English and French; the logo file is served from our origin and the
// colour reaches the stylesheet (issue 14).
func TestBrandingOnEveryPage(t *testing.T) {
	logo := filepath.Join(t.TempDir(), "logo.svg")
	svg := `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>`
	if err := os.WriteFile(logo, []byte(svg), 0o600); err != nil {
		t.Fatal(err)
	}
	en := newEnv(t, brandOpts(t, logo))
	en.user("alice", userOpts{role: en.roleFull.ID})
	en.user("newbie", userOpts{role: en.roleFull.ID, temp: true})
	brand := []string{"Banque Laurentienne du Nord", `<img class="logo" src="/assets/logo"`,
		`href="https://help.laurentienne.example/"`, `href="tel:+18005550199"`, "+1 800 555-0199"}

	b := en.browser()
	p := b.get(pathLogin)
	p.status(t, http.StatusOK)
	p.mustContain(t, brand...)
	p.mustContain(t, "<title>Sign in – Banque Laurentienne du Nord</title>", "Forgot your password?",
		"Ask an administrator of your business to reset it", "Need help? Contact the bank:")
	p = b.get(pathLogin + "?lang=fr")
	p.mustContain(t, brand...)
	p.mustContain(t, "Mot de passe oublié?", "Demandez à un administrateur de votre entreprise de le réinitialiser", "Centre d'aide")

	p = b.get(pathConsent + "?login_challenge=unknown") // the error page
	p.status(t, http.StatusNotFound)
	p.mustContain(t, brand...)

	f := en.flow()
	p = b.signIn(withChallenge(pathLogin, f.ID), "alice", goodPassword)
	p.status(t, http.StatusOK)
	if p.Request.URL.Path != pathConsent {
		t.Fatalf("landed on %s, want the consent page", p.Request.URL.Path)
	}
	p.mustContain(t, brand...)
	p = b.get(pathConnections)
	p.status(t, http.StatusOK)
	p.mustContain(t, brand...)

	nb := en.browser()
	p = nb.signIn(pathLogin, "newbie", tempPassword)
	if p.Request.URL.Path != pathFirst {
		t.Fatalf("landed on %s, want the first sign-in", p.Request.URL.Path)
	}
	p.mustContain(t, brand...)

	resp, err := http.Get(en.ts.URL + pathLogo)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/svg+xml" || string(body) != svg {
		t.Fatalf("logo: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "img-src 'self';") {
		t.Errorf("a logo file needs no other image source: %s", csp)
	}
	css := b.get(pathCSS)
	css.mustContain(t, "--accent: #0a5c36;")
}

// TestBrandingLogoURL: a logo at an https URL is shown from there and the
// pages' CSP allows that origin for images, and nothing else.
func TestBrandingLogoURL(t *testing.T) {
	en := newEnv(t, brandOpts(t, "https://cdn.laurentienne.example/brand/logo.png"))
	p := en.browser().get(pathLogin)
	p.status(t, http.StatusOK)
	p.mustContain(t, `<img class="logo" src="https://cdn.laurentienne.example/brand/logo.png"`)
	csp := p.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "img-src 'self' https://cdn.laurentienne.example;") || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP %s", csp)
	}
	resp, err := http.Get(en.ts.URL + pathLogo)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("%s with a logo URL: %d, want 404", pathLogo, resp.StatusCode)
	}
}

// TestBrandingRefused: a logo that cannot be used fails at start, clearly.
func TestBrandingRefused(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "logo.exe")
	if err := os.WriteFile(exe, []byte("MZ"), 0o600); err != nil {
		t.Fatal(err)
	}
	for logo, want := range map[string]string{
		filepath.Join(dir, "missing.png"): "no such file",
		exe:                               "not an SVG, PNG",
		"http://cdn.example/logo.png":     "must be https",
	} {
		if _, err := branding.New("Bank", logo, "", "", ""); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", logo, err, want)
		}
	}
}

// TestNoBranding: without branding the pages keep their generic header and
// show no support footer.
func TestNoBranding(t *testing.T) {
	en := newEnv(t)
	p := en.browser().get(pathLogin)
	p.mustContain(t, `<span class="bank">Online banking for business</span>`, "Forgot your password?")
	p.mustNotContain(t, `class="support"`, `<img`)
}

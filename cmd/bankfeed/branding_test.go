package main

import (
	"testing"

	"github.com/bankfeed/bankfeed/config"
)

// TestDemoBranding: serve --demo shows the fictional demo bank's brand,
// logo included; a configured bank name wins over it, and without --demo
// nothing is invented (issue 14).
func TestDemoBranding(t *testing.T) {
	cfg := config.Default()
	cfg.Demo = true
	b, err := bankBranding(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if logo, typ := b.LogoFile(); b.BankName != demoBankName || b.PrimaryColor != demoPrimaryColor || !b.HasSupport() ||
		len(logo) == 0 || typ != "image/svg+xml" || b.LogoURL != "/assets/logo" {
		t.Fatalf("demo brand %+v", b)
	}
	cfg.Branding.BankName = "Caisse Populaire Exemple"
	if b, err = bankBranding(cfg); err != nil || b.BankName != "Caisse Populaire Exemple" || b.LogoURL != "" || b.HasSupport() {
		t.Fatalf("configured brand under --demo: %+v, %v", b, err)
	}
	cfg = config.Default()
	if b, err = bankBranding(cfg); err != nil || b.BankName != "" || b.LogoURL != "" {
		t.Fatalf("no brand: %+v, %v", b, err)
	}
	cfg.Branding.Logo = "/nonexistent/logo.png"
	if _, err = bankBranding(cfg); err == nil {
		t.Fatal("a missing logo file started")
	}
}

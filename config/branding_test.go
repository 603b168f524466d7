package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBrandingSettings: branding.* and ui.templates_dir load from YAML and
// from BANKFEED_BRANDING_* / BANKFEED_UI_TEMPLATES_DIR (the environment
// wins), and each bad value is refused by its name (issue 14).
func TestBrandingSettings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bankfeed.yaml")
	yml := "branding:\n  bank_name: Banque Laurentienne du Nord\n  logo: /etc/bankfeed/logo.svg\n  primary_color: \"#0a5c36\"\n" +
		"  support_url: https://bank.example/help\n  support_phone: +1 800 555 0199\nui:\n  templates_dir: /etc/bankfeed/ui\n"
	if err := os.WriteFile(path, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	want := Branding{BankName: "Banque Laurentienne du Nord", Logo: "/etc/bankfeed/logo.svg", PrimaryColor: "#0a5c36",
		SupportURL: "https://bank.example/help", SupportPhone: "+1 800 555 0199"}
	if cfg.Branding != want || cfg.UI.TemplatesDir != "/etc/bankfeed/ui" || cfg.Branding.IsLogoURL() {
		t.Fatalf("from YAML: %+v %+v", cfg.Branding, cfg.UI)
	}

	env := map[string]string{
		"BANKFEED_BRANDING_BANK_NAME":     "Northwind Bank",
		"BANKFEED_BRANDING_LOGO":          "https://cdn.northwind.example/logo.png",
		"BANKFEED_BRANDING_PRIMARY_COLOR": "#123ABC",
		"BANKFEED_BRANDING_SUPPORT_URL":   "mailto:help@northwind.example",
		"BANKFEED_BRANDING_SUPPORT_PHONE": "1-800-555-0100",
		"BANKFEED_UI_TEMPLATES_DIR":       "/srv/ui",
	}
	cfg, err = Load(path, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	want = Branding{BankName: "Northwind Bank", Logo: "https://cdn.northwind.example/logo.png", PrimaryColor: "#123ABC",
		SupportURL: "mailto:help@northwind.example", SupportPhone: "1-800-555-0100"}
	if cfg.Branding != want || cfg.UI.TemplatesDir != "/srv/ui" || !cfg.Branding.IsLogoURL() {
		t.Fatalf("from the environment: %+v %+v", cfg.Branding, cfg.UI)
	}

	for name, b := range map[string]Branding{
		"BRANDING_BANK_NAME":      {BankName: "Two\nlines"},
		"BRANDING_LOGO":           {Logo: "http://cdn.example/logo.png"},
		"BRANDING_PRIMARY_COLOR":  {PrimaryColor: "red"},
		"BRANDING_PRIMARY_COLOR)": {PrimaryColor: "#ffcc00"}, // white text unreadable on it
		"BRANDING_SUPPORT_URL":    {SupportURL: "javascript:alert(1)"},
		"BRANDING_SUPPORT_PHONE":  {SupportPhone: "call us"},
	} {
		bad := Default()
		bad.Branding = b
		err := bad.Validate()
		if err == nil || !strings.Contains(err.Error(), EnvPrefix+strings.TrimSuffix(name, ")")) {
			t.Errorf("%+v: %v", b, err)
		}
	}
	for _, c := range []string{"#0a5c36", "#0B4F8A", ""} {
		ok := Default()
		ok.Branding.PrimaryColor = c
		if err := ok.Validate(); err != nil {
			t.Errorf("%q refused: %v", c, err)
		}
	}
}

package config

import (
	"fmt"
	"math"
	"net/url"
	"regexp"
	"strings"
)

// Branding is the bank's name, logo, colour and support contact, shown on
// every page of the bank's (sign-in, consent, connections, errors, console):
// a sign-in page that names no bank is a phishing-trust problem. Empty
// fields show the pages' generic texts.
type Branding struct {
	BankName string `yaml:"bank_name" env:"BRANDING_BANK_NAME"`
	// Logo is a file (read at start, served from our origin) or an https
	// URL (allowed in the pages' CSP img-src).
	Logo string `yaml:"logo" env:"BRANDING_LOGO"`
	// PrimaryColor is #rrggbb.
	PrimaryColor string `yaml:"primary_color" env:"BRANDING_PRIMARY_COLOR"`
	SupportURL   string `yaml:"support_url" env:"BRANDING_SUPPORT_URL"`
	SupportPhone string `yaml:"support_phone" env:"BRANDING_SUPPORT_PHONE"`
}

// UI configures the bank's pages.
type UI struct {
	// TemplatesDir overrides the embedded templates and static files: a file
	// there (consent/templates/login.html, console/static/console.css, …)
	// wins over the embedded one of the same path.
	TemplatesDir string `yaml:"templates_dir" env:"UI_TEMPLATES_DIR"`
}

var (
	colorRE = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)
	phoneRE = regexp.MustCompile(`^\+?[0-9][0-9 ().-]{2,30}$`)
)

// IsLogoURL reports whether Logo names a URL rather than a file.
func (b Branding) IsLogoURL() bool { return strings.Contains(b.Logo, "://") }

// validate appends one problem per bad branding setting.
func (b Branding) validate() []error {
	var errs []error
	check := func(bad bool, format string, args ...any) {
		if bad {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(len(b.BankName) > 100 || strings.ContainsAny(b.BankName, "\r\n"), "%sBRANDING_BANK_NAME: at most 100 characters on one line", EnvPrefix)
	if b.IsLogoURL() {
		u, err := url.Parse(b.Logo)
		check(err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil,
			"%sBRANDING_LOGO: a URL must be https://host/… (or give a file path)", EnvPrefix)
	}
	if b.PrimaryColor != "" {
		// The pages set white text on it: WCAG AA wants 4.5:1.
		if !colorRE.MatchString(b.PrimaryColor) {
			check(true, "%sBRANDING_PRIMARY_COLOR: %q is not a #rrggbb colour", EnvPrefix, b.PrimaryColor)
		} else if r := contrastWithWhite(b.PrimaryColor); r < 4.5 {
			check(true, "%sBRANDING_PRIMARY_COLOR: %q is too light for white text (contrast %.1f:1, WCAG AA needs 4.5:1)", EnvPrefix, b.PrimaryColor, r)
		}
	}
	if b.SupportURL != "" {
		u, err := url.Parse(b.SupportURL)
		check(err != nil || (u.Scheme != "https" && u.Scheme != "http" && u.Scheme != "mailto") || (u.Scheme != "mailto" && u.Host == ""),
			"%sBRANDING_SUPPORT_URL: %q is not an http(s) or mailto: URL", EnvPrefix, b.SupportURL)
	}
	check(b.SupportPhone != "" && !phoneRE.MatchString(b.SupportPhone),
		"%sBRANDING_SUPPORT_PHONE: %q is not a telephone number", EnvPrefix, b.SupportPhone)
	return errs
}

// contrastWithWhite is WCAG 2's contrast ratio of #rrggbb against white.
func contrastWithWhite(hex string) float64 {
	var lum float64
	for i, w := range []float64{0.2126, 0.7152, 0.0722} {
		var v int
		_, _ = fmt.Sscanf(hex[1+2*i:3+2*i], "%02x", &v) // checked by colorRE
		c := float64(v) / 255
		if c <= 0.04045 {
			c /= 12.92
		} else {
			c = math.Pow((c+0.055)/1.055, 2.4)
		}
		lum += w * c
	}
	return 1.05 / (lum + 0.05)
}

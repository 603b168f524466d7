// Package branding is the bank's brand on its pages (configuration
// branding.*, ui.templates_dir), shared by the consent pages and the console.
package branding

import (
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/labstack/echo/v4"
)

// Branding is the bank's brand on its pages (configuration branding.*):
// its name, logo, colour and support contact, in the header and footer of
// every page. The zero value shows the generic texts.
type Branding struct {
	BankName     string
	LogoURL      string // an https URL, or LogoPath when the logo is a file
	PrimaryColor string // #rrggbb, validated by config
	SupportURL   string
	SupportPhone string

	logo     []byte // the logo file's contents, served at LogoPath
	logoType string
}

// maxLogoBytes caps the logo file: it is read into memory at start.
// LogoPath is where the pages serve a logo file (consent mounts it).
const LogoPath = "/assets/logo"

const maxLogoBytes = 512 << 10

// logoTypes are the image formats a logo file may have, by extension.
var logoTypes = map[string]string{
	".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
	".webp": "image/webp", ".gif": "image/gif",
}

// New builds the brand; logo is an https URL or a file, read here
// (at start) so that a missing or unsupported file fails at once.
func New(bankName, logo, primaryColor, supportURL, supportPhone string) (Branding, error) {
	b := Branding{BankName: bankName, PrimaryColor: primaryColor, SupportURL: supportURL, SupportPhone: supportPhone}
	switch {
	case logo == "":
	case strings.Contains(logo, "://"):
		u, err := url.Parse(logo)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return b, fmt.Errorf("branding: logo %q: a URL must be https", logo)
		}
		b.LogoURL = logo
	default:
		typ, ok := logoTypes[strings.ToLower(filepath.Ext(logo))]
		if !ok {
			return b, fmt.Errorf("branding: logo %s: not an SVG, PNG, JPEG, WebP or GIF file", logo)
		}
		data, err := os.ReadFile(logo)
		if err != nil {
			return b, fmt.Errorf("branding: logo: %w", err)
		}
		if len(data) == 0 || len(data) > maxLogoBytes {
			return b, fmt.Errorf("branding: logo %s: %d bytes, want 1 to %d", logo, len(data), maxLogoBytes)
		}
		b.logo, b.logoType, b.LogoURL = data, typ, LogoPath
	}
	return b, nil
}

// WithLogo is b with a logo file already in memory (the demo's), served
// from our origin like a configured file.
func (b Branding) WithLogo(data []byte, mediaType string) Branding {
	b.logo, b.logoType, b.LogoURL = data, mediaType, LogoPath
	return b
}

// LogoFile is the logo file's contents and media type (nil: none), for the
// pages of other packages that serve it themselves.
func (b Branding) LogoFile() ([]byte, string) { return b.logo, b.logoType }

// ImgSrc is the CSP img-src the logo needs beyond 'self': its origin when
// it is a URL.
func (b Branding) ImgSrc() string {
	if u, err := url.Parse(b.LogoURL); err == nil && u.Scheme == "https" && u.Host != "" {
		return "https://" + u.Host
	}
	return ""
}

// Stylesheet is css with the brand's colour as the accent: served from our
// origin, so the CSP keeps style-src 'self' (no inline styles).
func (b Branding) Stylesheet(css []byte) []byte {
	if b.PrimaryColor == "" {
		return css
	}
	return append(append([]byte{}, css...), "\n/* branding.primary_color */\n:root { --accent: "+b.PrimaryColor+"; }\n"...)
}

// PhoneHref is the tel: link of the support phone: digits and a leading +
// only, so it is safe as a URL (html/template lets no tel: through).
func (b Branding) PhoneHref() template.URL {
	var s strings.Builder
	for i, r := range b.SupportPhone {
		if r >= '0' && r <= '9' || r == '+' && i == 0 {
			s.WriteRune(r)
		}
	}
	return template.URL("tel:" + s.String()) //nolint:gosec // digits and + only
}

// HasSupport reports whether there is a support contact to show.
func (b Branding) HasSupport() bool { return b.SupportURL != "" || b.SupportPhone != "" }

// UIFiles is the pages' files of package sub ("consent", "console"): a file
// under dir/sub (configuration ui.templates_dir) wins over the embedded one
// of the same path; dir "" is the embedded files alone.
func UIFiles(dir, sub string, embedded fs.FS) (fs.FS, error) {
	if dir == "" {
		return embedded, nil
	}
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: ui templates dir: %w", sub, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s: ui templates dir %s is not a directory", sub, dir)
	}
	return overlay{top: os.DirFS(filepath.Join(dir, sub)), base: embedded}, nil
}

// overlay opens a name in top, else in base.
type overlay struct{ top, base fs.FS }

func (o overlay) Open(name string) (fs.File, error) {
	f, err := o.top.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return o.base.Open(name)
	}
	return f, err
}

// Secure is the bank's pages' security headers (csp computes the policy,
// which names the brand's logo origin) and the cap on a form's body, the
// same for the sign-in and consent pages and the console.
func Secure(csp func() string, maxFormBytes int64) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			hd := c.Response().Header()
			hd.Set("Content-Security-Policy", csp())
			hd.Set("X-Frame-Options", "DENY")
			hd.Set("Referrer-Policy", "no-referrer")
			hd.Set("Cache-Control", "no-store")
			hd.Set("X-Content-Type-Options", "nosniff")
			if c.Request().Method == http.MethodPost {
				c.Request().Body = http.MaxBytesReader(c.Response(), c.Request().Body, maxFormBytes)
			}
			return next(c)
		}
	}
}

// CSP is the bank's pages' policy: this origin only, the logo's origin,
// and forms posting to this origin, the issuer and formAction (a client's
// redirect origins after a sign-in).
func (b Branding) CSP(issuer string, formAction ...string) string {
	fa := append([]string{"'self'", issuer}, formAction...)
	return "default-src 'none'; style-src 'self'; img-src " + strings.TrimSpace("'self' "+b.ImgSrc()) + "; form-action " + strings.Join(fa, " ") +
		"; frame-ancestors 'none'; base-uri 'none'"
}

package consent

import (
	"html/template"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bankfeed/bankfeed/internal/admission"
	"github.com/bankfeed/bankfeed/internal/admission/admissiontest"
)

// TestAdmissionCoversTheConsentPage: the consent page (GET and POST) goes
// through Config.Admission; the sign-in pages, whose password hashes wait
// in their own bounded queue, and the static files do not. With the gate's
// one slot held, a consent page request is turned away (the gate counts
// it) with the "please try again" page in the browser's language, 503,
// Retry-After and the pages' security headers.
func TestAdmissionCoversTheConsentPage(t *testing.T) {
	gate := admissiontest.Full(t)
	en := newEnv(t, func(c *Config) { c.Admission = gate })
	want := map[string]bool{
		"GET " + pathConsent: true, "POST " + pathConsent: true,
		"GET " + pathLogin: false, "POST " + pathLogin: false, "GET " + pathFirst: false, "POST " + pathFirst: false,
		"GET " + pathCSS: false,
	}
	for route, gated := range want {
		method, path, _ := strings.Cut(route, " ")
		before := gate.Refused()
		req := httptest.NewRequest(method, path, nil)
		req.Header.Set("Accept-Language", "fr-CA")
		rec := httptest.NewRecorder()
		en.e.ServeHTTP(rec, req)
		if got := gate.Refused() > before; got != gated {
			t.Errorf("%s through the gate: %v, want %v", route, got, gated)
		}
		if !gated {
			continue
		}
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != admission.RetryAfter ||
			rec.Header().Get("Content-Security-Policy") == "" || !strings.Contains(rec.Body.String(), template.HTMLEscapeString(messagesFR["signin_busy"])) {
			t.Errorf("%s turned away: %d, Retry-After %q, CSP %q, page:\n%s", route, rec.Code, rec.Header().Get("Retry-After"),
				rec.Header().Get("Content-Security-Policy"), rec.Body)
		}
	}
}

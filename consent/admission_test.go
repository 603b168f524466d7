package consent

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

// TestAdmissionCoversTheConsentPage: the consent page (GET and POST) goes
// through Config.Admission; the sign-in pages, whose password hashes wait
// in their own bounded queue, and the static files do not.
func TestAdmissionCoversTheConsentPage(t *testing.T) {
	var admitted []string
	en := newEnv(t, func(c *Config) {
		c.Admission = func(next echo.HandlerFunc) echo.HandlerFunc {
			return func(c echo.Context) error {
				admitted = append(admitted, c.Request().Method+" "+c.Path())
				return next(c)
			}
		}
	})
	want := map[string]bool{
		"GET " + pathConsent: true, "POST " + pathConsent: true,
		"GET " + pathLogin: false, "POST " + pathLogin: false, "GET " + pathFirst: false, "POST " + pathFirst: false,
		"GET " + pathCSS: false,
	}
	for route, gated := range want {
		method, path, _ := strings.Cut(route, " ")
		admitted = nil
		en.e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(method, path, nil))
		if got := len(admitted) > 0; got != gated {
			t.Errorf("%s through the gate: %v, want %v", route, got, gated)
		}
	}
}

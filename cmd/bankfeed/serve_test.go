package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/internal/syncbuf"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/config"
	"github.com/bankfeed/bankfeed/store/gormstore/gormtest"
)

func TestServeEndToEnd(t *testing.T) {
	s := startServe(t, env(), "")

	for _, path := range []string{"/healthz", "/readyz"} {
		t.Run(path, func(t *testing.T) {
			res := get(t, s.URL+path)
			if res.StatusCode != http.StatusOK {
				body, _ := io.ReadAll(res.Body)
				t.Fatalf("GET %s = %d %s", path, res.StatusCode, body)
			}
			var body map[string]string
			if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
				t.Fatalf("decode: %v", err)
			}
			if body["status"] == "" {
				t.Errorf("body %v has no status", body)
			}
			checkSecurityHeaders(t, res, false)
			if got := res.Header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q; want no-store", got)
			}
		})
	}

	t.Run("unknown path keeps the shared headers", func(t *testing.T) {
		res := get(t, s.URL+"/nope")
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("status %d; want 404", res.StatusCode)
		}
		checkSecurityHeaders(t, res, false)
	})

	t.Run("request id", func(t *testing.T) {
		if got := get(t, s.URL+"/healthz", "X-Request-ID", "abc-123").Header.Get("X-Request-ID"); got != "abc-123" {
			t.Errorf("well-formed X-Request-ID not kept: %q", got)
		}
		got := get(t, s.URL+"/healthz", "X-Request-ID", "bad id\twith spaces").Header.Get("X-Request-ID")
		if got == "" || strings.ContainsAny(got, " \t") {
			t.Errorf("malformed X-Request-ID not replaced: %q", got)
		}
	})

	t.Run("access log hides query strings and credentials", func(t *testing.T) {
		get(t, s.URL+"/healthz?code=SECRETCODE42&state=s", "Authorization", "Bearer SECRETTOKEN42",
			"Cookie", "session=SECRETCOOKIE42", "X-Request-ID", "logcheck-1")
		log := s.Stderr.String()
		if !strings.Contains(log, "logcheck-1") || !strings.Contains(log, "path=/healthz") {
			t.Errorf("no access log line for the request:\n%s", log)
		}
		for _, secret := range []string{"SECRETCODE42", "SECRETTOKEN42", "SECRETCOOKIE42"} {
			if strings.Contains(log, secret) {
				t.Errorf("log contains %s:\n%s", secret, log)
			}
		}
	})

	t.Run("secrets generated once, private", func(t *testing.T) {
		for _, name := range []string{config.KeyEncryptionKeyFile, config.TokenSecretFile} {
			fi, err := os.Stat(filepath.Join(s.DataDir, name))
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("%s mode %v; want 0600", name, fi.Mode().Perm())
			}
		}
		if _, err := os.Stat(filepath.Join(s.DataDir, config.DatabaseFile)); err != nil {
			t.Errorf("no SQLite database in the data dir: %v", err)
		}
	})
}

func checkSecurityHeaders(t *testing.T, res *http.Response, hsts bool) {
	t.Helper()
	for k, want := range map[string]string{
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
		"X-Frame-Options":        "DENY",
	} {
		if got := res.Header.Get(k); got != want {
			t.Errorf("%s = %q; want %q", k, got, want)
		}
	}
	if got := res.Header.Get("Strict-Transport-Security"); (got != "") != hsts {
		t.Errorf("Strict-Transport-Security = %q; want present=%v", got, hsts)
	}
	if res.Header.Get("X-Request-ID") == "" {
		t.Error("no X-Request-ID")
	}
}

func TestNewHandler(t *testing.T) {
	tests := []struct {
		name      string
		available bool
		issuer    string
		wantReady int
		wantHSTS  bool
	}{
		{"migrated, http issuer", true, "http://localhost:8080", http.StatusOK, false},
		{"database gone: not ready", false, "http://localhost:8080", http.StatusServiceUnavailable, false},
		{"https issuer: HSTS", true, "https://bank.example", http.StatusOK, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(t)
			cfg.Issuer = tt.issuer
			var logs syncbuf.Buffer
			st := gormtest.OpenStore(t, "cmd_test")
			h, err := newHandler(t.Context(), cfg, deps{Store: st, Logger: slog.New(slog.NewTextHandler(&logs, nil)), Now: time.Now})
			if err != nil {
				t.Fatal(err)
			}
			if !tt.available {
				st.Close() // the database goes away under a running server
			}
			ts := httptest.NewServer(h)
			t.Cleanup(ts.Close)

			res := get(t, ts.URL+"/readyz")
			if res.StatusCode != tt.wantReady {
				t.Errorf("readyz = %d; want %d", res.StatusCode, tt.wantReady)
			}
			body, _ := io.ReadAll(res.Body)
			if strings.Contains(string(body), "migrat") {
				t.Errorf("readyz leaks the cause to the caller: %s", body)
			}
			checkSecurityHeaders(t, res, tt.wantHSTS)
			if res := get(t, ts.URL+"/healthz"); res.StatusCode != http.StatusOK {
				t.Errorf("healthz = %d; want 200 whatever the database", res.StatusCode)
			}
		})
	}
}

func TestBodyLimitAndRecover(t *testing.T) {
	cfg := testConfig(t)
	cfg.HTTP.BodyLimit = "1K"
	var logs syncbuf.Buffer
	h, err := newHandler(t.Context(), cfg, deps{Store: gormtest.OpenStore(t, "cmd_test"), Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	h.POST("/echo", func(c echo.Context) error {
		b, err := io.ReadAll(c.Request().Body)
		if err != nil {
			return err
		}
		return c.String(http.StatusOK, string(b))
	})
	h.GET("/panic", func(echo.Context) error { panic("boom") })
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)

	for _, tt := range []struct {
		size int
		want int
	}{{1024, http.StatusOK}, {1025, http.StatusRequestEntityTooLarge}} {
		res, err := http.Post(ts.URL+"/echo", "text/plain", strings.NewReader(strings.Repeat("x", tt.size)))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != tt.want {
			t.Errorf("POST %d bytes = %d; want %d", tt.size, res.StatusCode, tt.want)
		}
	}

	res := get(t, ts.URL+"/panic")
	if res.StatusCode != http.StatusInternalServerError {
		t.Errorf("panic = %d; want 500", res.StatusCode)
	}
	body, _ := io.ReadAll(res.Body)
	if strings.Contains(string(body), "boom") {
		t.Errorf("panic text reaches the client: %s", body)
	}
	checkSecurityHeaders(t, res, false)
	if l := logs.String(); !strings.Contains(l, "boom") || !strings.Contains(l, "status=500") {
		t.Errorf("panic not logged with its status:\n%s", l)
	}
}

// testConfig is the default configuration with fresh secrets, as serve
// would have after EnsureSecrets.
func testConfig(t *testing.T) config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	if _, err := cfg.EnsureSecrets(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

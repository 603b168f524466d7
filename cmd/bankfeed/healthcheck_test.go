package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestHealthcheck: the probe the container image runs exits 0 against a
// ready server (found through --addr, a wildcard host asked on loopback)
// and 1 when /readyz is not 200 or nobody listens — main's real exit codes.
func TestHealthcheck(t *testing.T) {
	s := startServe(t, env(), "")
	_, port, err := net.SplitHostPort(strings.TrimPrefix(s.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	notReady := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(notReady.Close)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()

	for _, tt := range []struct {
		name     string
		env      []string
		args     []string
		wantCode int
		want     string
	}{
		{"ready, wildcard --addr", nil, []string{"--addr", ":" + port}, 0, "ready: http://127.0.0.1:" + port + "/readyz"},
		{"ready, BANKFEED_ADDR", []string{"BANKFEED_ADDR=127.0.0.1:" + port}, nil, 0, "ready:"},
		{"ready, --url", nil, []string{"--url", s.URL + "/readyz"}, 0, "ready:"},
		{"not ready", nil, []string{"--url", notReady.URL + "/readyz"}, 1, "503 Service Unavailable"},
		{"nobody listens", nil, []string{"--url", closed.URL + "/readyz"}, 1, "connection refused"},
		{"bad address", []string{"BANKFEED_ADDR=nope"}, nil, 1, `listen address "nope"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runMain(t, tt.env, append([]string{"healthcheck"}, tt.args...)...)
			if code != tt.wantCode || !strings.Contains(stdout+stderr, tt.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d and %q", code, stdout, stderr, tt.wantCode, tt.want)
			}
		})
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/store/demo"
)

func TestServeDemo(t *testing.T) {
	t.Parallel() // seeding is slow under -race; overlap it with the rest
	s := startServe(t, env(), "", "--demo")
	if res := get(t, s.URL+"/readyz"); res.StatusCode != http.StatusOK {
		t.Fatalf("readyz = %d with demo data", res.StatusCode)
	}
	out := s.Stdout.String()
	for _, want := range []string{demo.VendorClientID, "client_secret:", "temporary password"} {
		if !strings.Contains(out, want) {
			t.Errorf("credentials lack %q:\n%s", want, out)
		}
	}
	if strings.Contains(s.Stderr.String(), "client_secret") {
		t.Error("credentials reached the log")
	}
	s.Stop()

	// A second start on the same data seeds nothing and prints nothing.
	again := startServe(t, env(), s.DataDir, "--demo")
	if res := get(t, again.URL+"/readyz"); res.StatusCode != http.StatusOK {
		t.Fatalf("readyz = %d after restart", res.StatusCode)
	}
	if out := again.Stdout.String(); out != "" {
		t.Errorf("restart printed credentials again:\n%s", out)
	}
}

func TestDemoSeedJSON(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	// A small --scale keeps this quick; the full demo runs in TestServeDemo.
	args := []string{"demo", "seed", "--json", "--seed", "7", "--scale", "4", "--transactions", "20", "--data-dir", dir}
	if err := run(t.Context(), args, env(), &stdout, &stderr); err != nil {
		t.Fatalf("demo seed: %v\n%s", err, stderr.String())
	}
	var creds demo.Credentials
	if err := json.Unmarshal(stdout.Bytes(), &creds); err != nil {
		t.Fatalf("--json output is not one JSON object: %v\n%s", err, stdout.String())
	}
	if creds.Vendor.ClientID != demo.VendorClientID || creds.Vendor.ClientSecret == "" || len(creds.BusinessGroups) != 2 {
		t.Errorf("unexpected credentials: %+v", creds)
	}

	err := run(t.Context(), []string{"demo", "seed", "--data-dir", dir}, env(), &bytes.Buffer{}, &bytes.Buffer{})
	if !errors.Is(err, store.ErrConflict) {
		t.Errorf("seeding a non-empty database: %v; want ErrConflict", err)
	}
}

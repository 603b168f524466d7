package main

import (
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v3"

	"github.com/bankfeed/bankfeed/config"
)

func jwksKids(t *testing.T, url string) []string {
	t.Helper()
	res := get(t, url+"/.well-known/jwks.json")
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(res.Body).Decode(&set); err != nil {
		t.Fatalf("JWKS: %v", err)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.KeyID)
	}
	slices.Sort(kids)
	return kids
}

// startHandler serves newHandler on the database and secrets of dir, as a
// freshly started replica would.
func startHandler(t *testing.T, dir string) string {
	t.Helper()
	h, err := newHandler(t.Context(), dirConfig(t, dir), deps{Store: dirStore(t, dir), Logger: slog.New(slog.DiscardHandler), Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts.URL
}

func TestKeysRotate(t *testing.T) {
	dir := migratedDir(t)
	before := jwksKids(t, startHandler(t, dir)) // the server made the first key
	if len(before) != 1 {
		t.Fatalf("JWKS before rotation: %v; want one key", before)
	}

	out, stderr, err := cli(t, dir, "keys", "rotate")
	if err != nil {
		t.Fatalf("keys rotate: %v\n%s", err, stderr)
	}
	kid := strings.TrimSpace(out)
	if !regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`).MatchString(kid) || kid == before[0] {
		t.Fatalf("keys rotate printed %q; want a new thumbprint kid", out)
	}

	want := []string{before[0], kid}
	slices.Sort(want)
	if got := jwksKids(t, startHandler(t, dir)); !slices.Equal(got, want) {
		t.Errorf("JWKS after rotation lists %v; want %v (new and retired)", got, want)
	}

	out, _, err = cli(t, dir, "keys", "list")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "KID") ||
		!strings.HasPrefix(lines[1], kid) || !strings.HasSuffix(lines[1], "current") ||
		!strings.HasPrefix(lines[2], before[0]) || strings.HasSuffix(lines[2], "current") || !strings.Contains(lines[2], "ES256") {
		t.Errorf("keys list:\n%s", out)
	}
}

func TestKeysRotateRefusesNewKeyEncryptionKey(t *testing.T) {
	dir := migratedDir(t)
	startHandler(t, dir) // a key sealed with the directory's key-encryption key
	if err := os.Remove(filepath.Join(dir, config.KeyEncryptionKeyFile)); err != nil {
		t.Fatal(err)
	}
	_, _, err := cli(t, dir, "keys", "rotate")
	if err == nil || !strings.Contains(err.Error(), "already has signing keys") {
		t.Errorf("keys rotate without the key-encryption key: %v; want a refusal", err)
	}
	if _, err := os.Stat(filepath.Join(dir, config.KeyEncryptionKeyFile)); err == nil {
		t.Error("a new key-encryption key was generated")
	}
}

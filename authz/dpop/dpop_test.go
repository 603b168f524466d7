package dpop

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func TestNormalizeHTU(t *testing.T) {
	for in, want := range map[string]string{
		"https://Bank.Example/oauth2/token":          "https://bank.example/oauth2/token",
		"HTTPS://bank.example:443/oauth2/token?x=1":  "https://bank.example/oauth2/token",
		"https://bank.example/oauth2/token#frag":     "https://bank.example/oauth2/token",
		"http://127.0.0.1:8080/userinfo":             "http://127.0.0.1:8080/userinfo",
		"http://bank.example:80":                     "http://bank.example/",
		"https://bank.example:8443/fdx/v6/accounts/": "https://bank.example:8443/fdx/v6/accounts/",
	} {
		got, err := NormalizeHTU(in)
		if err != nil || got != want {
			t.Errorf("NormalizeHTU(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "/oauth2/token", "urn:x:y", "ftp://bank.example/x"} {
		if _, err := NormalizeHTU(bad); err == nil {
			t.Errorf("NormalizeHTU(%q) accepted", bad)
		}
	}
}

// TestNonces: a nonce is accepted by another Checker with the same secret
// (another replica) in its slot and the next, refused after, and refused
// under another secret.
func TestNonces(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	now := t0
	clock := func() time.Time { return now }
	secret := bytes.Repeat([]byte("s"), 32)
	a, err := New(Config{Secret: secret, Now: clock, RequireNonce: true})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := New(Config{Secret: secret, Now: clock, RequireNonce: true})
	other, _ := New(Config{Secret: bytes.Repeat([]byte("o"), 32), Now: clock, RequireNonce: true})
	n := a.Nonce()
	if !b.validNonce(n, now) || other.validNonce(n, now) {
		t.Fatal("a nonce must be valid on every replica with the secret, and only there")
	}
	now = now.Add(nonceBucket)
	if !b.validNonce(n, now) {
		t.Fatal("a nonce of the previous slot must be accepted")
	}
	now = now.Add(nonceBucket)
	if b.validNonce(n, now) {
		t.Fatal("a nonce two slots old must be refused")
	}
	forged := []byte(n)
	forged[len(forged)-3] ^= 1 // a MAC byte's character, still base64url
	if b.validNonce("garbage", now) || b.validNonce(string(forged), t0) {
		t.Fatal("malformed or forged nonces must be refused")
	}
}

func TestMemoryReplay(t *testing.T) {
	now := time.Unix(1000, 0)
	m := NewMemory(2, func() time.Time { return now })
	ctx := t.Context()
	if err := m.Use(ctx, "a", now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := m.Use(ctx, "a", now.Add(time.Minute)); !errors.Is(err, ErrReplay) {
		t.Fatalf("replay: %v", err)
	}
	now = now.Add(2 * time.Minute)
	if err := m.Use(ctx, "a", now.Add(time.Minute)); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	_ = m.Use(ctx, "b", now.Add(time.Minute))
	if err := m.Use(ctx, "c", now.Add(time.Minute)); err != nil || len(m.seen) > 2 {
		t.Fatalf("bound: %v, %d entries", err, len(m.seen))
	}
}

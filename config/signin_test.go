package config

import (
	"strings"
	"testing"
	"time"
)

// TestSignInFloodSettings: the sign-in flood settings (issue 11, finding 1)
// load from the environment under their names, and bad values are refused.
func TestSignInFloodSettings(t *testing.T) {
	env := map[string]string{
		"BANKFEED_MEMORY_LIMIT":                   "768MiB",
		"BANKFEED_SIGNIN_MAX_CONCURRENT_HASHES":   "3",
		"BANKFEED_SIGNIN_HASH_QUEUE":              "5",
		"BANKFEED_SIGNIN_HASH_QUEUE_TIMEOUT":      "500ms",
		"BANKFEED_SIGNIN_RATE_LIMIT_PER_ADDRESS":  "40",
		"BANKFEED_SIGNIN_RATE_LIMIT_PER_LOGIN_ID": "0",
	}
	cfg, err := Load("", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.SignIn
	if cfg.MemoryLimit != "768MiB" || s.MaxConcurrentHashes != 3 || s.HashQueue != 5 || s.HashQueueTimeout != 500*time.Millisecond ||
		s.RateLimitPerAddress != 40 || s.RateLimitPerLoginID != 0 {
		t.Fatalf("loaded %q %+v", cfg.MemoryLimit, s)
	}
	if n, err := ParseMemoryLimit(cfg.MemoryLimit); err != nil || n != 768<<20 {
		t.Fatalf("ParseMemoryLimit(768MiB) = %d, %v", n, err)
	}
	if n, err := ParseMemoryLimit(Default().MemoryLimit); err != nil || n != 512<<20 {
		t.Fatalf("default memory limit = %d, %v", n, err)
	}
	if n, err := ParseMemoryLimit("off"); err != nil || n != 0 {
		t.Fatalf("off = %d, %v", n, err)
	}

	bad := Default()
	bad.MemoryLimit = "512M"
	bad.SignIn.MaxConcurrentHashes = -1
	bad.SignIn.HashQueue = -2
	bad.SignIn.HashQueueTimeout = 0
	bad.SignIn.RateLimitPerAddress = -1
	bad.SignIn.RateLimitPerLoginID = -1
	err = bad.Validate()
	if err == nil {
		t.Fatal("bad sign-in settings accepted")
	}
	for _, name := range []string{"MEMORY_LIMIT", "SIGNIN_MAX_CONCURRENT_HASHES", "SIGNIN_HASH_QUEUE)", "SIGNIN_HASH_QUEUE_TIMEOUT",
		"SIGNIN_RATE_LIMIT_PER_ADDRESS", "SIGNIN_RATE_LIMIT_PER_LOGIN_ID"} {
		if !strings.Contains(err.Error(), EnvPrefix+name) {
			t.Errorf("no error names %s: %v", name, err)
		}
	}
	for _, s := range []string{"32MiB", "1e9", "-1GiB", "99999999TiB"} {
		if _, err := ParseMemoryLimit(s); err == nil {
			t.Errorf("ParseMemoryLimit(%q) accepted", s)
		}
	}
}

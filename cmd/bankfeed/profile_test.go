package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestClientsCreateFAPI2: with BANKFEED_OAUTH_PROFILE=fapi2, clients create
// refuses a vendor that could not comply — one line per reason — and
// accepts a private_key_jwt vendor with an https redirect URI; clients
// update refuses a change that would break the profile. The default
// profile accepted the same secret client (TestClientsSecretCreateShowListDelete).
func TestClientsCreateFAPI2(t *testing.T) {
	dir := migratedDir(t)
	fapi := func(args ...string) (string, error) {
		var out, errb bytes.Buffer
		err := run(t.Context(), append(args, "--data-dir", dir), env("BANKFEED_OAUTH_PROFILE=fapi2"), &out, &errb)
		return out.String(), err
	}
	_, err := fapi("clients", "create", "--name", "Ledgerly", "--secret", "--redirect-uri", "http://127.0.0.1:9999/cb")
	if err == nil {
		t.Fatal("fapi2: a secret client with an http redirect URI was created")
	}
	msg := err.Error()
	if !strings.Contains(msg, "FAPI 2.0") || !strings.Contains(msg, "\n  - it must authenticate with private_key_jwt") ||
		!strings.Contains(msg, "\n  - redirect URI http://127.0.0.1:9999/cb must use https") {
		t.Fatalf("refusal does not give each reason on its line:\n%s", msg)
	}
	if got := listClients(t, dir); len(got) != 0 {
		t.Fatalf("a refused client was stored: %v", got)
	}
	jwks, _ := writeJWKS(t, false)
	out, err := fapi("clients", "create", "--name", "Booksy", "--jwks-file", jwks, "--redirect-uri", "https://booksy.example/cb")
	if err != nil {
		t.Fatalf("fapi2: a compliant client was refused: %v", err)
	}
	c, _ := decodeClient(t, out)
	if _, err := fapi("clients", "update", c.ClientID, "--redirect-uri", "http://127.0.0.1:9999/cb"); err == nil || !strings.Contains(err.Error(), "must use https") {
		t.Fatalf("update to an http redirect URI: %v", err)
	}
	// A first-party client is outside the profile.
	if _, err := fapi("clients", "create", "--name", "Console", "--first-party", "--secret", "--redirect-uri", "http://127.0.0.1:9999/cb"); err != nil {
		t.Fatalf("first-party client refused: %v", err)
	}
}

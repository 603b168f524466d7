package main

import (
	"testing"
)

// TestClientsDPoP: clients create --dpop registers a client whose tokens
// must be DPoP-bound (RFC 9449 dpop_bound_access_tokens), shown as
// dpopBoundAccessTokens; clients update --dpop=false lifts it and records
// the field changed.
func TestClientsDPoP(t *testing.T) {
	dir := migratedDir(t)
	c := createClient(t, dir, "--name", "Ledgerly", "--redirect-uri", "https://app.ledgerly.example/cb", "--secret", "--dpop")
	st := dirStore(t, dir)
	stored, err := st.GetClient(t.Context(), c.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	if !c.DPoPBoundAccessTokens || !stored.DPoPBoundAccessTokens {
		t.Fatalf("created with --dpop: printed %v, stored %v", c.DPoPBoundAccessTokens, stored.DPoPBoundAccessTokens)
	}
	out, stderr, err := cli(t, dir, "clients", "update", c.ClientID, "--dpop=false")
	if err != nil {
		t.Fatalf("clients update: %v\n%s", err, stderr)
	}
	if u, _ := decodeClient(t, out); u.DPoPBoundAccessTokens {
		t.Fatal("--dpop=false left the client DPoP-bound")
	}
	if stored, err = st.GetClient(t.Context(), c.ClientID); err != nil || stored.DPoPBoundAccessTokens {
		t.Fatalf("stored after --dpop=false: %v %v", stored.DPoPBoundAccessTokens, err)
	}
}

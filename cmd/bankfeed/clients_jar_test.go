package main

import (
	"testing"
)

// TestClientsRequireSignedRequestObject: clients create
// --require-signed-request-object registers a client whose pushed requests
// must be signed request objects (RFC 9101 §10.5), shown as
// requireSignedRequestObject; a client with a secret, which cannot sign, is
// refused.
func TestClientsRequireSignedRequestObject(t *testing.T) {
	dir := migratedDir(t)
	c := createClient(t, dir, "--name", "Ledgerly", "--redirect-uri", "https://app.ledgerly.example/cb",
		"--jwks-uri", "https://app.ledgerly.example/jwks.json", "--require-signed-request-object")
	stored, err := dirStore(t, dir).GetClient(t.Context(), c.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	if !c.RequireSignedRequestObject || !stored.RequireSignedRequestObject {
		t.Fatalf("printed %v, stored %v; want both true", c.RequireSignedRequestObject, stored.RequireSignedRequestObject)
	}
	if _, _, err := cli(t, dir, "clients", "create", "--name", "Booksy", "--redirect-uri", "https://booksy.example/cb",
		"--secret", "--require-signed-request-object"); err == nil {
		t.Fatal("a client with a secret requiring signed request objects was created")
	}
}

// TestClientsUpdateRequireSignedRequestObject: clients update
// --require-signed-request-object turns the rule on for a client with keys
// and --require-signed-request-object=false off again, both printed and
// stored; a client with a secret, which cannot sign, is refused and left
// as it was.
func TestClientsUpdateRequireSignedRequestObject(t *testing.T) {
	dir := migratedDir(t)
	c := createClient(t, dir, "--name", "Ledgerly", "--redirect-uri", "https://app.ledgerly.example/cb",
		"--jwks-uri", "https://app.ledgerly.example/jwks.json")
	for _, want := range []bool{true, false} {
		flag := "--require-signed-request-object"
		if !want {
			flag += "=false"
		}
		out, stderr, err := cli(t, dir, "clients", "update", c.ClientID, flag)
		if err != nil {
			t.Fatalf("clients update %s: %v\n%s", flag, err, stderr)
		}
		printed, _ := decodeClient(t, out)
		stored, err := dirStore(t, dir).GetClient(t.Context(), c.ClientID)
		if err != nil {
			t.Fatal(err)
		}
		if printed.RequireSignedRequestObject != want || stored.RequireSignedRequestObject != want {
			t.Fatalf("%s: printed %v, stored %v; want %v", flag, printed.RequireSignedRequestObject, stored.RequireSignedRequestObject, want)
		}
	}
	sc := createClient(t, dir, "--name", "Booksy", "--redirect-uri", "https://booksy.example/cb", "--secret")
	if _, _, err := cli(t, dir, "clients", "update", sc.ClientID, "--require-signed-request-object"); err == nil {
		t.Fatal("a client with a secret was made to require signed request objects")
	}
	if stored, err := dirStore(t, dir).GetClient(t.Context(), sc.ClientID); err != nil || stored.RequireSignedRequestObject {
		t.Fatalf("the refused update: stored %v, %v", stored.RequireSignedRequestObject, err)
	}
}

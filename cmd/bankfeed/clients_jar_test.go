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

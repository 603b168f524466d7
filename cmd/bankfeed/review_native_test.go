package main

import "testing"

// TestClientsCreateNative: clients create --native registers a native app
// (loopback redirect URIs on any port, RFC 8252 §7.3) and shows it; without
// the flag a client is not one.
func TestClientsCreateNative(t *testing.T) {
	dir := migratedDir(t)
	native := createClient(t, dir, "--name", "Desktop books", "--secret", "--redirect-uri", "http://127.0.0.1:9999/callback", "--native")
	web := createClient(t, dir, "--name", "Web books", "--secret", "--redirect-uri", "http://127.0.0.1:9999/callback")
	if !native.NativeApp || web.NativeApp {
		t.Fatalf("nativeApp: --native %t, without %t", native.NativeApp, web.NativeApp)
	}
}

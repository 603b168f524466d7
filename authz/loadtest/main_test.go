package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCPUProfileIsWritten: -cpuprofile writes the load program's own
// profile (gzipped, as pprof reads it) even when the run then fails, and
// a file that cannot be created is an error before anything is driven.
func TestCPUProfileIsWritten(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lt.prof")
	err := run(t.Context(), []string{"-cpuprofile", path, "-run", "no-such-scenario"}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "no-such-scenario") {
		t.Fatalf("run = %v, want the unknown scenario refused", err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
		t.Errorf("the profile is not gzipped pprof data: % x", b[:min(len(b), 8)])
	}

	missing := filepath.Join(t.TempDir(), "no", "such", "dir", "lt.prof")
	err = run(t.Context(), []string{"-cpuprofile", missing, "-run", "discovery"}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "cpu profile") {
		t.Errorf("an uncreatable profile: %v, want a cpu profile error", err)
	}
}

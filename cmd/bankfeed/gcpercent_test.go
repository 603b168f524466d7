package main

import (
	"runtime/debug"
	"testing"
)

// TestServeGCPercent: serve collects at GOGC=200 unless the environment
// names one (issue 15: chosen from measured peaks and CPU per page), and
// keeps the environment's value when it does.
func TestServeGCPercent(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	t.Setenv("GOGC", "")
	serverGC()
	if got := debug.SetGCPercent(100); got != 200 {
		t.Fatalf("GOGC %d under serve, want 200", got)
	}
	t.Setenv("GOGC", "150")
	debug.SetGCPercent(150) // what the runtime read from the environment at start
	serverGC()
	if got := debug.SetGCPercent(100); got != 150 {
		t.Fatalf("GOGC %d with GOGC=150 in the environment", got)
	}
}

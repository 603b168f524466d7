package store

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
)

// TestHashLeavesNoHeapGoal: argon2id's 64 MiB are live while a hash runs,
// so a collection then sets the next heap goal GOGC times above them; under
// serve's GOGC=400 one sign-in let the process grow to ~450 MB under load
// (issue 15). The last hash to finish collects, so the goal falls back to
// what is live without it.
func TestHashLeavesNoHeapGoal(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	runtime.GC()
	if _, err := HashSecret("correct horse Battery 9"); err != nil {
		t.Fatal(err)
	}
	s := []metrics.Sample{{Name: "/gc/heap/goal:bytes"}}
	metrics.Read(s)
	goal := s[0].Value.Uint64()
	t.Logf("heap goal after a hash: %d MiB", goal>>20)
	if goal >= argonMemory<<10 {
		t.Fatalf("heap goal %d MiB after a hash: at least the hash's own %d MiB", goal>>20, argonMemory>>10)
	}
}

// TestHashReturnsItsMemory: a hash that runs alone gives back to the
// operating system the heap memory free before it and its own 64 MiB
// after it (issue 15, peak resident memory): the process's resident size
// was the load's heap plus the hash's 64 MiB on top, and stayed there
// until the scavenger came round.
func TestHashReturnsItsMemory(t *testing.T) {
	garbage := make([][]byte, 48)
	for i := range garbage {
		garbage[i] = make([]byte, 1<<20)
		garbage[i][0] = 1
	}
	garbage = nil
	runtime.GC() // 48 MiB free but still resident
	if _, err := HashSecret("correct horse Battery 9"); err != nil {
		t.Fatal(err)
	}
	s := []metrics.Sample{{Name: "/memory/classes/heap/free:bytes"}}
	metrics.Read(s)
	free := s[0].Value.Uint64()
	t.Logf("free heap memory still resident after a hash: %d KiB", free>>10)
	if free >= 8<<20 {
		t.Fatalf("%d MiB of free heap memory still resident after a hash", free>>20)
	}
}

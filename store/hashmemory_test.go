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

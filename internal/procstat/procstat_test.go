package procstat

import (
	"crypto/sha256"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// burn spends about d of this process's CPU.
func burn(d time.Duration) {
	start, _ := CPU(os.Getpid())
	b := make([]byte, 1<<16)
	for {
		for range 64 {
			s := sha256.Sum256(b)
			b[0] = s[0]
		}
		if now, _ := CPU(os.Getpid()); now-start >= d {
			return
		}
	}
}

// TestSampleSplitsTheMachine: CPU this process spends shows in Self, in
// Machine (at least as much: the machine includes it) and, counted by
// command name, in CommandCPU of this test binary's name; Server follows
// the pid given.
func TestSampleSplitsTheMachine(t *testing.T) {
	comm, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Skipf("no /proc: %v", err) // not Linux
	}
	name := strings.TrimSpace(string(comm))
	// read takes a Sample of this process and its command's CPU.
	read := func() (Sample, time.Duration) {
		t.Helper()
		sample, err := Take(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		byName, err := CommandCPU(name)
		if err != nil {
			t.Fatal(err)
		}
		return sample, byName
	}
	before, byName0 := read()
	burn(300 * time.Millisecond)
	after, byName1 := read()
	d := after.Sub(before)
	if d.Self < 300*time.Millisecond {
		t.Errorf("Self grew by %v after burning 300ms", d.Self)
	}
	// Read a moment apart, from a process that goes on running.
	if diff := d.Server - d.Self; diff < -5*clockTick || diff > 5*clockTick {
		t.Errorf("Server (this pid) grew by %v, Self by %v", d.Server, d.Self)
	}
	// The kernel accounts the machine and a process by different samples:
	// within a few ticks, not to the tick.
	if d.Machine < d.Self*8/10 {
		t.Errorf("Machine grew by %v, less than this process's %v", d.Machine, d.Self)
	}
	if byName1-byName0 < 300*time.Millisecond {
		t.Errorf("CommandCPU(%q) grew by %v", name, byName1-byName0)
	}
	if p := d.PerOp(2); p.ClientCPU < 0.15 || p.MachineCPU < p.ClientCPU*0.8 {
		t.Errorf("per op of two: %+v", p)
	}
	if p := d.PerOp(0); p != (PerOp{}) {
		t.Errorf("per op of none: %+v", p)
	}
	// A child that burns CPU and exits stays in its parent's total.
	child := exec.Command("sh", "-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done")
	shell0, err := CommandCPU(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Run(); err != nil {
		t.Skipf("no sh: %v", err)
	}
	spent := child.ProcessState.UserTime() + child.ProcessState.SystemTime()
	shell1, err := CommandCPU(name)
	if err != nil {
		t.Fatal(err)
	}
	if grew := shell1 - shell0; grew < spent-3*clockTick {
		t.Errorf("CommandCPU(%q) grew by %v while its child spent %v and exited", name, grew, spent)
	}
	if n, err := CommandCPU("no-such-command-bankfeed"); err != nil || n != 0 {
		t.Errorf("CommandCPU of nothing: %v, %v", n, err)
	}
}

// Package procstat reads what the load programs report about a server
// process on Linux: its CPU time, its peak resident memory and the
// machine's load average, from /proc.
package procstat

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTick is USER_HZ, the unit of /proc/PID/stat's times: 100 on every
// Linux architecture Go supports.
const clockTick = 10 * time.Millisecond

// CPU is the process's user + system CPU time (/proc/PID/stat fields 14
// and 15).
func CPU(pid int) (time.Duration, error) { return stat(pid, 2) }

// stat sums the first n of /proc/PID/stat's CPU times: utime and stime
// (2), then the reaped children's cutime and cstime (4).
func stat(pid, n int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces: count after its ')'.
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 15 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	var ticks int64
	for _, s := range f[11 : 11+n] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * clockTick, nil
}

// PeakRSS is the process's peak resident set size in bytes (VmHWM), since
// it started or since ResetPeak.
func PeakRSS(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("/proc/%d/status: VmHWM: %w", pid, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("/proc/%d/status: no VmHWM", pid)
}

// ResetPeak starts PeakRSS again from the current resident size (writing 5
// to /proc/PID/clear_refs; the caller must own the process).
func ResetPeak(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

// LoadAvg is the 1-minute load average (0 if unreadable).
func LoadAvg() float64 {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

// Sample is what a load program reads at both ends of its measured window
// to split the machine's CPU between the server, the database and itself:
// on the shared box every one of them is paid from the same cores.
type Sample struct {
	Server   time.Duration // the server's process (zero without a pid)
	Database time.Duration // every process named "postgres": a local PostgreSQL
	Self     time.Duration // the load program's own
	Machine  time.Duration // all CPUs' busy time (/proc/stat: neither idle nor iowait)
}

// Take reads a Sample; serverPID 0 leaves Server zero. A part that cannot
// be read is an error: a split with a hole in it would mislead.
func Take(serverPID int) (Sample, error) {
	var s Sample
	var err error
	if serverPID > 0 {
		if s.Server, err = CPU(serverPID); err != nil {
			return s, err
		}
	}
	if s.Database, err = CommandCPU("postgres"); err != nil {
		return s, err
	}
	if s.Self, err = CPU(os.Getpid()); err != nil {
		return s, err
	}
	if s.Machine, err = MachineBusy(); err != nil {
		return s, err
	}
	return s, nil
}

// Sub is the CPU spent between an earlier sample and s.
func (s Sample) Sub(earlier Sample) Sample {
	return Sample{Server: s.Server - earlier.Server, Database: s.Database - earlier.Database,
		Self: s.Self - earlier.Self, Machine: s.Machine - earlier.Machine}
}

// CommandCPU is the CPU time of every live process whose command name
// (/proc/PID/comm) is name, with that of the children each has reaped: a
// PostgreSQL backend that exits between two readings (pgbench's, a
// connection the pool closed) moves into its postmaster's total instead of
// vanishing from the sum.
func CommandCPU(name string) (time.Duration, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	var total time.Duration
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if err != nil || strings.TrimSpace(string(comm)) != name {
			continue // gone, or another program
		}
		if d, err := stat(pid, 4); err == nil {
			total += d
		}
	}
	return total, nil
}

// MachineBusy is the CPU time all the machine's CPUs spent on anything but
// idling or waiting for I/O since boot (/proc/stat's "cpu" line: user,
// nice, system, irq, softirq, steal).
func MachineBusy() (time.Duration, error) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, fmt.Errorf("/proc/stat: unexpected first line %q", line)
	}
	var ticks int64
	for _, i := range []int{1, 2, 3, 6, 7, 8} { // user nice system irq softirq steal
		n, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/stat: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * clockTick, nil
}

// PerOp is a Sample's split in CPU milliseconds per operation, as the load
// programs print it with -json (zero parts left out).
type PerOp struct {
	ServerCPU   float64 `json:"server_cpu_ms_per_op,omitempty"`
	DatabaseCPU float64 `json:"database_cpu_ms_per_op,omitempty"`
	ClientCPU   float64 `json:"client_cpu_ms_per_op,omitempty"`
	MachineCPU  float64 `json:"machine_cpu_ms_per_op,omitempty"`
}

// PerOp divides the sample among n operations (zero for none).
func (s Sample) PerOp(n int) PerOp {
	if n <= 0 {
		return PerOp{}
	}
	ms := func(d time.Duration) float64 { return math.Round(float64(d.Microseconds())/float64(n)) / 1000 }
	return PerOp{ServerCPU: ms(s.Server), DatabaseCPU: ms(s.Database), ClientCPU: ms(s.Self), MachineCPU: ms(s.Machine)}
}

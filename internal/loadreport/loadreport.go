// Package loadreport is the one line per run that the load programs
// (authz/loadtest, dataapi/loadtest) print with -json and
// authz/loadtest/compare reads back.
package loadreport

import "github.com/bankfeed/bankfeed/internal/procstat"

// Figures are a run's measured figures: successful operations and errors,
// the rate, latency percentiles in milliseconds and, with -server-pid, the
// machine's CPU per operation and the load average at the start.
type Figures struct {
	Name    string  `json:"scenario"`
	Seconds float64 `json:"seconds"`
	N       int     `json:"ok"`
	Errors  int     `json:"errors"`
	RPS     float64 `json:"per_second"`
	P50     float64 `json:"p50_ms"`
	P99     float64 `json:"p99_ms"`
	Max     float64 `json:"max_ms"`
	procstat.PerOp
	LoadAvg float64 `json:"load_avg,omitempty"`
}

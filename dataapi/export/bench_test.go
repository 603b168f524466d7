package export_test

import (
	"flag"
	"io"
	"testing"

	"github.com/bankfeed/bankfeed/dataapi/export"
	"github.com/bankfeed/bankfeed/dataapi/export/statementtest"
)

var benchEntries = flag.Int("bench.entries", 1_000_000, "entries per export in BenchmarkWrite")

// BenchmarkWrite exports a year of generated entries (default one million)
// in each format to io.Discard, proof pass included, and reports entries/s.
// PDF is capped at its MaxEntries. Peak memory: run one format at a time
// under /usr/bin/time -v and read "Maximum resident set size", e.g.
//
//	go test -c -o /tmp/export.test ./dataapi/export
//	/usr/bin/time -v /tmp/export.test -test.run x -test.bench 'Write/camt053$' -test.benchtime 1x
func BenchmarkWrite(b *testing.B) {
	for _, f := range export.Formats() {
		n := *benchEntries
		if f.MaxEntries > 0 && n > f.MaxEntries {
			n = f.MaxEntries
		}
		b.Run(f.Name, func(b *testing.B) {
			d := statementtest.Generated(n)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if err := export.Write(b.Context(), io.Discard, f, d); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}

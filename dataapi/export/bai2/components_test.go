package bai2_test

import (
	"bufio"
	"bytes"
	"strings"
	"testing"

	"github.com/bankfeed/bankfeed/dataapi/export/bai2"
	"github.com/bankfeed/bankfeed/dataapi/export/statementtest"
)

// TestBreaksBetweenComponents: a record continued on 88 records breaks
// only between components (issue 13 §4). An 03 record's summaries are
// type code, amount, item count, funds type: a break between an amount and
// its type code (…,045/ then 88,1947452,…) is legal per the spec's own
// sample, but common parsers take the 88's first field for a type code.
// A 16 record's type code, amount and funds type stay on its first line.
func TestBreaksBetweenComponents(t *testing.T) {
	for name, d := range map[string]func() []byte{
		"fixture":   func() []byte { return write(t, statementtest.Fixture()) },
		"generated": func() []byte { return write(t, statementtest.Generated(3000)) },
	} {
		t.Run(name, func(t *testing.T) {
			out := d()
			var rec string // the record type a continuation continues
			continued := 0
			sc := bufio.NewScanner(bytes.NewReader(out))
			for n := 1; sc.Scan(); n++ {
				line := sc.Text()
				if len(line) > bai2.RecordLength {
					t.Fatalf("line %d longer than %d: %q", n, bai2.RecordLength, line)
				}
				code, rest, _ := strings.Cut(line, ",")
				if code != "88" {
					rec = code
				}
				switch {
				case rec == "03":
					fields := strings.Split(strings.TrimSuffix(rest, "/"), ",")
					if code == "03" {
						fields = fields[2:] // account, currency
					} else {
						continued++
						if len(fields[0]) != 3 {
							t.Errorf("line %d: a continuation of 03 starts with %q, not a type code: %q", n, fields[0], line)
						}
					}
					if len(fields)%4 != 0 || !strings.HasSuffix(line, "/") {
						t.Errorf("line %d: 03 broken inside a summary (type, amount, count, funds type): %q", n, line)
					}
				case code == "16":
					if f := strings.Split(rest, ","); len(f) < 3 || f[2] != "Z" {
						t.Errorf("line %d: 16 broken before its funds type: %q", n, line)
					}
				}
			}
			if continued == 0 {
				t.Error("no 03 record was continued: the test checks nothing")
			}
		})
	}
}

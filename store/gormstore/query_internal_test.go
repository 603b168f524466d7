package gormstore

import (
	"fmt"
	"strings"
	"testing"
)

// TestDollarPlaceholders: ? placeholders are numbered in order; a text
// seen before is answered without building it again (no allocation); past
// dollarTextsMax texts the answers stay right and the memory stops growing.
func TestDollarPlaceholders(t *testing.T) {
	for in, want := range map[string]string{
		"SELECT 1":                             "SELECT 1",
		"SELECT a FROM t WHERE b = ?":          "SELECT a FROM t WHERE b = $1",
		"UPDATE t SET a = ? WHERE b IN (?, ?)": "UPDATE t SET a = $1 WHERE b IN ($2, $3)",
	} {
		for range 2 {
			if got := dollarPlaceholders(in); got != want {
				t.Errorf("%q: %q, want %q", in, got, want)
			}
		}
	}
	text := "SELECT " + strings.Repeat("x, ", 300) + "y FROM t WHERE a = ? AND b = ?"
	dollarPlaceholders(text)
	if n := testing.AllocsPerRun(100, func() { dollarPlaceholders(text) }); n != 0 {
		t.Errorf("a known text: %v allocations per call", n)
	}
	for i := range dollarTextsMax + 10 {
		in := fmt.Sprintf("SELECT %d WHERE a = ?", i)
		if got, want := dollarPlaceholders(in), fmt.Sprintf("SELECT %d WHERE a = $1", i); got != want {
			t.Fatalf("%q: %q", in, got)
		}
	}
	if n := dollarTextsLen.Load(); n > dollarTextsMax {
		t.Errorf("%d texts remembered, bound %d", n, dollarTextsMax)
	}
}

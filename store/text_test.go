package store_test

import (
	"testing"

	"github.com/bankfeed/bankfeed/store"
)

func TestValidText(t *testing.T) {
	for s, want := range map[string]bool{
		"": true, "Maple Foods": true, "Société générale — 北京": true, "tab\tand\nnewline": true,
		"a\x00b": false, "\x00": false, "\xff": false, "caf\xc3": false, "\xed\xa0\x80": false, // a lone surrogate
	} {
		if got := store.ValidText(s); got != want {
			t.Errorf("ValidText(%q) = %v, want %v", s, got, want)
		}
	}
}

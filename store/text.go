package store

import (
	"strings"
	"unicode/utf8"
)

// ValidText reports whether s is text every store accepts: UTF-8 without
// NUL bytes. PostgreSQL cannot hold anything else in a text column
// (SQLSTATE 22021); the stores refuse it as ErrInvalid on every engine, and
// the HTTP edge refuses it before a handler runs.
func ValidText(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

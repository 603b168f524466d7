package gormstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/bankfeed/bankfeed/store"
)

// micros stores t as microseconds since the epoch; the zero time is 0.
// Sub-microsecond precision is dropped (PostgreSQL keeps no more either).
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// fromMicros is micros' inverse, always in UTC.
func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

var hundred = decimal.NewFromInt(100)

// cents stores m as integer cents; an amount with a fraction of a cent is
// refused rather than rounded.
func cents(field string, m store.Money) (int64, error) {
	c := m.Mul(hundred)
	if !c.IsInteger() {
		return 0, store.Invalid(field, "%s has a fraction of a cent", m.String())
	}
	if c.Abs().GreaterThan(decimal.NewFromInt(1 << 62)) {
		return 0, store.Invalid(field, "%s is out of range", m.String())
	}
	return c.IntPart(), nil
}

func fromCents(c int64) store.Money { return decimal.New(c, -2) }

// jsonList encodes a string list; nil and empty both become [].
func jsonList(v []string) string {
	if len(v) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(v) // []string cannot fail
	return string(b)
}

func fromJSONList(s string) ([]string, error) {
	var out []string
	if s == "" {
		return nil, nil
	}
	if out, ok := splitJSONList(s); ok {
		return out, nil
	}
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return nil, fmt.Errorf("decode list: %w", err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// splitJSONList decodes the compact form jsonList writes when no item
// needs an escape (IDs, scopes, URIs), without encoding/json: an account
// group of 400 accounts is read on every data API request, and decoding its
// list was a tenth of the request's CPU. Anything else (escapes, spaces,
// control characters, invalid UTF-8) reports false and goes to encoding/json.
func splitJSONList(s string) ([]string, bool) {
	if s == "[]" {
		return nil, true
	}
	if len(s) < 4 || !strings.HasPrefix(s, `["`) || !strings.HasSuffix(s, `"]`) ||
		strings.IndexByte(s, '\\') >= 0 || !utf8.ValidString(s) {
		return nil, false
	}
	out := strings.Split(s[2:len(s)-2], `","`)
	for _, it := range out {
		for i := 0; i < len(it); i++ {
			if it[i] == '"' || it[i] < 0x20 {
				return nil, false
			}
		}
	}
	return out, true
}

func rawOrEmpty(b json.RawMessage) string { return string(b) }

func toRaw(s string) json.RawMessage {
	if s == "" {
		return nil
	}
	return json.RawMessage(s)
}

func nullableString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// limit applies the Page rules: ≤ 0 → 100, capped at 1000.
func limit(n int) int {
	switch {
	case n <= 0:
		return 100
	case n > 1000:
		return 1000
	}
	return n
}

func parseSeqCursor(after string) (int64, error) {
	if after == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(after, 10, 64)
	if err != nil || n < 0 {
		return 0, store.Invalid("cursor", "is not a valid page cursor")
	}
	return n, nil
}

// sortedUnique returns ids sorted without duplicates (nil for none).
func sortedUnique(ids []string) []string {
	if len(ids) == 0 {
		return nil
	}
	out := slices.Clone(ids)
	slices.Sort(out)
	return slices.Compact(out)
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

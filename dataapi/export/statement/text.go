package statement

import (
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/shopspring/decimal"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/bankfeed/bankfeed/store"
)

// Cents converts an amount to integer cents; ok is false when it has more
// than two decimals or does not fit. Exports compute in cents: exact and
// much faster than decimal arithmetic on a million entries.
func Cents(m store.Money) (int64, bool) {
	exp := m.Exponent()
	if exp >= -2 && exp <= 2 && m.Coefficient().IsInt64() {
		c := m.CoefficientInt64()
		for e := exp; e > -2; e-- {
			c *= 10
		}
		return c, true
	}
	r := m.Round(2)
	if !r.Equal(m) {
		return 0, false
	}
	b := r.Shift(2).BigInt()
	if !b.IsInt64() {
		return 0, false
	}
	return b.Int64(), true
}

// FromCents is the Money of c cents.
func FromCents(c int64) store.Money { return decimal.New(c, -2) }

// FormatCents writes c cents as "-1234.56".
func FormatCents(c int64) string { return string(AppendCents(nil, c, '.')) }

// AppendCents appends c cents with two decimals and the given decimal mark.
func AppendCents(b []byte, c int64, mark byte) []byte {
	if c < 0 {
		b = append(b, '-')
		c = -c
	}
	b = strconv.AppendInt(b, c/100, 10)
	b = append(b, mark, byte('0'+c%100/10), byte('0'+c%10))
	return b
}

// Abs is |c|.
func Abs(c int64) int64 {
	if c < 0 {
		return -c
	}
	return c
}

// YYMMDD is a date as BAI2 and MT940 write it.
func YYMMDD(d store.Date) string {
	s := string(d)
	if len(s) != 10 {
		return "000000"
	}
	return s[2:4] + s[5:7] + s[8:10]
}

// Compact is a date as YYYYMMDD (OFX).
func Compact(d store.Date) string { return strings.ReplaceAll(string(d), "-", "") }

// EndOfDay is the last second of d in the bank's zone.
func EndOfDay(d store.Date, loc *time.Location) time.Time {
	t, err := time.ParseInLocation(time.DateOnly, string(d), loc)
	if err != nil {
		return time.Time{}
	}
	return t.AddDate(0, 0, 1).Add(-time.Second)
}

// StartOfDay is midnight at the start of d in the bank's zone.
func StartOfDay(d store.Date, loc *time.Location) time.Time {
	t, _ := time.ParseInLocation(time.DateOnly, string(d), loc)
	return t
}

// Clean collapses runs of white space and control characters into one
// space and trims the ends.
func Clean(s string) string {
	clean := true
	prevSpace := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f || (c == ' ' && prevSpace) {
			clean = false
			break
		}
		prevSpace = c == ' '
	}
	if clean && !strings.HasSuffix(s, " ") {
		return s
	}
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
}

// ASCII transliterates s to printable ASCII: accents are dropped (é→e),
// ligatures and a few symbols spelled out, anything else becomes '?'.
// Formats with a restricted character set (MT940, BAI2) need it.
func ASCII(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	var b strings.Builder
	for _, r := range out {
		switch {
		case r < 0x80:
			b.WriteRune(r)
		case r == 'œ':
			b.WriteString("oe")
		case r == 'Œ':
			b.WriteString("OE")
		case r == 'æ':
			b.WriteString("ae")
		case r == 'Æ':
			b.WriteString("AE")
		case r == 'ß':
			b.WriteString("ss")
		case r == '’' || r == '‘':
			b.WriteByte('\'')
		case r == '“' || r == '”' || r == '«' || r == '»':
			b.WriteByte('"')
		case r == '–' || r == '—':
			b.WriteByte('-')
		case r == '\u00a0':
			b.WriteByte(' ')
		case r == '€':
			b.WriteString("EUR")
		default:
			b.WriteByte('?')
		}
	}
	return b.String()
}

// Truncate cuts s to at most n runes.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}

// Last keeps the last n bytes of an ASCII identifier (IDs are ASCII).
func Last(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

package statementtest

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/bankfeed/bankfeed/store"
)

// No maintained Go MT940 parser is served by the module proxy, so the tests
// read MT940 back with this one, written from the SWIFT MT940 field
// definitions (not from our writer): strict on the syntax an importer
// relies on, and returning every field for the tests to compare with what
// the writer was given.

// MT940 is one MT940 message read back.
type MT940 struct {
	Tags        []string // in order, e.g. 20 25 28C 60F 61 86 ... 62F 64
	Reference   string   // :20: transaction reference number
	Account     string   // :25: account identification
	StatementNo string   // :28C: statement number
	SequenceNo  string   // :28C: sequence number ("" if absent)
	Opening     MT940Balance
	Closing     MT940Balance
	Available   *MT940Balance // :64:, nil if absent
	Lines       []MT940Line
}

// MT940Balance is a :60F:, :62F: or :64: balance.
type MT940Balance struct {
	Date     store.Date
	Currency string
	Cents    int64 // signed: D is negative
}

// MT940Line is a :61: statement line with its :86: information.
type MT940Line struct {
	ValueDate   store.Date
	EntryDate   store.Date // from MMDD, in the value date's year (across a new year too)
	Mark        string     // C, D, RC or RD
	Cents       int64      // as written: unsigned
	Type        string     // transaction type identification, e.g. NTRF
	CustomerRef string     // reference for the account owner
	BankRef     string     // after //, "" if absent
	Details     string     // supplementary details (the line after :61:)
	Narrative   []string   // :86: lines
}

// Signed is the line's amount with debits negative (RC a debit reversed,
// so a credit; RD a credit reversed, so a debit).
func (l MT940Line) Signed() int64 {
	if strings.HasSuffix(l.Mark, "D") {
		return -l.Cents
	}
	return l.Cents
}

var (
	mt940X       = regexp.MustCompile(`^[a-zA-Z0-9/\-?:().,'+ ]*$`)
	mt940Tag     = regexp.MustCompile(`^:(\d\d[A-Z]?):(.*)$`)
	mt940Balance = regexp.MustCompile(`^([CD])(\d{6})([A-Z]{3})(\d{1,12},\d{0,2})$`)
	mt940Line    = regexp.MustCompile(`^(\d{6})(\d{4})?(C|D|RC|RD)([A-Z])?(\d{1,12},\d{0,2})([SNF][A-Z0-9]{3})([^/]{1,16}|NONREF)(?://(.{1,16}))?$`)
	mt940Stmt    = regexp.MustCompile(`^(\d{1,5})(?:/(\d{1,5}))?$`)
)

// ReadMT940 reads one MT940 message (CRLF lines, ending with "-"). Every
// line must be in the SWIFT X character set, a continuation line at most 65
// characters, :86: at most 6 lines of 65.
func ReadMT940(data []byte) (*MT940, error) {
	s := string(data)
	if !strings.HasSuffix(s, "\r\n-\r\n") {
		return nil, errors.New("mt940: message does not end with CRLF - CRLF")
	}
	lines := strings.Split(strings.TrimSuffix(s, "\r\n-\r\n"), "\r\n")
	m := &MT940{}
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf("mt940: "+format, args...)) }
	var cur string      // the tag whose continuation lines follow
	var line *MT940Line // the current :61:
	for _, l := range lines {
		if !mt940X.MatchString(l) {
			fail("line outside the SWIFT X character set: %q", l)
		}
		tm := mt940Tag.FindStringSubmatch(l)
		if tm == nil {
			if len(l) > 65 {
				fail("line longer than 65: %q", l)
			}
			switch {
			case cur == "61" && line != nil && line.Details == "":
				line.Details = l
			case cur == "86" && line != nil:
				line.Narrative = append(line.Narrative, l)
			default:
				fail("continuation line after :%s:: %q", cur, l)
			}
			continue
		}
		cur = tm[1]
		m.Tags = append(m.Tags, cur)
		val := tm[2]
		switch cur {
		case "20":
			m.Reference = val
			if len(val) < 1 || len(val) > 16 || strings.HasPrefix(val, "/") || strings.HasSuffix(val, "/") || strings.Contains(val, "//") {
				fail(":20: %q is not 16x without leading, trailing or double slashes", val)
			}
		case "25":
			m.Account = val
			if len(val) < 1 || len(val) > 35 {
				fail(":25: %q is not 35x", val)
			}
		case "28C":
			sm := mt940Stmt.FindStringSubmatch(val)
			if sm == nil {
				fail(":28C: %q is not 5n[/5n]", val)
				continue
			}
			m.StatementNo, m.SequenceNo = sm[1], sm[2]
		case "60F", "62F", "64":
			b, err := readBalance(val)
			if err != nil {
				fail(":%s: %v", cur, err)
				continue
			}
			switch cur {
			case "60F":
				m.Opening = b
			case "62F":
				m.Closing = b
			default:
				m.Available = &b
			}
		case "61":
			sm := mt940Line.FindStringSubmatch(val)
			if sm == nil {
				fail(":61: %q does not parse", val)
				line = nil
				continue
			}
			value, err := yymmdd(sm[1])
			if err != nil {
				fail(":61: value date: %v", err)
			}
			entry := value
			if sm[2] != "" && value != "" {
				if entry, err = entryDate(value, sm[2]); err != nil {
					fail(":61: entry date: %v", err)
				}
			}
			c, err := mt940Cents(sm[5])
			if err != nil {
				fail(":61: amount: %v", err)
			}
			m.Lines = append(m.Lines, MT940Line{ValueDate: value, EntryDate: entry, Mark: sm[3], Cents: c,
				Type: sm[6], CustomerRef: sm[7], BankRef: sm[8]})
			line = &m.Lines[len(m.Lines)-1]
		case "86":
			if line == nil || len(line.Narrative) > 0 {
				fail(":86: without a :61: before it")
				continue
			}
			if len(val) > 65 {
				fail(":86: first line longer than 65: %q", val)
			}
			line.Narrative = []string{val}
		default:
			fail("unexpected tag :%s:", cur)
		}
		if cur != "61" && cur != "86" {
			line = nil
		}
	}
	for _, l := range m.Lines {
		if len(l.Narrative) > 6 {
			fail(":86: of %s has %d lines, at most 6", l.Details, len(l.Narrative))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return m, err
	}
	return m, nil
}

func readBalance(v string) (MT940Balance, error) {
	sm := mt940Balance.FindStringSubmatch(v)
	if sm == nil {
		return MT940Balance{}, fmt.Errorf("%q is not 1!a6!n3!a15d", v)
	}
	d, err := yymmdd(sm[2])
	if err != nil {
		return MT940Balance{}, err
	}
	c, err := mt940Cents(sm[4])
	if err != nil {
		return MT940Balance{}, err
	}
	if sm[1] == "D" {
		c = -c
	}
	return MT940Balance{Date: d, Currency: sm[3], Cents: c}, nil
}

// mt940Cents reads a SWIFT amount: digits, a decimal comma, up to two
// decimals (a missing decimal part is zero).
func mt940Cents(s string) (int64, error) {
	whole, frac, _ := strings.Cut(s, ",")
	frac = (frac + "00")[:2]
	return strconv.ParseInt(whole+frac, 10, 64)
}

func yymmdd(s string) (store.Date, error) {
	d := store.Date("20" + s[:2] + "-" + s[2:4] + "-" + s[4:6])
	if !d.Valid() {
		return "", fmt.Errorf("%q is not a date", s)
	}
	return d, nil
}

// entryDate is MMDD in the year of the value date, or the next or previous
// year when the two straddle a new year.
func entryDate(value store.Date, mmdd string) (store.Date, error) {
	y, _ := strconv.Atoi(string(value)[:4])
	vm := string(value)[5:7]
	switch {
	case vm == "12" && mmdd[:2] == "01":
		y++
	case vm == "01" && mmdd[:2] == "12":
		y--
	}
	d := store.Date(fmt.Sprintf("%04d-%s-%s", y, mmdd[:2], mmdd[2:]))
	if !d.Valid() {
		return "", fmt.Errorf("%q is not a date", mmdd)
	}
	return d, nil
}

// Fold reduces text to lower-case ASCII letters and digits, dropping
// accents (of the letters the fixtures use) and everything else, so that
// a text and its SWIFT X rendering compare equal. A letter it cannot fold
// is kept, so it shows in a failed comparison.
func Fold(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if i := strings.IndexRune(foldFrom, r); i >= 0 {
			r = []rune(foldTo)[len([]rune(foldFrom[:i]))]
		}
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case r >= 0x80 && unicode.IsLetter(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

const (
	foldFrom = "àâäáçéèêëíîïóôöùûüúÿñ"
	foldTo   = "aaaaceeeeiiiooouuuuyn"
)

// CheckNarrative checks an entry's :86: lines (narrative, as read) against
// what they must say, compared after Fold: the description, the
// counterparty unless the description names it, the memo and the customer
// reference.
func CheckNarrative(t testing.TB, id string, narrative []string, description, counterparty, memo, customerRef string) {
	t.Helper()
	parts := []string{description}
	if !strings.Contains(Fold(description), Fold(counterparty)) {
		parts = append(parts, counterparty)
	}
	parts = append(parts, memo)
	if customerRef != "" {
		parts = append(parts, "REF "+customerRef)
	}
	if got, want := Fold(strings.Join(narrative, "")), Fold(strings.Join(parts, " ")); got != want {
		t.Errorf(":86: of %s: %q\nfolded %q\n  want %q", id, narrative, got, want)
	}
}

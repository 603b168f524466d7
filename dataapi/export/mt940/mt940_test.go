package mt940_test

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/bankfeed/bankfeed/dataapi/export/mt940"
	"github.com/bankfeed/bankfeed/dataapi/export/statement"
	"github.com/bankfeed/bankfeed/dataapi/export/statementtest"
	"github.com/bankfeed/bankfeed/store"
)

var (
	xset     = regexp.MustCompile(`^[a-zA-Z0-9/\-?:().,'+ ]*$`)
	balance  = regexp.MustCompile(`^([CD])(\d{6})([A-Z]{3})(\d{1,12},\d{2})$`)
	field61  = regexp.MustCompile(`^(\d{6})(\d{4})(C|D)(\d{1,12},\d{2})(N[A-Z0-9]{3})([^/]{1,16})(//[^/]{1,16})?$`)
	tagStart = regexp.MustCompile(`^:(\d\d[A-Z]?):(.*)$`)
)

func amount(t *testing.T, s string) int64 {
	t.Helper()
	c, err := strconv.ParseInt(strings.Replace(s, ",", "", 1), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func yymmdd(s string) store.Date { return store.Date("20" + s[:2] + "-" + s[2:4] + "-" + s[4:6]) }

func TestWrite(t *testing.T) {
	d := statementtest.Fixture()
	tot, err := statement.Prove(t.Context(), &d, false)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := mt940.Write(t.Context(), &buf, &d, tot); err != nil {
		t.Fatal(err)
	}
	out := buf.Bytes()
	statementtest.Golden(t, "statement.mt940", out)

	if !bytes.HasSuffix(out, []byte("\r\n-\r\n")) {
		t.Error("message does not end with CRLF - CRLF")
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\r\n"), "\r\n")
	p := statementtest.Parsed{Count: -1, Credits: -1, Debits: -1}
	tags := []string{}
	var cur string
	narrative := 0
	var last *statementtest.Entry
	for _, l := range lines {
		if !xset.MatchString(l) {
			t.Errorf("line outside the SWIFT X character set: %q", l)
		}
		m := tagStart.FindStringSubmatch(l)
		if m == nil {
			if l == "-" {
				continue
			}
			if len(l) > 65 {
				t.Errorf("continuation line longer than 65: %q", l)
			}
			switch cur {
			case "61": // supplementary details: the transaction ID
				last.ID = strings.Replace(l, "-", "_", 1)
			case "86":
				narrative++
				if narrative > 6 {
					t.Errorf(":86: longer than 6 lines")
				}
			default:
				t.Errorf("continuation line after :%s: %q", cur, l)
			}
			continue
		}
		cur = m[1]
		tags = append(tags, cur)
		val := m[2]
		switch cur {
		case "60F", "62F", "64":
			b := balance.FindStringSubmatch(val)
			if b == nil {
				t.Fatalf("bad balance :%s:%s", cur, val)
			}
			c := amount(t, b[4])
			if b[1] == "D" {
				c = -c
			}
			if cur == "60F" {
				p.Opening = c
			}
			if cur == "62F" {
				p.Closing = c
			}
		case "61":
			f := field61.FindStringSubmatch(val)
			if f == nil {
				t.Fatalf("bad :61: %q", val)
			}
			c := amount(t, f[4])
			if f[3] == "D" {
				c = -c
			}
			p.Entries = append(p.Entries, statementtest.Entry{Date: store.Date("2025-" + f[2][:2] + "-" + f[2][2:]), Cents: c})
			last = &p.Entries[len(p.Entries)-1]
			_ = yymmdd(f[1])
		case "86":
			narrative = 1
			if len(l) > 4+65 {
				t.Errorf(":86: first line longer than 65: %q", l)
			}
		}
	}
	want := "20 25 28C 60F 61 86 61 86 61 86 61 86 61 86 61 86 61 86 62F 64"
	if got := strings.Join(tags, " "); got != want {
		t.Errorf("tags = %s\nwant %s", got, want)
	}
	statementtest.Reconcile(t, p, d.PeriodStart, d.PeriodEnd)
	for i, e := range p.Entries {
		if want := statementtest.FixtureEntries()[i].ID; e.ID != want {
			t.Errorf("entry %d ID %q, want %q", i, e.ID, want)
		}
	}
}

func TestX(t *testing.T) {
	for in, want := range map[string]string{
		"Dépôt — Québec":         "Depot - Quebec",
		"a_b & <c> \"d\" #1 ; @": "a-b + (c) 'd' 1",
		"Œuvre  Straße":          "OEuvre Strasse",
	} {
		if got := mt940.X(in); got != want {
			t.Errorf("X(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNarrativeLimits(t *testing.T) {
	tx := store.Transaction{Description: strings.Repeat("word ", 200), Memo: ":colon first"}
	lines := mt940.Narrative(tx)
	if len(lines) != 6 {
		t.Errorf("lines = %d, want 6", len(lines))
	}
	for _, l := range lines {
		if len(l) > 65 || strings.HasPrefix(l, ":") || strings.HasPrefix(l, "-") {
			t.Errorf("bad narrative line %q", l)
		}
	}
}

package bai2_test

import (
	"bufio"
	"bytes"
	"strconv"
	"strings"
	"testing"

	moov "github.com/moov-io/bai2/pkg/lib"

	"github.com/bankfeed/bankfeed/dataapi/export/bai2"
	"github.com/bankfeed/bankfeed/dataapi/export/statement"
	"github.com/bankfeed/bankfeed/dataapi/export/statementtest"
	"github.com/bankfeed/bankfeed/store"
)

func write(t *testing.T, d statement.Document) []byte {
	t.Helper()
	tot, err := statement.Prove(t.Context(), &d, false)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := bai2.Write(t.Context(), &buf, &d, tot); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestWriteGoldenAndMoov(t *testing.T) {
	d := statementtest.Fixture()
	out := write(t, d)
	statementtest.Golden(t, "statement.bai2", out)

	// An independent parser reads it back, and its own sums agree.
	f := moov.NewBai2()
	scan := moov.NewBai2Scanner(bytes.NewReader(out))
	if err := f.Read(&scan); err != nil {
		t.Fatalf("moov-io/bai2 cannot read the file: %v", err)
	}
	if err := f.Validate(); err != nil {
		t.Fatalf("moov-io/bai2 validate: %v", err)
	}
	if got := len(f.Groups); got != 31 || f.NumberOfGroups != 31 {
		t.Fatalf("groups = %d (trailer %d), want one per day of March", got, f.NumberOfGroups)
	}
	if f.SumRecords() != f.NumberOfRecords {
		t.Errorf("file records: trailer %d, groups sum to %d", f.NumberOfRecords, f.SumRecords())
	}
	if total, err := f.SumGroupControlTotals(); err != nil || total != f.FileControlTotal {
		t.Errorf("file control total %s, groups sum to %s (%v)", f.FileControlTotal, total, err)
	}
	details := 0
	var first, last int64
	for i, g := range f.Groups {
		if g.SumRecords() != g.NumberOfRecords || g.NumberOfAccounts != 1 {
			t.Errorf("group %s: records %d, accounts sum to %d", g.AsOfDate, g.NumberOfRecords, g.SumRecords())
		}
		if total, err := g.SumAccountControlTotals(); err != nil || total != g.GroupControlTotal {
			t.Errorf("group %s control total %s, accounts sum to %s (%v)", g.AsOfDate, g.GroupControlTotal, total, err)
		}
		a := g.Accounts[0]
		sums := map[string]int64{}
		counts := map[string]int64{}
		control := int64(0)
		for _, s := range a.Summaries {
			v, _ := strconv.ParseInt(s.Amount, 10, 64)
			sums[s.TypeCode], counts[s.TypeCode] = v, s.ItemCount
			control += v
		}
		var net, credits, debits int64
		for _, det := range a.Details {
			v, _ := strconv.ParseInt(det.Amount, 10, 64)
			control += v // BAI2: algebraic sum of every amount field of 03, 16 and 88
			if det.TypeCode < "400" {
				net += v
				credits += v
			} else {
				net -= v
				debits += v
			}
		}
		if strconv.FormatInt(control, 10) != a.AccountControlTotal {
			t.Errorf("%s: 49 control total %s, amounts sum to %d", g.AsOfDate, a.AccountControlTotal, control)
		}
		if sums["010"]+net != sums["015"] {
			t.Errorf("%s: 010 %d + entries %d ≠ 015 %d", g.AsOfDate, sums["010"], net, sums["015"])
		}
		if sums["100"] != credits || sums["400"] != debits || counts["100"]+counts["400"] != int64(len(a.Details)) {
			t.Errorf("%s: 100/400 totals %d/%d (%d items) vs details %d/%d (%d)", g.AsOfDate, sums["100"], sums["400"], counts["100"]+counts["400"], credits, debits, len(a.Details))
		}
		if i == 0 {
			first = sums["010"]
		}
		last = sums["015"]
		details += len(a.Details)
	}
	if first != 1234567 || last != 2037834 || details != 7 {
		t.Errorf("opening %d, closing %d, details %d", first, last, details)
	}
}

// TestRecords checks the file with our own reading of the BAI2 spec:
// physical records of at most 80 characters, 88 continuations, record
// counts in 49/98/99 and control totals, entry IDs and the balance proof.
func TestRecords(t *testing.T) {
	d := statementtest.Fixture()
	out := write(t, d)
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if len(sc.Text()) > bai2.RecordLength {
			t.Errorf("physical record longer than %d: %q", bai2.RecordLength, sc.Text())
		}
		lines = append(lines, sc.Text())
	}
	type logical struct {
		fields   []string
		physical int
	}
	var recs []logical
	for _, l := range lines {
		code, rest, _ := strings.Cut(l, ",")
		if code == "88" {
			prev := &recs[len(recs)-1]
			if prev.fields[0] == "16" {
				prev.fields[len(prev.fields)-1] += " " + rest
			} else {
				prev.fields = append(prev.fields, strings.Split(strings.TrimSuffix(rest, "/"), ",")...)
			}
			prev.physical++
			continue
		}
		var fields []string
		if code == "16" {
			fields = strings.SplitN(l, ",", 7)
		} else {
			fields = strings.Split(strings.TrimSuffix(l, "/"), ",")
		}
		recs = append(recs, logical{fields: fields, physical: 1})
	}
	num := func(s string) int64 {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("not a number: %q", s)
		}
		return v
	}
	var p statementtest.Parsed
	p.Count, p.Credits, p.Debits = -1, -1, -1
	var acct, grp, file int64 // control totals
	var acctRecs, grpRecs, fileRecs int64
	var day store.Date
	first := true
	for _, r := range recs {
		f := r.fields
		switch f[0] {
		case "01":
			fileRecs = int64(r.physical)
		case "02":
			grpRecs, grp = int64(r.physical), 0
			day = store.Date("20" + f[4][:2] + "-" + f[4][2:4] + "-" + f[4][4:6])
		case "03":
			acctRecs, acct = int64(r.physical), 0
			for i := 3; i+1 < len(f); i += 4 {
				v := num(f[i+1])
				acct += v
				if f[i] == "010" && first {
					p.Opening, first = v, false
				}
				if f[i] == "015" {
					p.Closing = v
				}
			}
		case "16":
			acctRecs += int64(r.physical)
			v := num(f[2])
			acct += v
			_, id, ok := strings.Cut(f[6], " ID ")
			if !ok {
				t.Errorf("16 record without the transaction ID: %q", f)
			}
			if f[1] >= "400" {
				v = -v
			}
			p.Entries = append(p.Entries, statementtest.Entry{ID: id, Date: day, Cents: v})
		case "49":
			acctRecs += int64(r.physical)
			if num(f[1]) != acct || num(f[2]) != acctRecs {
				t.Errorf("49 %v: computed total %d, records %d", f, acct, acctRecs)
			}
			grp += acct
			grpRecs += acctRecs
		case "98":
			grpRecs += int64(r.physical)
			if num(f[1]) != grp || num(f[2]) != 1 || num(f[3]) != grpRecs {
				t.Errorf("98 %v: computed total %d, records %d", f, grp, grpRecs)
			}
			file += grp
			fileRecs += grpRecs
		case "99":
			fileRecs++
			if num(f[1]) != file || num(f[2]) != 31 || num(f[3]) != fileRecs {
				t.Errorf("99 %v: computed total %d, records %d", f, file, fileRecs)
			}
		default:
			t.Errorf("unknown record %q", f[0])
		}
	}
	statementtest.Reconcile(t, p, d.PeriodStart, d.PeriodEnd)
	if len(p.Entries) != 7 {
		t.Errorf("entries = %d", len(p.Entries))
	}
}

func TestTypeCode(t *testing.T) {
	for _, c := range []struct {
		code string
		dir  store.Direction
		want string
	}{
		{"165", store.Credit, "165"}, {"475", store.Debit, "475"}, {"475", store.Credit, "399"},
		{"165", store.Debit, "699"}, {"", store.Credit, "399"}, {"12", store.Debit, "699"}, {"abc", store.Debit, "699"},
	} {
		tx := store.Transaction{Direction: c.dir, Code: store.BankTransactionCode{BAI: c.code}}
		if got := bai2.TypeCode(tx); got != c.want {
			t.Errorf("TypeCode(%q, %s) = %s, want %s", c.code, c.dir, got, c.want)
		}
	}
}

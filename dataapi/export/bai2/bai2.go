package bai2

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/bankfeed/bankfeed/dataapi/export/statement"
	"github.com/bankfeed/bankfeed/store"
)

// RecordLength is the physical record length declared in the 01 record;
// longer logical records continue on 88 records.
const RecordLength = 80

type writer struct {
	w   *bufio.Writer
	d   *statement.Document
	t   statement.Totals
	loc *time.Location

	records int64 // records in the current account (03..49)
	acctSum int64 // account control total
	grpRecs int64
	grpSum  int64
	fileRec int64
	fileSum int64
	groups  int
	err     error
}

// Write writes d as BAI2. t must come from statement.Prove(ctx, d, false).
func Write(ctx context.Context, w io.Writer, d *statement.Document, t statement.Totals) error {
	x := &writer{w: bufio.NewWriterSize(w, 64<<10), d: d, t: t, loc: store.Toronto()}
	created := d.Created.In(x.loc)
	receiver := field(d.Account.BusinessGroupID)
	if receiver == "" {
		receiver = "CUSTOMER"
	}
	sender := field(d.Bank.RoutingID)
	x.fileRec = x.record(false, "01", sender, receiver, created.Format("060102"), created.Format("1504"), field(d.StatementID), strconv.Itoa(RecordLength), "", "2")

	// One group per business date. The entries arrive in date order, so the
	// stream is read once, stopping at each day's end via a pull iterator.
	day := d.PeriodStart
	var open bool
	startDay := func(date store.Date) {
		x.group(date)
		open = true
	}
	endDay := func() {
		x.trailers()
		open = false
	}
	err := d.Each(ctx, false, func(tx store.Transaction) error {
		for day < tx.BusinessDate {
			if !open {
				startDay(day)
			}
			endDay()
			day = day.AddDays(1)
		}
		if !open {
			startDay(day)
		}
		x.detail(tx)
		return x.err
	})
	if err != nil {
		return fmt.Errorf("bai2: stream entries: %w", err)
	}
	for ; day <= d.PeriodEnd; day = day.AddDays(1) {
		if !open {
			startDay(day)
		}
		endDay()
	}
	x.fileRec++ // the 99 counts itself
	x.record(false, "99", amount(x.fileSum), strconv.Itoa(x.groups), strconv.FormatInt(x.fileRec, 10))
	if x.err != nil {
		return fmt.Errorf("bai2: write: %w", x.err)
	}
	if err := x.w.Flush(); err != nil {
		return fmt.Errorf("bai2: write: %w", err)
	}
	return nil
}

// group writes the 02 group header and the account's 03 summary of date.
func (x *writer) group(date store.Date) {
	d := x.d
	x.groups++
	x.grpSum, x.acctSum = 0, 0
	modifier, asOf := "2", "2400" // final previous-day, end of day
	if d.Kind == statement.KindIntraday && date == d.PeriodEnd {
		modifier, asOf = "3", d.Created.In(x.loc).Format("1504") // interim same-day
	}
	receiver := field(d.Account.BusinessGroupID)
	if receiver == "" {
		receiver = "CUSTOMER"
	}
	x.grpRecs = x.record(false, "02", receiver, field(d.Bank.RoutingID), "1", statement.YYMMDD(date), asOf, d.Currency(), modifier)

	day := x.t.DayOf(date)
	f := [][]string{{field(d.Ref())}, {d.Currency()}}
	sum := int64(0)
	add := func(code string, c int64, count string) {
		f = append(f, []string{code, amount(c), count, ""}) // one summary: never split
		sum += c
	}
	add("010", day.Opening, "")
	add("015", day.Closing, "")
	if oa, ca, ok := d.DailyAvailable(date); ok {
		add("040", oa, "")
		add("045", ca, "")
	} else if d.HasAvailable && date == d.PeriodStart {
		add("040", x.t.OpeningAvailable, "")
	} else if d.HasAvailable && date == d.PeriodEnd {
		add("045", x.t.ClosingAvailable, "")
	}
	add("100", day.Credits, strconv.Itoa(day.CreditCount))
	add("400", day.Debits, strconv.Itoa(day.DebitCount))
	x.acctSum += sum
	x.records = x.units(false, "03", f...)
}

// trailers write 49 (account) and 98 (group).
func (x *writer) trailers() {
	x.records++ // the 49 counts itself
	x.record(false, "49", amount(x.acctSum), strconv.FormatInt(x.records, 10))
	x.grpSum += x.acctSum
	x.grpRecs += x.records + 1 // the 98 counts itself
	x.record(false, "98", amount(x.grpSum), "1", strconv.FormatInt(x.grpRecs, 10))
	x.fileSum += x.grpSum
	x.fileRec += x.grpRecs
}

func (x *writer) detail(tx store.Transaction) {
	c, _ := statement.Cents(tx.Amount)
	x.acctSum += c
	text := statement.ASCII(statement.Clean(tx.Description))
	if p := statement.ASCII(statement.Clean(tx.Payee)); p != "" && !strings.Contains(text, p) {
		text = strings.TrimSpace(text + " " + p)
	}
	text += " ID " + tx.ID
	x.records += x.units(true, "16", []string{TypeCode(tx), amount(c), "Z"},
		[]string{field(tx.BankReference)}, []string{field(cmp.Or(tx.CustomerReference, tx.CheckNumber))}, []string{text})
}

// TypeCode is the BAI detail type code of an entry: its stored code when it
// is a three-digit code on the right side (credits 100–399, debits
// 400–699), else 399 (miscellaneous credit) or 699 (miscellaneous debit).
func TypeCode(tx store.Transaction) string {
	c := tx.Code.BAI
	if n, err := strconv.Atoi(c); err == nil && len(c) == 3 {
		if tx.Direction == store.Credit && n >= 100 && n <= 399 {
			return c
		}
		if tx.Direction == store.Debit && n >= 400 && n <= 699 {
			return c
		}
	}
	if tx.Direction == store.Credit {
		return "399"
	}
	return "699"
}

// record writes one logical record of single fields (see units).
func (x *writer) record(text bool, code string, fields ...string) int64 {
	units := make([][]string, len(fields))
	for i := range fields {
		units[i] = fields[i : i+1]
	}
	return x.units(text, code, units...)
}

// units writes one logical record, continuing on 88 records past
// RecordLength, and returns the number of physical records written. A
// record breaks only between units — a summary's type code, amount, item
// count and funds type are one — because common parsers read an 88's
// first field as a type code (issue 13 §4). Every record but a 16 with
// text ends with "/"; a 16's text (its last unit, one field) runs to the
// end of the record (it may contain "/"), split at spaces.
func (x *writer) units(text bool, code string, units ...[]string) int64 {
	n := int64(1)
	var line strings.Builder
	line.WriteString(code)
	last := len(units)
	if text {
		last--
	}
	for _, u := range units[:last] {
		f := strings.Join(u, ",")
		if line.Len()+1+len(f)+1 > RecordLength {
			line.WriteByte('/')
			x.emit(line.String())
			line.Reset()
			line.WriteString("88")
			n++
		}
		line.WriteByte(',')
		line.WriteString(f)
	}
	if !text {
		line.WriteByte('/')
		x.emit(line.String())
		return n
	}
	t := units[last][0]
	if t == "" {
		line.WriteString(",/")
		x.emit(line.String())
		return n
	}
	line.WriteByte(',')
	for t != "" {
		room := RecordLength - line.Len()
		if len(t) <= room {
			line.WriteString(t)
			break
		}
		cut := 0
		if room > 0 {
			if cut = strings.LastIndexByte(t[:room], ' '); cut <= 0 {
				cut = room
			}
		}
		line.WriteString(t[:cut])
		x.emit(line.String())
		line.Reset()
		line.WriteString("88,")
		n++
		t = strings.TrimLeft(t[cut:], " ")
	}
	x.emit(line.String())
	return n
}

func (x *writer) emit(s string) {
	if x.err != nil {
		return
	}
	if _, err := x.w.WriteString(s); err != nil {
		x.err = err
		return
	}
	x.err = x.w.WriteByte('\n')
}

// amount is cents without a decimal point, signed when negative.
func amount(c int64) string { return strconv.FormatInt(c, 10) }

// field makes s safe inside a delimited BAI2 field: ASCII, no comma or slash.
func field(s string) string {
	s = statement.ASCII(statement.Clean(s))
	return strings.Map(func(r rune) rune {
		if r == ',' || r == '/' {
			return '-'
		}
		return r
	}, s)
}

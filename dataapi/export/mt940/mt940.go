package mt940

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/bankfeed/bankfeed/dataapi/export/statement"
	"github.com/bankfeed/bankfeed/store"
)

// Write writes d as one MT940 message. t must come from
// statement.Prove(ctx, d, false).
func Write(ctx context.Context, w io.Writer, d *statement.Document, t statement.Totals) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	line := func(s string) {
		bw.WriteString(s)
		bw.WriteString("\r\n")
	}
	ccy := d.Currency()
	line(":20:" + X(statement.Last(d.StatementID, 16)))
	line(":25:" + X(statement.Truncate(d.Ref(), 35)))
	line(":28C:" + strconv.Itoa(d.Seq()%100000) + "/1")
	line(":60F:" + Balance(t.Opening, d.PeriodStart, ccy))
	var buf []byte
	err := d.Each(ctx, false, func(tx store.Transaction) error {
		c, _ := statement.Cents(tx.Amount)
		mark := "C"
		if tx.Direction == store.Debit {
			mark = "D"
		}
		value := tx.ValueDate
		if value == "" {
			value = tx.BusinessDate
		}
		ref := ref16(cmp.Or(tx.CustomerReference, tx.CheckNumber))
		if ref == "" {
			ref = "NONREF"
		}
		buf = append(buf[:0], ":61:"...)
		buf = append(buf, statement.YYMMDD(value)...)
		buf = append(buf, string(tx.BusinessDate)[5:7]...)
		buf = append(buf, string(tx.BusinessDate)[8:10]...)
		buf = append(buf, mark...)
		buf = statement.AppendCents(buf, c, ',')
		buf = append(buf, TypeCode(tx.Code)...)
		buf = append(buf, ref...)
		if br := ref16(tx.BankReference); br != "" {
			buf = append(buf, "//"...)
			buf = append(buf, br...)
		}
		bw.Write(buf)
		bw.WriteString("\r\n")
		line(X(statement.Truncate(tx.ID, 34))) // supplementary details: our transactionId
		for i, l := range Narrative(tx) {
			if i == 0 {
				bw.WriteString(":86:")
			}
			line(l)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("mt940: stream entries: %w", err)
	}
	line(":62F:" + Balance(t.Closing, d.PeriodEnd, ccy))
	if d.HasAvailable {
		line(":64:" + Balance(t.ClosingAvailable, d.PeriodEnd, ccy))
	}
	line("-")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("mt940: write: %w", err)
	}
	return nil
}

// Balance is a balance field's value: C/D mark, YYMMDD, currency, amount
// with a decimal comma.
func Balance(cents int64, day store.Date, ccy string) string {
	mark := "C"
	if cents < 0 {
		mark = "D"
	}
	return mark + statement.YYMMDD(day) + ccy + string(statement.AppendCents(nil, statement.Abs(cents), ','))
}

// TypeCode is the :61: transaction type identification (N + SWIFT code).
func TypeCode(c store.BankTransactionCode) string {
	switch {
	case c.Family == "CCHQ" || c.BAI == "475":
		return "NCHK"
	case c.SubFamily == "CHRG" || c.BAI == "698":
		return "NCHG"
	case c.SubFamily == "INTR" || c.BAI == "354":
		return "NINT"
	case c.Family == "RDDT":
		return "NDDT"
	case c.Family == "RCDT" || c.Family == "ICDT":
		return "NTRF"
	}
	return "NMSC"
}

// Narrative is the :86: text: description, counterparty, memo and
// references, in at most 6 lines of 65 characters.
func Narrative(tx store.Transaction) []string {
	parts := []string{statement.Clean(tx.Description)}
	if p := statement.Clean(cmp.Or(tx.Payee, tx.Counterparty)); p != "" && !strings.Contains(parts[0], p) {
		parts = append(parts, p)
	}
	if m := statement.Clean(tx.Memo); m != "" {
		parts = append(parts, m)
	}
	if tx.CustomerReference != "" {
		parts = append(parts, "REF "+tx.CustomerReference)
	}
	text := X(strings.Join(parts, " "))
	var lines []string
	for text != "" && len(lines) < 6 {
		n := min(65, len(text))
		if n < len(text) {
			if cut := strings.LastIndexByte(text[:n], ' '); cut > 20 {
				n = cut
			}
		}
		l := strings.TrimSpace(text[:n])
		if strings.HasPrefix(l, ":") || strings.HasPrefix(l, "-") {
			l = "." + l[1:] // a line starting so would read as a tag or the end of message
		}
		if l != "" {
			lines = append(lines, l)
		}
		text = strings.TrimSpace(text[n:])
	}
	if len(lines) == 0 {
		lines = []string{"NONREF"}
	}
	return lines
}

// X maps s into the SWIFT X character set:
// a-z A-Z 0-9 / - ? : ( ) . , ' + and space.
func X(s string) string {
	s = statement.ASCII(s)
	b := []byte(s)
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("/-?:().,'+ ", c) >= 0:
		case c == '_':
			b[i] = '-'
		case c == '&':
			b[i] = '+'
		case c == '<' || c == '[' || c == '{':
			b[i] = '('
		case c == '>' || c == ']' || c == '}':
			b[i] = ')'
		case c == '"':
			b[i] = '\''
		default:
			b[i] = ' '
		}
	}
	return statement.Clean(string(b))
}

// ref16 is a reference subfield: 16x, no "/" (which separates subfields).
func ref16(s string) string {
	s = strings.ReplaceAll(X(s), "/", "-")
	s = strings.ReplaceAll(s, " ", "")
	return statement.Truncate(s, 16)
}

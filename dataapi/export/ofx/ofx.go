package ofx

import (
	"bufio"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"

	"github.com/bankfeed/bankfeed/dataapi/export/statement"
	"github.com/bankfeed/bankfeed/store"
)

// Dialect is the OFX flavour written.
type Dialect int

const (
	// OFX2 is OFX 2.2 XML in UTF-8, as its XML declaration says.
	OFX2 Dialect = iota
	// QBO is OFX 1.0.2 SGML in Windows-1252 with INTU.BID, for QuickBooks
	// Web Connect.
	QBO
	// QFX is OFX 1.0.2 SGML in Windows-1252 with INTU.BID, for Quicken.
	QFX
	// OFX1 is OFX 1.0.2 SGML in UTF-8, declared in its header
	// (ENCODING:UTF-8, CHARSET:NONE): what most banks send, and the one
	// OFX file every importer tried reads with its accents (Odoo's ofxparse
	// decodes an OFX 2 file as ASCII whatever its XML declaration says, and
	// libofx rejects character references).
	OFX1
)

type writer struct {
	*bufio.Writer
	sgml   bool
	cp1252 bool // text in Windows-1252, else UTF-8
	loc    *time.Location
	buf    []byte
}

// Write writes d in dialect dl. t must come from statement.Prove(ctx, d, false).
func Write(ctx context.Context, w io.Writer, d *statement.Document, t statement.Totals, dl Dialect) error {
	x := &writer{Writer: bufio.NewWriterSize(w, 64<<10), sgml: dl != OFX2, cp1252: dl == QBO || dl == QFX, loc: store.Toronto()}
	cc := d.Account.Type == store.AccountCreditCard
	switch {
	case x.cp1252:
		x.WriteString("OFXHEADER:100\r\nDATA:OFXSGML\r\nVERSION:102\r\nSECURITY:NONE\r\nENCODING:USASCII\r\nCHARSET:1252\r\nCOMPRESSION:NONE\r\nOLDFILEUID:NONE\r\nNEWFILEUID:NONE\r\n\r\n")
	case x.sgml:
		x.WriteString("OFXHEADER:100\r\nDATA:OFXSGML\r\nVERSION:102\r\nSECURITY:NONE\r\nENCODING:UTF-8\r\nCHARSET:NONE\r\nCOMPRESSION:NONE\r\nOLDFILEUID:NONE\r\nNEWFILEUID:NONE\r\n\r\n")
	default:
		x.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="no"?>` + "\n")
		x.WriteString(`<?OFX OFXHEADER="200" VERSION="220" SECURITY="NONE" OLDFILEUID="NONE" NEWFILEUID="NONE"?>` + "\n")
	}
	x.open("OFX")
	x.open("SIGNONMSGSRSV1")
	x.open("SONRS")
	x.status()
	x.leaf("DTSERVER", x.date(d.Created))
	x.leaf("LANGUAGE", language(d.Lang))
	x.open("FI")
	x.leaf("ORG", statement.Truncate(d.Bank.Name, 32))
	x.leaf("FID", statement.Truncate(d.Bank.RoutingID, 32))
	x.close("FI")
	if x.cp1252 && d.QBOIntuBID != "" {
		x.leaf("INTU.BID", d.QBOIntuBID) // Intuit extension, not in the OFX 2 schema
	}
	x.close("SONRS")
	x.close("SIGNONMSGSRSV1")

	msgs, trnrs, rs := "BANKMSGSRSV1", "STMTTRNRS", "STMTRS"
	if cc {
		msgs, trnrs, rs = "CREDITCARDMSGSRSV1", "CCSTMTTRNRS", "CCSTMTRS"
	}
	x.open(msgs)
	x.open(trnrs)
	x.leaf("TRNUID", statement.Truncate(d.StatementID, 36))
	x.status()
	x.open(rs)
	x.leaf("CURDEF", d.Currency())
	if cc {
		x.open("CCACCTFROM")
		x.leaf("ACCTID", AccountID(d.Ref()))
		x.close("CCACCTFROM")
	} else {
		x.open("BANKACCTFROM")
		x.leaf("BANKID", statement.Truncate(d.Bank.RoutingID, 9))
		x.leaf("ACCTID", AccountID(d.Ref()))
		x.leaf("ACCTTYPE", accountType(d.Account.Type))
		x.close("BANKACCTFROM")
	}
	x.open("BANKTRANLIST")
	x.leaf("DTSTART", x.date(statement.StartOfDay(d.PeriodStart, x.loc)))
	x.leaf("DTEND", x.date(statement.EndOfDay(d.PeriodEnd, x.loc)))
	err := d.Each(ctx, false, func(tx store.Transaction) error {
		x.transaction(tx)
		return nil
	})
	if err != nil {
		return fmt.Errorf("ofx: stream entries: %w", err)
	}
	x.close("BANKTRANLIST")
	asOf := statement.EndOfDay(d.PeriodEnd, x.loc)
	if d.Kind == statement.KindIntraday && d.Created.Before(asOf) {
		asOf = d.Created
	}
	x.open("LEDGERBAL")
	x.leaf("BALAMT", statement.FormatCents(t.Closing))
	x.leaf("DTASOF", x.date(asOf))
	x.close("LEDGERBAL")
	if d.HasAvailable {
		x.open("AVAILBAL")
		x.leaf("BALAMT", statement.FormatCents(t.ClosingAvailable))
		x.leaf("DTASOF", x.date(asOf))
		x.close("AVAILBAL")
	}
	x.close(rs)
	x.close(trnrs)
	x.close(msgs)
	x.close("OFX")
	if err := x.Flush(); err != nil {
		return fmt.Errorf("ofx: write: %w", err)
	}
	return nil
}

func (x *writer) transaction(tx store.Transaction) {
	c, _ := statement.Cents(tx.Amount)
	if tx.Direction == store.Debit {
		c = -c
	}
	x.open("STMTTRN")
	x.leaf("TRNTYPE", TransactionType(tx))
	x.leaf("DTPOSTED", businessDate(tx.BusinessDate))
	if !tx.TransactionAt.IsZero() {
		x.leaf("DTUSER", x.date(tx.TransactionAt))
	}
	x.buf = statement.AppendCents(x.buf[:0], c, '.')
	x.leaf("TRNAMT", string(x.buf))
	x.leaf("FITID", tx.ID)
	if tx.CheckNumber != "" {
		x.leaf("CHECKNUM", statement.Truncate(tx.CheckNumber, 12))
	}
	if ref := cmp.Or(tx.CustomerReference, tx.BankReference); ref != "" {
		x.leaf("REFNUM", statement.Truncate(ref, 32))
	}
	desc := statement.Clean(tx.Description)
	name := statement.Clean(cmp.Or(tx.Payee, tx.Counterparty, desc))
	if name != "" {
		x.leaf("NAME", statement.Truncate(name, 32))
	}
	memo := desc
	if m := statement.Clean(tx.Memo); m != "" {
		memo = statement.Clean(desc + " " + m)
	}
	if memo != "" && memo != name {
		x.leaf("MEMO", statement.Truncate(memo, 255))
	}
	x.close("STMTTRN")
}

// TransactionType is the OFX TRNTYPE of an entry.
func TransactionType(tx store.Transaction) string {
	c := tx.Code
	switch {
	case c.Family == "CCHQ" || c.BAI == "475":
		return "CHECK"
	case c.SubFamily == "CHRG" || c.BAI == "698":
		return "SRVCHG"
	case c.SubFamily == "INTR" || c.BAI == "354":
		return "INT"
	case c.Family == "RDDT":
		return "DIRECTDEBIT"
	case c.SubFamily == "DMCT" && tx.Direction == store.Credit:
		return "DIRECTDEP"
	case c.SubFamily == "XBCT" || c.Family == "ICDT":
		return "XFER"
	case c.SubFamily == "POSD":
		return "POS"
	case tx.Direction == store.Credit:
		return "CREDIT"
	}
	return "DEBIT"
}

func accountType(t store.AccountType) string {
	switch t {
	case store.AccountSavings:
		return "SAVINGS"
	case store.AccountLineOfCredit, store.AccountLoan:
		return "CREDITLINE"
	}
	return "CHECKING"
}

func language(lang string) string {
	if lang == "fr" {
		return "FRA"
	}
	return "ENG"
}

// businessDate is DTPOSTED: the entry's business date at 12:00 UTC, with
// the offset written out (20250305120000.000[0:GMT]). Readers convert
// DTPOSTED to UTC, to their own zone, or ignore the offset; noon UTC is
// the same calendar day for all of them from UTC-12 to UTC+11, whereas the
// posting time with Toronto's offset put evening entries on the next day
// (issue 13 §4). DTUSER keeps the moment the customer acted.
func businessDate(d store.Date) string {
	return statement.Compact(d) + "120000.000[0:GMT]"
}

// AccountID is ACCTID, at most 22 characters (OFX 2.2 §11.3.1 and OFX
// 1.0.2: A-22), and never cut (a cut ID matches no account in the API):
// an ID that fits is written whole; a generated one ("acc_" + 20
// characters, store.NewID) without its "acc_" prefix, which a client adds
// back; any other longer ID as 22 characters of its SHA-256 in base32,
// stable across exports.
func AccountID(id string) string {
	if len(id) <= maxAcctID {
		return id
	}
	if rest, ok := strings.CutPrefix(id, "acc_"); ok && len(rest) <= maxAcctID {
		return rest
	}
	sum := sha256.Sum256([]byte(id))
	return strings.ToLower(base32.StdEncoding.EncodeToString(sum[:]))[:maxAcctID]
}

const maxAcctID = 22

// date is an OFX date-time with milliseconds and the bank's offset and
// zone name: 20250303091500.000[-5:EST].
func (x *writer) date(t time.Time) string {
	t = t.In(x.loc)
	name, off := t.Zone()
	h := off / 3600
	return t.Format("20060102150405.000") + "[" + strconv.Itoa(h) + ":" + name + "]"
}

func (x *writer) status() {
	x.open("STATUS")
	x.leaf("CODE", "0")
	x.leaf("SEVERITY", "INFO")
	x.close("STATUS")
}

func (x *writer) open(name string) {
	x.WriteByte('<')
	x.WriteString(name)
	x.WriteString(">\n")
}

// text writes character data: & < > escaped, control characters as
// spaces, and the rest in the file's declared encoding so that readers get
// the letters (issue 13 §4). QBO and QFX declare ENCODING:USASCII with
// CHARSET:1252, so they are written in Windows-1252, which carries French
// accents and the dashes (Intuit's readers expect it); only characters
// 1252 lacks are transliterated. The others are UTF-8, as declared.
// Character references (&#233;) are not used: libofx, GnuCash's reader,
// rejects them.
func (x *writer) text(s string) {
	for _, r := range s {
		switch {
		case r == '&':
			x.WriteString("&amp;")
		case r == '<':
			x.WriteString("&lt;")
		case r == '>':
			x.WriteString("&gt;")
		case r < 0x20 && r != '\t' && r != '\n' && r != '\r':
			x.WriteByte(' ')
		case r < 0x80:
			x.WriteByte(byte(r))
		case !x.cp1252:
			x.WriteRune(r)
		default:
			if b, ok := charmap.Windows1252.EncodeRune(r); ok && r != utf8.RuneError {
				x.WriteByte(b)
			} else {
				x.WriteString(statement.ASCII(string(r)))
			}
		}
	}
}

func (x *writer) close(name string) {
	x.WriteString("</")
	x.WriteString(name)
	x.WriteString(">\n")
}

// leaf writes an element; SGML leaves are not closed.
func (x *writer) leaf(name, value string) {
	x.WriteByte('<')
	x.WriteString(name)
	x.WriteByte('>')
	x.text(value)
	if !x.sgml {
		x.WriteString("</")
		x.WriteString(name)
		x.WriteByte('>')
	}
	x.WriteByte('\n')
}

package camt

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/bankfeed/bankfeed/dataapi/export/statement"
	"github.com/bankfeed/bankfeed/store"
)

// Message is a camt message type and version.
type Message struct {
	Name    string // "camt.053.001.02"
	report  bool   // camt.052
	version int    // 2 or 8
}

// The supported messages.
var (
	Statement02 = Message{Name: "camt.053.001.02", version: 2}
	Statement08 = Message{Name: "camt.053.001.08", version: 8}
	Report02    = Message{Name: "camt.052.001.02", report: true, version: 2}
	Report08    = Message{Name: "camt.052.001.08", report: true, version: 8}
)

// Pending reports whether the message carries pending (PDNG) entries.
func (m Message) Pending() bool { return m.report }

// Namespace is the message's XML namespace.
func (m Message) Namespace() string { return "urn:iso:std:iso:20022:tech:xsd:" + m.Name }

type writer struct {
	*bufio.Writer
	m   Message
	d   *statement.Document
	t   statement.Totals
	loc *time.Location
	ccy string
	buf []byte
}

// Write writes d as message m. t must come from statement.Prove(ctx, d,
// m.Pending()).
func Write(ctx context.Context, w io.Writer, d *statement.Document, t statement.Totals, m Message) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	x := &writer{Writer: bw, m: m, d: d, t: t, loc: store.Toronto(), ccy: d.Currency()}
	x.header()
	err := d.Each(ctx, m.Pending(), func(tx store.Transaction) error {
		x.entry(tx)
		return nil
	})
	if err != nil {
		return fmt.Errorf("camt: stream entries: %w", err)
	}
	x.footer()
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("camt: write: %w", err)
	}
	return nil
}

func (x *writer) open(name string)  { x.WriteByte('<'); x.WriteString(name); x.WriteByte('>') }
func (x *writer) close(name string) { x.WriteString("</"); x.WriteString(name); x.WriteByte('>') }
func (x *writer) elem(name, text string) {
	statement.Elem(x.Writer, name, text)
}

func (x *writer) dateTime(t time.Time) string { return t.In(x.loc).Format("2006-01-02T15:04:05-07:00") }

func (x *writer) amount(name string, cents int64) {
	x.WriteByte('<')
	x.WriteString(name)
	x.WriteString(` Ccy="`)
	x.WriteString(x.ccy)
	x.WriteString(`">`)
	x.buf = statement.AppendCents(x.buf[:0], statement.Abs(cents), '.')
	x.Write(x.buf)
	x.close(name)
}

func (x *writer) plain(name string, cents int64) {
	x.open(name)
	x.buf = statement.AppendCents(x.buf[:0], statement.Abs(cents), '.')
	x.Write(x.buf)
	x.close(name)
}

func indicator(cents int64) string {
	if cents < 0 {
		return "DBIT"
	}
	return "CRDT"
}

func (x *writer) header() {
	d := x.d
	root, block := "BkToCstmrStmt", "Stmt"
	if x.m.report {
		root, block = "BkToCstmrAcctRpt", "Rpt"
	}
	x.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	x.WriteString(`<Document xmlns="` + x.m.Namespace() + `">` + "\n")
	x.open(root)
	x.WriteString("\n<GrpHdr>")
	x.elem("MsgId", statement.Truncate(d.StatementID, 35))
	x.elem("CreDtTm", x.dateTime(d.Created))
	x.WriteString("<MsgPgntn><PgNb>1</PgNb><LastPgInd>true</LastPgInd></MsgPgntn>")
	x.WriteString("</GrpHdr>\n")
	x.open(block)
	x.elem("Id", statement.Truncate(d.StatementID, 35))
	x.elem("ElctrncSeqNb", strconv.Itoa(d.Seq()))
	x.elem("CreDtTm", x.dateTime(d.Created))
	x.WriteString("<FrToDt>")
	x.elem("FrDtTm", x.dateTime(statement.StartOfDay(d.PeriodStart, x.loc)))
	x.elem("ToDtTm", x.dateTime(statement.EndOfDay(d.PeriodEnd, x.loc)))
	x.WriteString("</FrToDt>\n")
	x.account()
	if x.m.report {
		x.balance("OPBD", x.t.Opening, d.PeriodStart)
		x.balance("ITBD", x.t.Closing, d.PeriodEnd)
		if d.HasAvailable {
			x.balance("ITAV", x.t.ClosingAvailable, d.PeriodEnd)
		}
	} else {
		x.balance("OPBD", x.t.Opening, d.PeriodStart)
		x.balance("CLBD", x.t.Closing, d.PeriodEnd)
		if d.HasAvailable {
			x.balance("CLAV", x.t.ClosingAvailable, d.PeriodEnd)
		}
	}
	x.summary()
}

func (x *writer) account() {
	d := x.d
	x.WriteString("<Acct><Id><Othr>")
	x.elem("Id", statement.Truncate(d.Ref(), 34))
	x.WriteString("</Othr></Id>")
	x.elem("Ccy", x.ccy)
	if n := statement.Clean(d.Account.Nickname); n != "" {
		x.elem("Nm", statement.Truncate(n, 70))
	}
	if b := statement.Clean(d.Business); b != "" {
		x.WriteString("<Ownr>")
		x.elem("Nm", statement.Truncate(b, 140))
		x.WriteString("</Ownr>")
	}
	x.WriteString("<Svcr><FinInstnId>")
	if d.Bank.BIC != "" {
		if x.m.version == 2 {
			x.elem("BIC", d.Bank.BIC)
		} else {
			x.elem("BICFI", d.Bank.BIC)
		}
	}
	if d.Bank.Name != "" {
		x.elem("Nm", statement.Truncate(d.Bank.Name, 140))
	}
	x.WriteString("</FinInstnId></Svcr></Acct>\n")
}

func (x *writer) balance(code string, cents int64, day store.Date) {
	x.WriteString("<Bal><Tp><CdOrPrtry>")
	x.elem("Cd", code)
	x.WriteString("</CdOrPrtry></Tp>")
	x.amount("Amt", cents)
	x.elem("CdtDbtInd", indicator(cents))
	x.WriteString("<Dt>")
	x.elem("Dt", string(day))
	x.WriteString("</Dt></Bal>\n")
}

// summary states the booked entries' counts and sums; pending entries of a
// camt.052 are listed but not summarised, as they do not move the booked
// balance.
func (x *writer) summary() {
	t := x.t
	x.WriteString("<TxsSummry><TtlNtries>")
	x.elem("NbOfNtries", strconv.Itoa(t.Count))
	x.plain("Sum", t.Credits+t.Debits)
	if x.m.version == 2 {
		x.plain("TtlNetNtryAmt", t.Net())
		x.elem("CdtDbtInd", indicator(t.Net()))
	} else {
		x.WriteString("<TtlNetNtry>")
		x.plain("Amt", t.Net())
		x.elem("CdtDbtInd", indicator(t.Net()))
		x.WriteString("</TtlNetNtry>")
	}
	x.WriteString("</TtlNtries><TtlCdtNtries>")
	x.elem("NbOfNtries", strconv.Itoa(t.CreditCount))
	x.plain("Sum", t.Credits)
	x.WriteString("</TtlCdtNtries><TtlDbtNtries>")
	x.elem("NbOfNtries", strconv.Itoa(t.DebitCount))
	x.plain("Sum", t.Debits)
	x.WriteString("</TtlDbtNtries></TxsSummry>\n")
}

func (x *writer) entry(tx store.Transaction) {
	cents, _ := statement.Cents(tx.Amount)
	ind := "CRDT"
	if tx.Direction == store.Debit {
		ind = "DBIT"
	}
	sts := "BOOK"
	if tx.Status == store.Pending {
		sts = "PDNG"
	}
	x.WriteString("<Ntry>")
	x.amount("Amt", cents)
	x.elem("CdtDbtInd", ind)
	if x.m.version == 2 {
		x.elem("Sts", sts)
	} else {
		x.WriteString("<Sts>")
		x.elem("Cd", sts)
		x.WriteString("</Sts>")
	}
	x.WriteString("<BookgDt>")
	x.elem("Dt", string(tx.BusinessDate))
	x.WriteString("</BookgDt>")
	if tx.ValueDate != "" {
		x.WriteString("<ValDt>")
		x.elem("Dt", string(tx.ValueDate))
		x.WriteString("</ValDt>")
	}
	x.elem("AcctSvcrRef", statement.Truncate(tx.ID, 35))
	x.bankCode(tx.Code)

	x.WriteString("<NtryDtls><TxDtls>")
	x.WriteString("<Refs>")
	if tx.BankReference != "" {
		x.elem("AcctSvcrRef", statement.Truncate(tx.BankReference, 35))
	}
	endToEnd := tx.CustomerReference
	if endToEnd == "" {
		endToEnd = "NOTPROVIDED"
	}
	x.elem("EndToEndId", statement.Truncate(endToEnd, 35))
	if tx.CheckNumber != "" {
		x.elem("ChqNb", statement.Truncate(tx.CheckNumber, 35))
	}
	x.WriteString("</Refs>")
	if x.m.version == 8 {
		x.amount("Amt", cents)
		x.elem("CdtDbtInd", ind)
	}
	if party := statement.Clean(cmp.Or(tx.Payee, tx.Counterparty)); party != "" {
		role := "Cdtr" // we paid them
		if tx.Direction == store.Credit {
			role = "Dbtr" // they paid us
		}
		x.WriteString("<RltdPties>")
		x.open(role)
		if x.m.version == 8 {
			x.WriteString("<Pty>")
		}
		x.elem("Nm", statement.Truncate(party, 140))
		if x.m.version == 8 {
			x.WriteString("</Pty>")
		}
		x.close(role)
		x.WriteString("</RltdPties>")
	}
	desc := statement.Clean(tx.Description)
	if desc != "" {
		x.WriteString("<RmtInf>")
		for rest := desc; rest != ""; {
			part := statement.Truncate(rest, 140)
			x.elem("Ustrd", part)
			rest = rest[len(part):]
		}
		x.WriteString("</RmtInf>")
	}
	if memo := statement.Clean(tx.Memo); memo != "" {
		x.elem("AddtlTxInf", statement.Truncate(memo, 500))
	}
	x.WriteString("</TxDtls></NtryDtls>")
	if desc != "" {
		x.elem("AddtlNtryInf", statement.Truncate(desc, 500))
	}
	x.WriteString("</Ntry>\n")
}

// bankCode writes BkTxCd: the ISO domain/family/sub-family when known
// ("not available" codes otherwise, as the element is mandatory) and the
// BAI2 code as proprietary code.
func (x *writer) bankCode(c store.BankTransactionCode) {
	dom, fam, sub := c.Domain, c.Family, c.SubFamily
	if dom == "" || fam == "" || sub == "" {
		dom, fam, sub = "PMNT", "NTAV", "NTAV"
	}
	x.WriteString("<BkTxCd><Domn>")
	x.elem("Cd", dom)
	x.WriteString("<Fmly>")
	x.elem("Cd", fam)
	x.elem("SubFmlyCd", sub)
	x.WriteString("</Fmly></Domn>")
	if c.BAI != "" {
		x.WriteString("<Prtry>")
		x.elem("Cd", c.BAI)
		x.elem("Issr", "BAI")
		x.WriteString("</Prtry>")
	}
	x.WriteString("</BkTxCd>")
}

func (x *writer) footer() {
	if x.m.report {
		x.WriteString("</Rpt>\n</BkToCstmrAcctRpt>\n</Document>\n")
	} else {
		x.WriteString("</Stmt>\n</BkToCstmrStmt>\n</Document>\n")
	}
}

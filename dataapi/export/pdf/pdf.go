package pdf

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/go-pdf/fpdf"

	"github.com/bankfeed/bankfeed/dataapi/export/statement"
	"github.com/bankfeed/bankfeed/store"
)

// MaxEntries caps a PDF's entries (pages are held in memory until written).
const MaxEntries = 10000

// Options tune rendering.
type Options struct {
	// Uncompressed leaves page streams readable (tests search their text).
	Uncompressed bool
}

type labels struct {
	title, holder, account, period, currency, created                         string
	opening, credits, debits, closing, available, date, desc, ref, debit      string
	credit, balance, totals, page, of, proof, noEntries, statementID, entries string
	thousands, decimal                                                        string
}

var en = labels{
	title: "Account statement", holder: "Account holder", account: "Account", period: "Period", currency: "Currency",
	created: "Issued", opening: "Opening balance", credits: "Total credits", debits: "Total debits", closing: "Closing balance",
	available: "Available balance", date: "Date", desc: "Description", ref: "Reference", debit: "Debit", credit: "Credit",
	balance: "Balance", totals: "Totals", page: "Page", of: "of", proof: "Opening balance + credits - debits = closing balance",
	noEntries: "No transactions in this period.", statementID: "Statement", entries: "entries",
	thousands: ",", decimal: ".",
}

var fr = labels{
	title: "Relevé de compte", holder: "Titulaire", account: "Compte", period: "Période", currency: "Devise",
	created: "Émis le", opening: "Solde d'ouverture", credits: "Total des crédits", debits: "Total des débits", closing: "Solde de clôture",
	available: "Solde disponible", date: "Date", desc: "Description", ref: "Référence", debit: "Débit", credit: "Crédit",
	balance: "Solde", totals: "Totaux", page: "Page", of: "de", proof: "Solde d'ouverture + crédits - débits = solde de clôture",
	noEntries: "Aucune opération pendant cette période.", statementID: "Relevé", entries: "opérations",
	thousands: "\u00a0", decimal: ",",
}

// An entry's row: rowHeight mm for one line, lineHeight more per wrapped
// line; pages break bottomMargin mm above the edge.
const (
	rowHeight    = 5.0
	lineHeight   = 3.6
	bottomMargin = 18.0
)

// Column widths in mm on a Letter page with 15 mm margins (186 mm usable).
var cols = []float64{22, 74, 30, 20, 20, 20}

// Write renders d. t must come from statement.Prove(ctx, d, false) and
// count at most MaxEntries entries.
func Write(ctx context.Context, w io.Writer, d *statement.Document, t statement.Totals, opt Options) error {
	if t.Count > MaxEntries {
		return &statement.TooLargeError{Format: "pdf", Entries: t.Count, Limit: MaxEntries}
	}
	l := en
	if d.Lang == "fr" {
		l = fr
	}
	loc := store.Toronto()
	p := fpdf.New("P", "mm", "Letter", "")
	p.SetCompression(!opt.Uncompressed)
	p.SetCreationDate(d.Created)
	p.SetModificationDate(d.Created)
	p.SetCatalogSort(true)
	p.SetTitle(l.title+" "+d.StatementID, true)
	p.SetAuthor(d.Bank.Name, true)
	p.SetProducer("bankfeed", false)
	if d.Lang == "fr" {
		p.SetLang("fr-CA")
	} else {
		p.SetLang("en-CA")
	}
	p.SetMargins(15, 15, 15)
	p.SetAutoPageBreak(true, bottomMargin)
	p.AliasNbPages("{nb}")
	tr := p.UnicodeTranslatorFromDescriptor("") // cp1252: the core fonts' encoding (accents, — and œ included)

	money := func(c int64) string { return tr(format(c, l)) }
	account := d.Account.DisplayNumber
	if account == "" {
		account = store.MaskAccountNumber(d.Account.Number)
	}
	accountLine := strings.TrimSpace(strings.Join(nonEmpty(d.Account.Nickname, d.Account.ProductName, account), " - "))

	tableHeader := func() {
		p.SetFont("Helvetica", "B", 8)
		p.SetFillColor(230, 233, 240)
		for i, h := range []string{l.date, l.desc, l.ref, l.debit, l.credit, l.balance} {
			align := "L"
			if i >= 3 {
				align = "R"
			}
			p.CellFormat(cols[i], 6, tr(h), "B", 0, align, true, 0, "")
		}
		p.Ln(-1)
		p.SetFont("Helvetica", "", 8)
	}
	inTable := false
	p.SetHeaderFunc(func() {
		p.SetFont("Helvetica", "B", 13)
		p.CellFormat(110, 7, tr(d.Bank.Name), "", 0, "L", false, 0, "")
		p.SetFont("Helvetica", "B", 11)
		p.CellFormat(76, 7, tr(l.title), "", 1, "R", false, 0, "")
		p.SetFont("Helvetica", "", 8.5)
		p.CellFormat(110, 4.5, tr(l.holder+": "+d.Business), "", 0, "L", false, 0, "")
		p.CellFormat(76, 4.5, tr(l.period+": "+string(d.PeriodStart)+" - "+string(d.PeriodEnd)), "", 1, "R", false, 0, "")
		p.CellFormat(110, 4.5, tr(l.account+": "+accountLine), "", 0, "L", false, 0, "")
		p.CellFormat(76, 4.5, tr(l.currency+": "+d.Currency()), "", 1, "R", false, 0, "")
		p.Ln(2)
		p.Line(15, p.GetY(), 201, p.GetY())
		p.Ln(2)
		if inTable {
			tableHeader()
		}
	})
	p.SetFooterFunc(func() {
		p.SetY(-13)
		p.SetFont("Helvetica", "", 7.5)
		p.CellFormat(93, 5, tr(l.statementID+" "+d.StatementID+" - "+l.created+" "+d.Created.In(loc).Format("2006-01-02 15:04 MST")), "", 0, "L", false, 0, "")
		p.CellFormat(93, 5, tr(l.page+" "+strconv.Itoa(p.PageNo())+" "+l.of+" {nb}"), "", 0, "R", false, 0, "")
	})
	p.AddPage()

	// Summary box.
	p.SetFont("Helvetica", "", 9)
	row := func(label, value string, bold bool) {
		style := ""
		if bold {
			style = "B"
		}
		p.SetFont("Helvetica", style, 9)
		p.CellFormat(60, 5.5, tr(label), "", 0, "L", false, 0, "")
		p.CellFormat(40, 5.5, value, "", 1, "R", false, 0, "")
	}
	row(l.opening+" ("+string(d.PeriodStart)+")", money(t.Opening), true)
	row(l.credits+" ("+strconv.Itoa(t.CreditCount)+")", money(t.Credits), false)
	row(l.debits+" ("+strconv.Itoa(t.DebitCount)+")", money(-t.Debits), false)
	row(l.closing+" ("+string(d.PeriodEnd)+")", money(t.Closing), true)
	if d.HasAvailable {
		row(l.available, money(t.ClosingAvailable), false)
	}
	p.Ln(4)

	inTable = true
	tableHeader()
	running := t.Opening
	fill := false
	err := d.Each(ctx, false, func(tx store.Transaction) error {
		c, _ := statement.Cents(tx.Amount)
		debit, credit := "", ""
		if tx.Direction == store.Debit {
			running -= c
			debit = money(c)
		} else {
			running += c
			credit = money(c)
		}
		desc := statement.Clean(tx.Description)
		if payee := statement.Clean(cmp.Or(tx.Payee, tx.Counterparty)); payee != "" && !strings.Contains(desc, payee) {
			desc += " - " + payee
		}
		ref := cmp.Or(tx.CheckNumber, tx.CustomerReference, tx.BankReference)
		if fill {
			p.SetFillColor(246, 247, 250)
		}
		// Description and reference wrap onto as many lines as they need
		// (a statement is a record: nothing is cut); the row grows.
		cells := [][]string{{string(tx.BusinessDate)}, wrap(p, tr(desc), cols[1]-1), wrap(p, tr(ref), cols[2]-1),
			{debit}, {credit}, {money(running)}}
		lines := 1
		for _, c := range cells {
			lines = max(lines, len(c))
		}
		h := rowHeight + lineHeight*float64(lines-1)
		if _, pageH := p.GetPageSize(); p.GetY()+h > pageH-bottomMargin {
			p.AddPage() // the header repeats the table's
		}
		x, y := p.GetX(), p.GetY()
		for i, c := range cells {
			align := "L"
			if i >= 3 {
				align = "R"
			}
			p.SetXY(x, y)
			p.CellFormat(cols[i], h, "", "", 0, align, fill, 0, "") // the row's background
			for j, s := range c {
				p.SetXY(x, y+lineHeight*float64(j))
				p.CellFormat(cols[i], rowHeight, s, "", 0, align, false, 0, "")
			}
			x += cols[i]
		}
		p.SetXY(15, y+h)
		fill = !fill
		if err := p.Error(); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("pdf: render entries: %w", err)
	}
	if t.Count == 0 {
		p.SetFont("Helvetica", "I", 8)
		p.CellFormat(186, 6, tr(l.noEntries), "", 1, "L", false, 0, "")
	}
	inTable = false
	p.SetFont("Helvetica", "B", 8)
	p.CellFormat(cols[0]+cols[1]+cols[2], 6, tr(l.totals+" ("+strconv.Itoa(t.Count)+" "+l.entries+")"), "T", 0, "L", false, 0, "")
	p.CellFormat(cols[3], 6, money(t.Debits), "T", 0, "R", false, 0, "")
	p.CellFormat(cols[4], 6, money(t.Credits), "T", 0, "R", false, 0, "")
	p.CellFormat(cols[5], 6, money(t.Closing), "T", 1, "R", false, 0, "")
	p.Ln(3)
	p.SetFont("Helvetica", "", 8)
	p.CellFormat(186, 5, tr(l.proof+": "+money(t.Opening)+" + "+money(t.Credits)+" - "+money(t.Debits)+" = "+money(t.Closing)), "", 1, "L", false, 0, "")

	if err := p.Output(w); err != nil {
		return fmt.Errorf("pdf: write: %w", err)
	}
	return nil
}

// format writes cents with the language's grouping and decimal marks.
func format(c int64, l labels) string {
	neg := c < 0
	if neg {
		c = -c
	}
	whole := strconv.FormatInt(c/100, 10)
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteString(l.thousands)
		}
		b.WriteRune(r)
	}
	b.WriteString(l.decimal)
	b.WriteString(fmt.Sprintf("%02d", c%100))
	return b.String()
}

// wrap splits s (already in the font's single-byte encoding, which
// fpdf's SplitText cannot take) into lines at most width mm wide, at
// spaces; a word wider than a line is broken.
func wrap(p *fpdf.Fpdf, s string, width float64) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(s) {
		if c := line + " " + w; line != "" && p.GetStringWidth(c) <= width {
			line = c
			continue
		}
		if line != "" {
			lines = append(lines, line)
		}
		for p.GetStringWidth(w) > width {
			n := len(w) - 1
			for n > 1 && p.GetStringWidth(w[:n]) > width {
				n--
			}
			lines = append(lines, w[:n])
			w = w[n:]
		}
		line = w
	}
	return append(lines, line)
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

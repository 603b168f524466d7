package csv

import (
	"bufio"
	"cmp"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strings"

	"github.com/bankfeed/bankfeed/dataapi/export/statement"
	"github.com/bankfeed/bankfeed/store"
)

// Profile is a column layout.
type Profile string

// The profiles (the media type's profile parameter).
const (
	Default     Profile = "default"
	QuickBooks3 Profile = "quickbooks3"
	QuickBooks4 Profile = "quickbooks4"
	Xero        Profile = "xero"
)

// Profiles lists the supported profiles.
func Profiles() []Profile { return []Profile{Default, QuickBooks3, QuickBooks4, Xero} }

// Header is a profile's header row.
func (p Profile) Header() []string {
	switch p {
	case QuickBooks3:
		return []string{"Date", "Description", "Amount"}
	case QuickBooks4:
		// Credit = money into the account, Debit = money out (the bank
		// statement's sense); QuickBooks asks which is which on import.
		return []string{"Date", "Description", "Credit", "Debit"}
	case Xero:
		return []string{"Date", "Amount", "Payee", "Description", "Reference", "Cheque Number"}
	}
	return []string{"Date", "Value Date", "Transaction ID", "Type", "Description", "Payee", "Memo",
		"Reference", "Customer Reference", "Cheque Number", "BAI Code", "Amount", "Balance", "Currency"}
}

// Write writes d's posted entries in profile p. t must come from
// statement.Prove(ctx, d, false).
func Write(ctx context.Context, w io.Writer, d *statement.Document, t statement.Totals, p Profile) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	cw := csv.NewWriter(bw)
	cw.UseCRLF = true
	header := p.Header()
	if err := cw.Write(header); err != nil {
		return fmt.Errorf("csv: write: %w", err)
	}
	row := make([]string, len(header))
	running := t.Opening
	var amt []byte
	err := d.Each(ctx, false, func(tx store.Transaction) error {
		c, _ := statement.Cents(tx.Amount)
		signed := c
		if tx.Direction == store.Debit {
			signed = -c
		}
		running += signed
		amt = statement.AppendCents(amt[:0], signed, '.')
		desc := statement.Clean(tx.Description)
		// Who was paid, or for a credit who paid: the bank records a
		// credit's payer as Counterparty, and an empty Payee column left
		// every credit without one (issue 13 §4).
		payee := statement.Clean(cmp.Or(tx.Payee, tx.Counterparty))
		switch p {
		case QuickBooks3, QuickBooks4:
			// QuickBooks reads only these columns: the payee and the
			// reference the customer matches invoices with go in the
			// description.
			if payee != "" && !strings.Contains(desc, payee) {
				desc = strings.TrimSpace(desc + " - " + payee)
			}
			if ref := statement.Clean(cmp.Or(tx.CustomerReference, tx.BankReference)); ref != "" && !strings.Contains(desc, ref) {
				desc = strings.TrimSpace(desc + " - Ref " + ref)
			}
			row[0], row[1] = string(tx.BusinessDate), text(desc)
			if p == QuickBooks3 {
				row[2] = string(amt)
			} else if tx.Direction == store.Credit {
				row[2], row[3] = statement.FormatCents(c), "" // zero cells stay blank
			} else {
				row[2], row[3] = "", statement.FormatCents(c)
			}
		case Xero:
			ref := tx.CustomerReference
			if ref == "" {
				ref = tx.ID
			}
			row[0], row[1], row[2], row[3], row[4], row[5] = string(tx.BusinessDate), string(amt),
				text(payee), text(desc), text(ref), tx.CheckNumber
		default:
			row[0], row[1], row[2], row[3] = string(tx.BusinessDate), string(tx.ValueDate), tx.ID, string(tx.Direction)
			row[4], row[5], row[6] = text(desc), text(payee), text(statement.Clean(tx.Memo))
			row[7], row[8], row[9], row[10] = text(tx.BankReference), text(tx.CustomerReference), tx.CheckNumber, tx.Code.BAI
			row[11], row[12], row[13] = string(amt), statement.FormatCents(running), d.Currency()
		}
		return cw.Write(row)
	})
	if err != nil {
		return fmt.Errorf("csv: stream entries: %w", err)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("csv: write: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("csv: write: %w", err)
	}
	return nil
}

// text defuses spreadsheet formulas in free-text cells (OWASP CSV
// injection): a cell starting with = + - @ or a control character gets a
// leading apostrophe.
func text(s string) string {
	if s != "" && strings.IndexByte("=+-@\t\r", s[0]) >= 0 {
		return "'" + s
	}
	return s
}

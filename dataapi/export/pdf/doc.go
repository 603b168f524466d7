// Package pdf renders a statement.Document as the statement a business
// files: bank and holder names, the account (masked number only), the
// period, opening and closing balances, every posted entry with its running
// balance, totals, and "Page X of N" on every page, with English or French
// labels.
//
// go-pdf/fpdf builds the whole document in memory before writing it, so a
// PDF is capped at MaxEntries entries (about 220 pages, under 40 MiB); larger ranges are
// refused by the caller with a *statement.TooLargeError and belong in a
// streaming format (CSV, camt.053, BAI2). statement.Prove must have passed
// first.
package pdf

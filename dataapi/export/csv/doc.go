// Package csv writes a statement.Document's posted entries as RFC 4180 CSV
// (CRLF, quoted as needed, UTF-8, ISO dates, signed amounts with a decimal
// point) in the layout a profile names: Default (every field and a running
// balance), QuickBooks3 (Date, Description, Amount), QuickBooks4 (Date,
// Description, Credit, Debit) or Xero (Date, Amount, Payee, Description,
// Reference, Cheque Number). Text cells that a spreadsheet would run as a
// formula (= + - @ first) get a leading apostrophe.
//
// It streams entries through encoding/csv; statement.Prove must have
// passed first.
package csv

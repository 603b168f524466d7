// Package ofx writes a statement.Document as an OFX bank (or credit card)
// statement response: OFX 2.2 XML (application/x-ofx), and OFX 1.0.2 SGML
// for QuickBooks Web Connect (QBO) and Quicken (QFX) with the bank's Intuit
// ID as INTU.BID. FITID is our transactionId, stable across downloads, so
// importers de-duplicate; dates carry the bank's offset ([-5:EST]).
//
// It streams entries into a bufio.Writer; statement.Prove must have passed
// first. The SGML dialects are written in ASCII (accents transliterated):
// Intuit's readers expect USASCII/1252, and ASCII is valid in both.
package ofx

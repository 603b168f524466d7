// Package ofx writes a statement.Document as an OFX bank (or credit card)
// statement response: OFX 1.0.2 SGML in UTF-8 and OFX 2.2 XML
// (application/x-ofx), and OFX 1.0.2 SGML in Windows-1252 for QuickBooks
// Web Connect (QBO) and Quicken (QFX) with the bank's Intuit ID as
// INTU.BID. FITID is our transactionId, stable across downloads, so
// importers de-duplicate; DTPOSTED is the business date at noon UTC, which
// no reader moves to another day; other dates carry the bank's offset
// ([-5:EST]). ACCTID is never cut (see AccountID).
//
// It streams entries into a bufio.Writer; statement.Prove must have passed
// first.
package ofx

// Package bai2 writes a statement.Document as a BAI2 (BTRS) balance and
// transaction report: one 01 file header, one group (02 … 98) per business
// date of the period with the account's 03 summary (010/015 ledger, 040/045
// available when known, 100/400 credit and debit totals with item counts),
// one 16 record per posted entry (88 continuations past 80 characters), and
// 49/98/99 trailers whose control totals and record counts add up.
//
// It streams entries into a bufio.Writer; it never holds them all. It owns
// the record layout only: statement.Prove must have passed first.
package bai2

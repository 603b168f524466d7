// Package camt writes ISO 20022 cash-management messages from a
// statement.Document: camt.053 (BankToCustomerStatement, .001.02 and
// .001.08) and camt.052 (BankToCustomerAccountReport, .001.02 and .001.08,
// pending entries allowed). It streams: one Ntry at a time into a
// bufio.Writer, never the whole document in memory.
//
// It owns the XML layout only; the balance proof (statement.Prove) must
// have passed before Write is called, and Write trusts its Totals.
package camt

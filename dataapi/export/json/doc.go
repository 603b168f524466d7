// Package json writes a statement.Document as FDX-shaped JSON: one object
// with the statement (period, balances, counts and sums) and its
// transactions (the data API's transaction members), streamed one
// transaction at a time.
//
// statement.Prove must have passed first; the summary figures come from it.
package json

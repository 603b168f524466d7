// Package statement is the format-neutral model every export writer reads:
// a Document (bank, holder, account, period, balances and a stream of
// entries), the balance proof that checks it before a byte is written
// (Prove), and small helpers the writers share (cents, dates, text
// clean-up).
//
// It must not import dataapi, echo or any store backend, and must never
// hold all entries in memory: entries are only ever streamed.
package statement

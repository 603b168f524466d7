// Package demo fills an empty bankfeed database with a deterministic demo
// data set: two business groups with legal entities, service agreements,
// accounts, 13 months of business transactions, daily balances, monthly
// statements that reconcile, the people who administer each group, an
// accounting software user awaiting first sign-in, and one demo vendor
// client. With Options.Accounts set it generates large data sets instead
// (e.g. 1,000 accounts × 10,000 transactions) for benchmarks.
//
// It writes only through store.Store and owns no schema. Everything except
// secrets derives from math/rand/v2 seeded by Options.Seed, so the same seed
// and the same Now give the same accounts, transactions and IDs. Passwords
// and the client secret are random; they are returned (Credentials) so the
// caller can print them, and must never be logged.
//
// It must not import any project package other than store, and must not
// seed a database that already holds business groups.
package demo

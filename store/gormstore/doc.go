// Package gormstore is the only code that talks to a database: it implements
// store.Store with gorm on SQLite (pure Go, github.com/glebarez/sqlite, so the
// binary builds with CGO_ENABLED=0) and on PostgreSQL (gorm.io/driver/postgres).
//
// It owns the schema and its versioned, embedded migrations, the unexported
// row types that map to and from the store types, the translation of driver
// errors to store.ErrNotFound/ErrConflict (errors.go, nowhere else), and the
// store-wide, commit-ordered change numbers (Seq) behind snapshot paging and
// the change feed.
//
// It imports no project package but store, holds no domain rules (those live
// in store), and never logs SQL arguments: they carry token signatures and
// password hashes.
//
// Storage conventions: times are BIGINT microseconds since the Unix epoch
// (UTC by construction; 0 is the zero time), money is BIGINT cents (exact on
// both databases, summable in SQL), lists and grants are JSON text, dates are
// TEXT YYYY-MM-DD.
//
// SQLite runs in WAL mode with foreign keys on, synchronous=NORMAL (an OS
// crash may lose the last commits but never corrupts the file), one writer
// connection whose transactions begin IMMEDIATE (writers queue in Go rather
// than fail with "database is locked") and a pool of read-only readers.
package gormstore

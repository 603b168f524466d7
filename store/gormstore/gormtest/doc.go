// Package gormtest is test support for packages whose tests run on the real
// store (like net/http/httptest): a fresh database of the test's own per
// call — a SQLite file in t.TempDir(), or, when BANKFEED_TEST_POSTGRES_DSN
// names a PostgreSQL server, a newly created database that is dropped when
// the test ends (never anyone else's). A database's name starts with the
// caller's prefix, so a leftover one says which tests made it. OpenOutage
// puts such a store behind a database outage the test makes and ends.
//
// It is for _test.go files only: it opens and creates real databases and
// fails tests. No non-test package may import it (.ci/run checks this), and
// feature packages' tests use it without importing gormstore's internals.
package gormtest

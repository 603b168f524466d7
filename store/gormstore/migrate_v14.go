package gormstore

// tokensFillFactorV14 leaves half of each new page of tokens free on
// PostgreSQL. Every token is updated once after its insert (a refresh
// token when it is rotated, its access token when it is ended with it) and
// a row is about 1.4 KB, so on full pages those updates moved the row to
// another page and wrote a new entry in each of the table's three indexes:
// 32 % of them were heap-only (HOT) under a refresh load, and a refresh
// grant wrote 6.1 KB of WAL. With half a page free every such update stays
// on its page (100 % HOT) and a refresh grant writes 3.7 KB (issue 15; the
// table is about 30 % larger). Pages written before keep their fill until
// the janitor's deletions free them. SQLite has no fill factor.
func tokensFillFactorV14(d dialect) []string {
	if d != dialectPostgres {
		return nil
	}
	return []string{`ALTER TABLE tokens SET (fillfactor = 50)`}
}

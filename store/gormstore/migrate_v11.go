package gormstore

// languageV11 (issue 13 §4): the language of the bank's documents for a
// legal entity, so a PDF statement reads in the holder's language rather
// than in whatever language the fetching software's Accept-Language names.
func languageV11(dialect) []string {
	return []string{`ALTER TABLE legal_entities ADD COLUMN language TEXT NOT NULL DEFAULT ''`}
}

package gormstore

// jarV9 (issue 12 §4): require_signed_request_object (RFC 9101 §10.5 client
// metadata) makes a client's pushed authorization requests carry a request
// object signed with its registered key; other clients may still send one.
func jarV9(dialect) []string {
	return []string{
		`ALTER TABLE clients ADD COLUMN require_signed_request_object BOOLEAN NOT NULL DEFAULT FALSE`,
	}
}

package gormstore

// registrationV10 (issue 13 §3): dynamic client registration. A client has a
// status (a registered one is pending until an operator approves it; every
// existing client is active), the hash of its RFC 7592 registration access
// token and the registration metadata it gave (JSON). Initial access tokens
// are kept hashed with their expiry and remaining uses.
func registrationV10(dialect) []string {
	return []string{
		`ALTER TABLE clients ADD COLUMN status TEXT NOT NULL DEFAULT 'active'`,
		`ALTER TABLE clients ADD COLUMN registration_token_hash TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE clients ADD COLUMN registration TEXT NOT NULL DEFAULT ''`,
		`CREATE TABLE registration_tokens (
			id TEXT PRIMARY KEY,
			token_hash TEXT NOT NULL UNIQUE,
			expires_at BIGINT NOT NULL,
			uses_left BIGINT NOT NULL,
			created_by TEXT NOT NULL DEFAULT '',
			created_at BIGINT NOT NULL)`,
	}
}

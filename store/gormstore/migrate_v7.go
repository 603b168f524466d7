package gormstore

// dpopV7 (issue 12): per-client switches for sender-constrained tokens and
// native apps. dpop_bound_access_tokens (RFC 9449 §5.2 client metadata)
// makes every token of the client DPoP-bound; native_app allows the RFC 8252
// loopback port relaxation for that client only. DPoP proof jtis need no
// table of their own: they go into used_jtis, namespaced, swept by the
// janitor with the client-assertion jtis.
func dpopV7(dialect) []string {
	return []string{
		`ALTER TABLE clients ADD COLUMN dpop_bound_access_tokens BOOLEAN NOT NULL DEFAULT FALSE`,
		`ALTER TABLE clients ADD COLUMN native_app BOOLEAN NOT NULL DEFAULT FALSE`,
	}
}

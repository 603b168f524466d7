package gormstore

// mtlsV12 (issue 12 §2): mutual-TLS client authentication (RFC 8705 §2).
// A tls_client_auth client names the one subject DN or subject alternative
// name its CA-issued certificate must carry; a self_signed_tls_client_auth
// client needs no column (its certificate's key is one of its JWKS keys).
func mtlsV12(dialect) []string {
	return []string{
		`ALTER TABLE clients ADD COLUMN tls_client_auth_subject_dn TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE clients ADD COLUMN tls_client_auth_san_dns TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE clients ADD COLUMN tls_client_auth_san_uri TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE clients ADD COLUMN tls_client_auth_san_ip TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE clients ADD COLUMN tls_client_auth_san_email TEXT NOT NULL DEFAULT ''`,
	}
}

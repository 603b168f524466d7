package gormstore

// consentUniqueV15 makes "one connection per (user, client)" the
// database's own rule: at most one standing consent of a user and a client,
// by a unique partial index in place of migration 13's. ReplaceConsent
// kept the rule by taking an advisory lock before reading what to revoke,
// which needs the lock before the statement's snapshot. The consent form's
// one-statement Allow (AllowReadAuthFlow) cannot take it that early, so a
// consent that another authorization committed in between must fail its
// insert instead (issue 15). Pairs that broke the rule already (only a
// direct CreateConsent could make them) keep their newest consent; the
// others are revoked as ReplaceConsent would have revoked them, their
// tokens deactivated first while the pair still tells which they are.
func consentUniqueV15(dialect) []string {
	const older = `SELECT c.id FROM consents c WHERE c.revoked_at = 0 AND EXISTS (SELECT 1 FROM consents n
		WHERE n.user_id = c.user_id AND n.client_id = c.client_id AND n.revoked_at = 0
		AND (n.granted_at > c.granted_at OR (n.granted_at = c.granted_at AND n.id > c.id)))`
	return []string{
		`UPDATE tokens SET active = FALSE WHERE active AND request_id IN (` + older + `)`,
		`UPDATE consents SET revoked_at = COALESCE(NULLIF((SELECT max(n.granted_at) FROM consents n
			WHERE n.user_id = consents.user_id AND n.client_id = consents.client_id AND n.revoked_at = 0), 0), 1)
		WHERE id IN (` + older + `)`,
		`DROP INDEX consents_user_client`,
		`CREATE UNIQUE INDEX consents_user_client ON consents (user_id, client_id) WHERE revoked_at = 0`,
	}
}

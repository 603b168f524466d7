package gormstore

// consentIndexV13 indexes the one standing consent of a user and client.
// Every authorization revokes the user's standing consent of the client it
// replaces (activeConsentOf); consents_user's (user_id, granted_at) made
// that read every consent the user ever gave — for an accounting software
// user re-authorizing its vendors, thousands — and under load it became
// the flow's costliest statement (issue 15: 3.6 ms at 6,500 consents). The
// index is partial: revoked consents, the history, stay out of it.
func consentIndexV13(dialect) []string {
	return []string{
		`CREATE INDEX consents_user_client ON consents (user_id, client_id) WHERE revoked_at = 0`,
	}
}

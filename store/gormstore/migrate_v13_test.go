package gormstore

import (
	"strings"
	"testing"
)

// RunConsentIndexTests lets the external tests run testConsentIndex on a
// store from gormtest.
var RunConsentIndexTests = testConsentIndex

// testConsentIndex: with thousands of consents of one user, most of them
// revoked, the statement that revokes the user's standing consent of a
// client (ReplaceConsent's) finds it through consents_user_client on both
// databases, statistics gathered, instead of reading the user's history.
func testConsentIndex(t *testing.T, s *Store) {
	ctx := t.Context()
	db := s.w.WithContext(ctx)
	const seed = `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
		INSERT INTO consents (id, user_id, client_id, scopes, granted_at, expires_at, revoked_at, last_used_at)
		SELECT 'cns_' || i, 'usr_a', 'cl_' || (i % 10), 'accounts.read', i, 0, i + 1, 0 FROM n`
	if err := db.Exec(seed).Error; err != nil {
		t.Fatalf("seed consents: %v", err)
	}
	if err := db.Exec(`INSERT INTO consents (id, user_id, client_id, scopes, granted_at, expires_at, revoked_at, last_used_at)
		VALUES ('cns_standing', 'usr_a', 'cl_3', 'accounts.read', 5000, 0, 0, 0)`).Error; err != nil {
		t.Fatalf("seed the standing consent: %v", err)
	}
	if err := db.Exec("ANALYZE").Error; err != nil {
		t.Fatalf("analyze: %v", err)
	}
	stmt := "UPDATE consents SET revoked_at = ? WHERE " + activeConsentOf
	explain := "EXPLAIN "
	if s.dialect == dialectSQLite {
		explain = "EXPLAIN QUERY PLAN "
	}
	rows, err := db.Raw(explain+stmt, 6000, "usr_a", "cl_3").Rows()
	if err != nil {
		t.Fatalf("explain: %v", err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var plan []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for _, v := range vals {
			switch v := v.(type) {
			case string:
				plan = append(plan, v)
			case []byte:
				plan = append(plan, string(v))
			}
		}
	}
	if p := strings.Join(plan, "; "); !strings.Contains(p, "consents_user_client") {
		t.Errorf("revoking the standing consent does not use consents_user_client: %s", p)
	}
	res := db.Exec(stmt, 6000, "usr_a", "cl_3")
	if res.Error != nil || res.RowsAffected != 1 {
		t.Errorf("revoked %d consents (%v), want the standing one", res.RowsAffected, res.Error)
	}
}

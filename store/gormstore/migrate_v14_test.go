package gormstore

import (
	"fmt"
	"strings"
	"testing"

	"github.com/bankfeed/bankfeed/store"
)

// RunTokensFillFactorTests lets the external tests run testTokensFillFactor
// on a PostgreSQL store from gormtest.
var RunTokensFillFactorTests = testTokensFillFactor

// testTokensFillFactor: tokens the size a grant writes (a 1.25 KB stored
// request), inserted together as a load inserts them, then each ended as a
// rotation ends it, stay on the page they were written to (PostgreSQL's
// heap-only update: no new index entries), because migration 14 left room.
func testTokensFillFactor(t *testing.T, s *Store) {
	ctx := t.Context()
	db := s.w.WithContext(ctx)
	const n = 40
	recs := make([]store.TokenRecord, n)
	for i := range recs {
		recs[i] = store.TokenRecord{Kind: store.TokenAccess, Signature: fmt.Sprintf("sig-%03d", i), RequestID: fmt.Sprintf("req-%03d", i),
			ClientID: "cl_a", Active: true, TokenType: "bearer", Request: []byte(strings.Repeat("r", 1250))}
	}
	if err := s.CreateTokens(ctx, recs...); err != nil {
		t.Fatal(err)
	}
	page := func() map[string]string {
		var rows []struct{ Signature, Page string }
		if err := db.Raw(`SELECT signature, split_part(trim(both '()' from ctid::text), ',', 1) AS page FROM tokens`).Scan(&rows).Error; err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, r := range rows {
			m[r.Signature] = r.Page
		}
		return m
	}
	before := page()
	for _, r := range recs {
		if err := s.DeactivateToken(ctx, store.TokenAccess, r.Signature); err != nil {
			t.Fatal(err)
		}
	}
	moved := 0
	for sig, p := range page() {
		if before[sig] != p {
			moved++
		}
	}
	if moved > n/10 {
		t.Errorf("%d of %d ended tokens moved to another page (no room left on theirs)", moved, n)
	}
}

package gormstore_test

import (
	"testing"

	"github.com/bankfeed/bankfeed/store/gormstore"
)

// TestSQLiteConsentIndex and TestPostgresConsentIndex check migration 13;
// TestPostgresTokensFillFactor migration 14.
func TestSQLiteConsentIndex(t *testing.T) { gormstore.RunConsentIndexTests(t, newSQLite(t)) }

func TestPostgresConsentIndex(t *testing.T) { gormstore.RunConsentIndexTests(t, newPostgres(t)) }

// PostgreSQL only: SQLite has no fill factor.
func TestPostgresTokensFillFactor(t *testing.T) {
	gormstore.RunTokensFillFactorTests(t, newPostgres(t))
}

package gormstore_test

import (
	"testing"

	"github.com/bankfeed/bankfeed/store/gormstore"
)

// TestSQLiteOutboxIndexes and TestPostgresOutboxIndexes check migration 6.
func TestSQLiteOutboxIndexes(t *testing.T) { gormstore.RunOutboxIndexTests(t, newSQLite(t)) }

func TestPostgresOutboxIndexes(t *testing.T) { gormstore.RunOutboxIndexTests(t, newPostgres(t)) }

package gormstore_test

import (
	"testing"

	"github.com/bankfeed/bankfeed/store/gormstore"
)

// TestSQLiteOutboxCount and TestPostgresOutboxCount check the metrics'
// outbox count on both databases.
func TestSQLiteOutboxCount(t *testing.T) { gormstore.RunOutboxCountTests(t, newSQLite(t)) }

func TestPostgresOutboxCount(t *testing.T) { gormstore.RunOutboxCountTests(t, newPostgres(t)) }

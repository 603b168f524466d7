package gormstore_test

import (
	"testing"

	"github.com/bankfeed/bankfeed/store/gormstore"
	"github.com/bankfeed/bankfeed/store/gormstore/gormtest"
)

// TestFlowCommit: see testFlowCommit. The DSN sets synchronous_commit on
// for every connection, whatever the server's default (CI's is off), and
// the pool holds one connection, so a setting left behind would show.
func TestFlowCommit(t *testing.T) {
	dsn := gormtest.PostgresDSN(t, "flowcommit") + "&synchronous_commit=on"
	gormstore.RunFlowCommitTest(t, gormtest.Open(t, "flowcommit", gormstore.Config{DSN: dsn, MaxOpenConns: 1}))
}

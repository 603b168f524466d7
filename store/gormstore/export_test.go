package gormstore

// RunMigrationTests lets the external tests run the migration tests on a
// PostgreSQL store from gormtest, which this package's own tests cannot
// import (gormtest imports gormstore).
var RunMigrationTests = testMigrations

// RunQueryTests runs the query tests on a migrated store from gormtest.
var RunQueryTests = testQuery

// Package admintest is test support shared by the admin packages' tests
// (admin, admin/importer): a fresh, migrated store per test.
//
// It must not be imported by non-test code: it opens real databases and
// depends on store/gormstore, which admin itself must not import.
package admintest

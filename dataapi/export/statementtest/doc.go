// Package statementtest builds export documents for tests and benchmarks:
// a fixed, hand-checked demo statement (Fixture) and a generator of any
// number of entries in constant memory (Generated). It also holds the
// independent checks the format tests share.
//
// It must not be imported by production code.
package statementtest

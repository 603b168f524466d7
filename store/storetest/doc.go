// Package storetest is the conformance suite every store.Store backend
// passes: Run(t, newStore) runs a table of named sub-tests, each on a fresh
// store from newStore, covering CRUD of each entity, the sentinel errors,
// list order and keyset paging, time and money round trips, transactions
// that roll back whole, the change feed and snapshot paging, and the races
// the contract settles (one decider wins, one refresh-token rotation wins).
//
// It imports only store: the backend is injected as a constructor, so the
// suite never depends on gormstore.
package storetest

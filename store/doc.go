// Package store is bankfeed's domain: the bank's entities (business groups,
// legal entities, accounts, transactions, statements, users, job roles,
// account groups, approvals), the small interfaces that persist them, the
// sentinel errors every backend returns, and the pure rules (entitlements,
// maker-checker policy, account visibility).
//
// It must not import gorm, fosite, echo, net/http or any other project
// package: backends live in sub-packages (store/gormstore) and are injected
// by cmd; the conformance suite in store/storetest holds every backend to the
// contract documented here.
package store

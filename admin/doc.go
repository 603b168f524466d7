// Package admin is bankfeed's business administration API (/admin/v1) and
// the bank's operator API (/ops/v1).
//
// /admin/v1 is called by the bank's first-party online-banking front end on
// behalf of an ordinary business user (token scope "admin"). It owns the
// maker-checker workflow: every create, edit, delete or assignment becomes a
// pending store.ApprovalRequest and changes nothing else until a checker who
// holds the Approve right (and, for their own request, the self-approved
// right) approves it; approval re-validates and applies the change in one
// store transaction. It also serves notifications, the business group's
// connected applications (consents) and the audit log.
//
// /ops/v1 is called by the bank's own systems with client_credentials
// (scope "operator"): business groups, legal entities, service agreements,
// accounts, idempotent transaction batches, daily balances and day close
// (admin/feed holds that logic; admin/importer reads the same records from
// files).
//
// It writes RFC 9457 problems for its own routes and must not set the
// shared echo instance's HTTPErrorHandler. It imports only store and its own
// sub-packages: no gorm, fosite, authz, consent or dataapi.
package admin

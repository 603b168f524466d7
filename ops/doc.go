// Package ops is the bank's operator API (/ops/v1): the bank's direct
// writes, beside package admin's /admin/v1 for the businesses'
// administrators (one package per audience, issue 14).
//
// /ops/v1 is called by the bank's own systems with client_credentials
// (first-party, scope "operator"; anything else is a 401, or a 403
// insufficient-scope or not-operator): business groups, legal entities,
// service agreements, accounts (open, update, close, reopen; a new account
// is in no account group), current and daily balances, transaction batches
// (POST /ops/v1/transactions {transactions:[...]}: all or nothing, the bad
// row named in a 422 with "row", idempotent by (accountId, externalId)),
// pending removal, and day close (POST /ops/v1/accounts/{id}/close-day
// {businessDate}: freezes the day, and on the month's last weekday produces
// the reconciled monthly statement). ops/feed holds that logic;
// ops/importer reads the same records from files. Onboarding a business
// (POST /ops/v1/business-groups, .../{id}/administrators) goes through
// store's one path shared with the CLI and the demo. Its lists (business
// groups, legal entities, service agreements, accounts, transactions) are
// keyset-paged like /admin/v1's. GET /ops/v1/audit is the whole audit log,
// bank-level events (sign-ins of login IDs nobody holds) included, with
// /admin/v1/audit's filters and ?businessGroupId= ("" for the bank level).
// GET /ops/v1/outbox[?status=dead|pending] pages the notification outbox's
// dead (or pending) deliveries without payloads; POST
// /ops/v1/outbox/{id}/retry sends a dead one again (attempts back to 0,
// audited as outbox.delivery_retried). GET /ops/v1/clients/{id} and POST
// .../approve|reject decide on a client that registered itself. Every
// change is audited in its transaction under the business group it
// touches, with the client as actor.
//
// Errors are internal/apihttp's RFC 9457 problems, as /admin/v1's. The API
// is described exactly by its OpenAPI 3.1 document, openapi.yaml in this
// package, served as JSON without a token at /ops/v1/openapi.json (its
// reference at /ops/v1/docs); the tests check every exchange against it
// (internal/apihttp/openapitest).
//
// It imports only store, internal/apihttp, internal/apidocs, internal/audit
// and its own sub-packages: no gorm, fosite, authz, consent, dataapi,
// console or admin.
package ops

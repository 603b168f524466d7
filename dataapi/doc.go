// Package dataapi is bankfeed's read-only, FDX-shaped data API for
// accounting software (mounted under /fdx/v6): the customer behind a token,
// the accounts of the user's account group with their balances, paged
// snapshot-consistent transactions, the transaction change feed, statements
// and statement documents, exports of any range of business dates in the
// same formats, and the OpenAPI document that describes them.
//
// It owns the access decision of every request: the bearer token (through a
// TokenVerifier), the user, the consent, the job role's scopes and the
// account group are re-read from the store on each request, so an
// administrator's change applies to the very next call. An account outside
// the account group answers exactly like a missing one (404, FDX 701).
// Errors are RFC 9457 problems with the FDX members.
//
// It must not write anything but a consent's last use, must not import
// authz, consent, admin, config or a store backend, and must never log a
// token. Statement document formats other than JSON live in dataapi/export.
package dataapi

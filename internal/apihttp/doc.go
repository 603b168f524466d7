// Package apihttp is what bankfeed's two JSON APIs for the bank's people,
// /admin/v1 (package admin, the businesses' administrators) and /ops/v1
// (package ops, the bank's operators), write and read the same way: RFC
// 9457 problem documents (Problem, ToProblem, WriteProblem, Errors),
// strict JSON bodies (Decode), keyset pages (ReadPage, ListOf, Paginate),
// bearer and DPoP access tokens (Bearer), unknown routes and methods
// (CatchAll, NoRoute), the OpenAPI documents and their references
// (MountDocs), and the audit log's filters and shape (AuditFilter,
// AuditJSON).
//
// It imports store, internal/audit and internal/apidocs only: no feature
// package.
package apihttp

// Package admin is bankfeed's business administration API (/admin/v1) and
// the operations layer it shares with the administrators' console; the
// bank's operator API (/ops/v1) is package ops, beside it.
//
// /admin/v1 is called by the bank's first-party online-banking front end on
// behalf of an active ordinary business user (token scope "admin", first-
// party client; an accounting software user's token gets 403). The caller's
// rights are store.EffectiveGrants of the job role assigned in the chosen
// context: the business group overview, or a legal entity named by the
// X-Legal-Entity-ID header or ?context= (falling back to the overview
// assignment). Every operation checks store.Operation.Requirements and a
// 403 names the missing permission and right. Records of another business
// group are 404, exactly like missing ones. The context also bounds what
// the rights act on (store.Scope, issue 10 finding 4): in an entity's
// context, users, accounts, connections, assignments and requests of other
// entities (and the group-level users) are not listed, another entity's
// user is a 404, adding or removing another entity's account is a 422 (in
// a body) or 403, and a checker must reach what a request touches, judged
// at decision (403 out-of-context); job roles and account groups stay
// business-group-wide, and the audit log is read in the overview only.
//
// It owns the maker-checker workflow: every create, edit, delete or
// assignment becomes a pending store.ApprovalRequest (202) and changes
// nothing else until a checker who holds Approve on the request's
// permission (and, for their own request, the self-approved right) approves
// it; a job-role request that adds or removes self-approved rights also
// needs View and Edit on Manage self-approved permissions from its maker
// and Approve there from its checker (store.JobRoleAlsoExercises). Approval
// re-validates and applies the change in one store transaction with
// DecideApproval (of concurrent deciders one wins, the other gets 409; a
// target whose Version moved on gets 409 and the request stays pending);
// an accounting software user's assignment is refused (422) unless its role
// holds View on Account summary and Manage statements and nothing more, at
// submission and again at approval. Approving a user creation or a password
// reset returns the temporary password once, in the approve response, to
// the approver; it is stored only as an argon2id hash, never logged or
// audited, and the user must replace it at first sign-in. Approving a
// password reset or a deletion revokes the user's connections (consents
// and every token) in the same transaction: the vendor gets invalid_grant
// and must send the user through authorization again. Submissions notify
// the initiator and every user who may decide; decisions notify the
// initiator. With Config.Outbox, each notification's webhook and e-mail
// deliveries are written in the same transaction (package notify sends
// them). Every submission, decision, change and refusal is audited with
// actor, time, remote address and before/after.
//
//	GET  /admin/v1/permissions                       catalogue (en/fr), any caller
//	GET  /admin/v1/users[?accountingSoftware=&status=&includeDeleted=]
//	POST /admin/v1/users                             {loginId, displayName, email, accountingSoftware}
//	GET  /admin/v1/users/{id}
//	PATCH /admin/v1/users/{id}                       refuses changing accountingSoftware (article's instruction)
//	DELETE /admin/v1/users/{id}
//	POST /admin/v1/users/{id}/lock | unlock | reset-password
//	GET|POST /admin/v1/job-roles, GET|PATCH|DELETE /admin/v1/job-roles/{id}
//	     {name, description, grants:[{permission, rights:[..], selfApproved:[..]}], accountingSoftware}
//	GET  /admin/v1/accounts                          the group's accounts (masked), to build account groups
//	GET|POST /admin/v1/account-groups, GET|PATCH|DELETE /admin/v1/account-groups/{id}   {name, accountIds}
//	POST /admin/v1/account-groups/{id}/accounts      {accountId}
//	DELETE /admin/v1/account-groups/{id}/accounts/{accountId}
//	GET|POST /admin/v1/assignments, GET /admin/v1/assignments/{id}
//	     {userId, jobRoleId, accountGroupId, legalEntityId}
//	GET  /admin/v1/approvals[?status=pending&initiator=me], GET /admin/v1/approvals/{id}
//	POST /admin/v1/approvals/{id}/approve | reject {reason} | cancel
//	GET  /admin/v1/notifications[?unread=true], POST /admin/v1/notifications/{id}/read
//	GET  /admin/v1/connections[?active=true], DELETE /admin/v1/connections/{consentId}
//	GET  /admin/v1/audit[?actor=&target=&action=&outcome=&since=&until=]   action=signin.* is a prefix;
//	     the business's administrative events and its users' sign-ins and connections (issue 10 §5)
//
// Lists are keyset-paged: ?after=&limit= (1..1000, default 100) and the
// response {"items": [...], "next": "..."}: a page holds up to limit items
// that pass every filter, and next is present only when another follows.
//
// Errors are RFC 9457 application/problem+json (internal/apihttp, shared
// with /ops/v1) written for its own routes (it must not set the shared
// echo HTTPErrorHandler). Type
// URIs are "urn:bankfeed:problem:" + one of: bad-request (400),
// unauthorized (401, with WWW-Authenticate), insufficient-scope,
// not-first-party, accounting-software-user, user-not-active,
// missing-right (with "missing": {permission, title, right}), self-approval,
// not-initiator (403), not-found (404), method-not-allowed (405, with
// Allow naming the path's methods), conflict (409), too-large (413),
// unsupported-media-type (415), invalid (422, with "errors": [{field,
// message}]), unavailable (503, with Retry-After), internal (500, details
// only logged).
//
// The API is described exactly by an OpenAPI 3.1 document kept in
// admin/openapi (admin.yaml) and served as JSON, without a token, at
// /admin/v1/openapi.json (its reference at /admin/v1/docs); the tests check
// every exchange against it (internal/apihttp/openapitest).
//
// It imports only store, metrics, internal/apihttp, internal/audit and its
// own sub-packages: no gorm, fosite, authz, consent, dataapi or ops.
package admin

// Package console serves the business administrators' console under
// /business/ (issue 14): server-rendered pages (html/template, embedded
// assets, no JavaScript, English and French) for the help article's
// procedures — users, job roles, account groups, approvals, notifications
// and the audit log.
//
// The console owns no rule: every read and every change goes through the
// operations of package admin (admin.Server's exported methods), the same
// functions /admin/v1's JSON handlers call, so the two front ends cannot
// drift apart. It signs in through the bank's pages (package consent): it
// reads the same browser session cookie, checks each form's CSRF token
// against that session, and sends the same security headers.
package console

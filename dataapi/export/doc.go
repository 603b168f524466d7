// Package export renders an account's statement, or any range of business
// dates, in the formats accounting and ERP software import: PDF, FDX-shaped
// JSON, ISO 20022 camt.053/camt.052, BAI2, SWIFT MT940, OFX 2, QBO, QFX and
// CSV (default, QuickBooks and Xero layouts). It owns content negotiation
// (Negotiate), the format registry (Formats) and Write, which proves the
// balances before a byte is written.
//
// Each format is a small streaming writer in its own sub-package, reading
// a format-neutral statement.Document. export must not import dataapi,
// echo or a store backend: the caller builds the Document (with a snapshot
// entry stream) and maps the typed errors to HTTP problems.
package export

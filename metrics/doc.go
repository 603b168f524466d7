// Package metrics is bankfeed's Prometheus instrumentation: one registry of
// its own (github.com/prometheus/client_golang) with typed helpers the
// feature packages call through their Config (a nil *Metrics is a no-op),
// the HTTP middleware, and the internal listener's handler (/metrics and,
// when enabled, net/http/pprof). Labels are bounded sets — route templates,
// grant types, RFC 6749 error codes, outcomes, export formats — and never
// carry an ID of a user, account, token, consent or client.
package metrics

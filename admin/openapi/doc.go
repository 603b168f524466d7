// Package openapi holds the OpenAPI 3.1 documents of the business
// administration API (/admin/v1, admin.yaml) and the bank's operator API
// (/ops/v1, ops.yaml), kept in the repository as YAML and embedded; admin
// serves them as JSON at /admin/v1/openapi.json and /ops/v1/openapi.json
// and its tests validate every response against them. It imports only
// internal/apidocs.
package openapi

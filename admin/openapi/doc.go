// Package openapi holds the OpenAPI 3.1 document of the business
// administration API (/admin/v1, admin.yaml), kept in the repository as
// YAML and embedded; admin serves it as JSON at /admin/v1/openapi.json and
// its tests validate every response against it (the /ops/v1 document is
// package ops's openapi.yaml). It imports only internal/apidocs.
package openapi

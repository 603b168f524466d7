// Package apidocs serves a human-readable API reference for an OpenAPI
// document: an HTML page that Redoc's standalone bundle renders in the
// browser. The bundle is embedded in the binary (redoc/, with its licence
// and a note of its version and source), so the page loads nothing from
// another origin, and its Content-Security-Policy allows only the
// server's own origin.
//
// It knows nothing of the APIs it documents: dataapi and admin mount
// Page and Script on their own routes.
package apidocs

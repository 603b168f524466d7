package store

import "context"

// TokenConsumer is an optional extension of TokenStore that authz uses when
// the backend provides it: single use of authorization codes under
// concurrency (two simultaneous exchanges of one code must not both win).
type TokenConsumer interface {
	// ConsumeToken deactivates an active token record and returns it as it
	// was. Of concurrent callers exactly one succeeds; the others get
	// ErrConflict, as does a record already inactive. ErrNotFound if missing.
	ConsumeToken(ctx context.Context, kind TokenKind, signature string) (TokenRecord, error)
}

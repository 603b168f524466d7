package apihttp

import (
	"context"
	"errors"
	"fmt"

	"github.com/bankfeed/bankfeed/store"
)

// Lookup gets a record by ID; a missing one is a 404 problem naming what.
func Lookup[T any](ctx context.Context, what, id string, get func(context.Context, string) (T, error)) (T, error) {
	v, err := get(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return v, NotFound(what, id)
	} else if err != nil {
		return v, fmt.Errorf("get %s: %w", what, err)
	}
	return v, nil
}

// MapConflict is err with the store's ErrConflict worded as a 409; a
// problem passes as it is.
func MapConflict(err error, format string, args ...any) error {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	if errors.Is(err, store.ErrConflict) {
		return Conflict(format, args...)
	}
	return fmt.Errorf("store: %w", err)
}

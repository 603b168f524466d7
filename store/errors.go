package store

import (
	"errors"
	"fmt"
)

// Sentinel errors. Backends wrap them with context; callers test with errors.Is.
var (
	// ErrNotFound: the record does not exist, or the caller may not know it exists.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a unique key is taken, or a compare-and-swap lost a race
	// (e.g. a request already decided, a version that moved on).
	ErrConflict = errors.New("conflict")
	// ErrInvalid: input breaks a rule; wrapped in a *RuleError with the detail.
	ErrInvalid = errors.New("invalid")
	// ErrForbidden: the actor lacks a right; wrapped in a *RightError.
	ErrForbidden = errors.New("forbidden")
	// ErrUnavailable: the storage could not be reached or used (connection
	// refused or lost, pool closed, timed out, disk I/O). It says nothing of
	// the request: callers answer 503 with Retry-After, never "not found" or
	// "bad credentials", and must not act on it as a refusal (no lockout,
	// no revocation).
	ErrUnavailable = errors.New("storage unavailable")
)

// RuleError is a domain rule broken by input. Field names the offending input
// (may be empty); Message is safe to show to the user.
type RuleError struct {
	Field   string
	Message string
}

func (e *RuleError) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// Unwrap lets errors.Is(err, ErrInvalid) match.
func (e *RuleError) Unwrap() error { return ErrInvalid }

// Invalid builds a *RuleError.
func Invalid(field, format string, args ...any) error {
	return &RuleError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// RightError names the permission and right an actor is missing.
type RightError struct {
	Permission Permission
	Right      Right
}

func (e *RightError) Error() string {
	return fmt.Sprintf("missing right %s on permission %q", e.Right, e.Permission.Title())
}

// Unwrap lets errors.Is(err, ErrForbidden) match.
func (e *RightError) Unwrap() error { return ErrForbidden }

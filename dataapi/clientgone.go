package dataapi

import (
	"context"
	"errors"
	"syscall"
)

// clientGone reports whether err ended a request whose client went away:
// the request's context cancelled (net/http cancels it when the connection
// closes) or a write to a connection the client closed (broken pipe,
// reset). Nothing reaches that client and it is nobody's failure, so it is
// logged at INFO, never as an internal error (issue 15); the access log
// records the request as 499.
func clientGone(ctx context.Context, err error) bool {
	return errors.Is(ctx.Err(), context.Canceled) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET)
}

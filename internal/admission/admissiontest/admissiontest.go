// Package admissiontest gives tests of the gated routes a gate that turns
// every request away, so that they can tell which routes go through it and
// check each route's busy answer.
package admissiontest

import (
	"context"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/internal/admission"
)

// Full returns a gate of one slot, held until the test ends: a request
// through it waits a millisecond and is turned away (its Refused counts
// it).
func Full(t testing.TB) *admission.Gate {
	t.Helper()
	g := admission.New(1, admission.Queue{Wait: time.Millisecond})
	release, err := g.Hold(context.Background())
	if err != nil {
		t.Fatalf("hold the gate's slot: %v", err)
	}
	t.Cleanup(release)
	return g
}

package gormstore

import (
	"context"
	"math/bits"
	"strings"
	"sync"
	"time"

	"github.com/bankfeed/bankfeed/store"
)

// The batches of the token grant reads of introspection (GetTokenGrant,
// GetTokenGrantState) outside a transaction on PostgreSQL (readBatch).
// One batch at a time, measured: 32 workers introspecting on 2 CPUs made
// batches of two to three reads, and PostgreSQL's CPU per introspection
// fell from 0.035 ms to 0.016 (0.025 with two batches at once). 64 keys
// bound a statement's arguments and rows. A batch's statement is bounded,
// unlike a lone read's: one that hangs (a connection lost without a word)
// holds up every read queued behind it, which then fail as an outage
// rather than wait for good.
//
// The data API's ReadTokenAccess is not batched: tried twice (its keys in
// arrays, then in VALUES lists), its pages per second did not move (the
// page's own statement is most of PostgreSQL's work) and its p99 rose, by
// a tenth and then by a third.
const (
	grantBatchSlots   = 1
	grantBatchMost    = 64
	grantBatchTimeout = 10 * time.Second
)

// newGrantBatches makes grantBatches, with grantBatchStatements.
func (s *Store) newGrantBatches() {
	for _, which := range []int{grantStanding, grantStandingNoRequest} {
		bySize := grantBatchStatements()[which]
		s.grantBatches[which] = &readBatch[store.TokenKey, tokenGrantRow]{slots: grantBatchSlots, most: grantBatchMost,
			timeout: grantBatchTimeout, statement: bySize[0], log: s.log,
			run: func(ctx context.Context, keys []store.TokenKey) (map[store.TokenKey]tokenGrantRow, error) {
				size := bits.Len(uint(len(keys) - 1)) // 2^size ≥ len(keys)
				args := make([]any, 0, 2<<size)
				for i := range 1 << size {
					k := keys[min(i, len(keys)-1)]
					args = append(args, string(k.Kind), k.Signature)
				}
				out := make(map[store.TokenKey]tokenGrantRow, len(keys))
				err := s.query(ctx, bySize[size], args, func(sc rowScanner) error {
					var r tokenGrantRow
					if err := sc.Scan(columnPointers(&r.T, &r.C, &r.S)...); err != nil {
						return err
					}
					out[store.TokenKey{Kind: store.TokenKind(r.T.Kind), Signature: r.T.Signature}] = r
					return nil
				})
				return out, err
			}}
	}
}

// grantBatchStatements are the batches' statements, by grantStanding and
// grantStandingNoRequest, then by log2 of the number of keys:
// tokenGrantQueries' statement with the keys joined from a VALUES list
// instead of the one key's WHERE.
//
// The list holds a power of two of keys, the last repeated to fill it:
// seven statements, each planned for its own number of rows. With the
// keys in arrays (unnest) instead, PostgreSQL's generic plan guesses ten
// rows, so it kept the prepared statement on custom plans and planned it
// anew on every execution, once the tokens table had grown: measured after
// refresh and flow runs (64 k tokens), 0.06 ms of PostgreSQL per
// introspection against 0.046 unbatched and 0.019 with generic plans
// (testGrantBatchPlans).
var grantBatchStatements = sync.OnceValue(func() (out [3][]string) {
	for _, which := range []int{grantStanding, grantStandingNoRequest} {
		text, ok := strings.CutSuffix(tokenGrantQueries()[which], tokenGrantParts().where)
		if !ok || !strings.Contains(text, " FROM tokens tk ") {
			panic("gormstore: the token grant read is not FROM tokens tk … WHERE its key") // a programming error
		}
		for n := 1; n <= grantBatchMost; n *= 2 {
			keys := strings.TrimSuffix(strings.Repeat("(?, ?), ", n), ", ")
			out[which] = append(out[which], strings.Replace(text, " FROM tokens tk ", " FROM (VALUES "+keys+") AS k(kind, signature)"+
				" JOIN tokens tk ON tk.kind = k.kind AND tk.signature = k.signature ", 1))
		}
	}
	return out
})

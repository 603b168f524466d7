package demo

import (
	"hash/fnv"
	"math/rand/v2"
)

// idAlphabet is NewID's character set in ASCII order, so that an ordinal
// encoded with it sorts the way the number does.
const idAlphabet = "234567abcdefghijklmnopqrstuvwxyz"

// ids draws IDs of the same shape as store.NewID (prefix + 20 characters)
// from a seeded generator, so that a seed reproduces them.
type ids struct{ r *rand.Rand }

func (g ids) newID(prefix string) string {
	b := make([]byte, 0, len(prefix)+21)
	b = append(b, prefix...)
	b = append(b, '_')
	for range 20 {
		b = append(b, idAlphabet[g.r.IntN(len(idAlphabet))])
	}
	return string(b)
}

// txnID is "txn_" + the entry's ordinal within its account and business
// date (4 sortable characters) + 16 random ones. Lists are ordered by
// (BusinessDate, ID), so this keeps them in posting order and running
// balances read top to bottom.
func (g ids) txnID(ordinal int) string {
	b := make([]byte, 0, 24)
	b = append(b, "txn_"...)
	for shift := 15; shift >= 0; shift -= 5 {
		b = append(b, idAlphabet[(ordinal>>shift)&31])
	}
	for range 16 {
		b = append(b, idAlphabet[g.r.IntN(len(idAlphabet))])
	}
	return string(b)
}

// stream returns a generator for one named, numbered stream of the seed,
// independent of how much any other stream consumed.
func stream(seed int64, name string, n int) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(name))
	return rand.New(rand.NewPCG(uint64(seed), h.Sum64()^uint64(n)*0x9e3779b97f4a7c15))
}

// between returns a uniform integer in [lo, hi].
func between(r *rand.Rand, lo, hi int64) int64 {
	if hi <= lo {
		return lo
	}
	return lo + r.Int64N(hi-lo+1)
}

// pick returns a random element of xs.
func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

package dataapi

import (
	"context"

	"github.com/bankfeed/bankfeed/dataapi/export"
	"github.com/bankfeed/bankfeed/store"
)

// countEntries wraps d's entries to count those the file of format f
// holds: posted ones, and pending ones when both the document and the
// format take them. export.Write streams the entries twice (the proof,
// then the file); the count is the last pass's, the one written.
func countEntries(d export.Document, f export.Format) (export.Document, func() int) {
	n := 0
	inner := d.Entries
	if inner == nil {
		return d, func() int { return 0 }
	}
	pending := d.IncludePending && f.Pending
	d.Entries = func(ctx context.Context, yield func(store.Transaction) error) error {
		pass := 0
		err := inner(ctx, func(t store.Transaction) error {
			if t.Status == store.Posted || pending {
				pass++
			}
			return yield(t)
		})
		n = pass
		return err
	}
	return d, func() int { return n }
}

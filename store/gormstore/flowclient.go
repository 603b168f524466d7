package gormstore

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/bankfeed/bankfeed/store"
)

// flowClientRow is one joined row of GetAuthFlowClient, scanned in column
// order.
type flowClientRow struct {
	F authFlowRow
	C clientRow
}

// flowClientQuery is built once from the row types, as grantQuery.
var flowClientQuery = sync.OnceValue(func() string {
	return "SELECT " + prefixedColumns("f", &authFlowRow{}) + ", " + prefixedColumns("c", &clientRow{}) +
		" FROM auth_flows f JOIN clients c ON c.id = f.client_id" +
		" WHERE f.id = ? AND (f.expires_at = 0 OR f.expires_at > ?)"
})

// GetAuthFlowClient is store.FlowStore's: one inner join when both records
// are there (the consent pages read the flow, then its client); without a
// row, the flow and the client are read one at a time to tell which is
// missing.
func (s *Store) GetAuthFlowClient(ctx context.Context, id string) (store.AuthFlow, store.Client, error) {
	var rows []flowClientRow
	err := s.query(ctx, flowClientQuery(), []any{id, micros(s.nowUTC())}, func(sc rowScanner) error {
		rows = append(rows, flowClientRow{})
		r := &rows[len(rows)-1]
		return sc.Scan(slices.Concat(columnPointers(&r.F), columnPointers(&r.C))...)
	})
	if err != nil {
		return store.AuthFlow{}, store.Client{}, wrap("get auth flow client", err)
	}
	if len(rows) != 1 {
		f, err := s.GetAuthFlow(ctx, id)
		if err != nil {
			return store.AuthFlow{}, store.Client{}, err
		}
		c, err := s.GetClient(ctx, f.ClientID)
		if errors.Is(err, store.ErrNotFound) {
			return f, store.Client{}, nil
		}
		return f, c, err
	}
	f, err := authFlowMap.toDomain(rows[0].F)
	if err != nil {
		return store.AuthFlow{}, store.Client{}, err
	}
	c, err := clientMap.toDomain(rows[0].C)
	if err != nil {
		return store.AuthFlow{}, store.Client{}, err
	}
	return f, c, nil
}

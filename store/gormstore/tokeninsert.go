package gormstore

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/bankfeed/bankfeed/store"
)

// tokenInsertSQL is tokenRow's INSERT, written out: gorm's Create walked
// the row's thirteen fields by reflection and built the statement on every
// call, and a refresh grant writes two tokens, a full flow five (issue 15).
const tokenInsertSQL = `INSERT INTO tokens (kind, signature, request_id, client_id, subject, active, requested_at, expires_at, ` +
	`first_used_at, access_signature, token_type, key_thumbprint, request) VALUES `

// tokenInsertRow is one row's placeholders in tokenInsertSQL.
const tokenInsertRow = `(?,?,?,?,?,?,?,?,?,?,?,?,?)`

// insertTokens writes rows in one statement; a row already under a kind
// and signature is store.ErrConflict, as insert reports it, and then none
// is kept: inside a transaction the caller's rollback undoes the others,
// and outside one the statement runs in its own (InTx).
func (s *Store) insertTokens(ctx context.Context, rows []tokenRow) error {
	q := tokenInsertSQL + tokenInsertRow + strings.Repeat(","+tokenInsertRow, len(rows)-1) + ` ON CONFLICT DO NOTHING`
	args := tokenInsertArgs(nil, rows)
	insert := func(ctx context.Context) error {
		n, err := s.exec(ctx, q, args)
		if err != nil {
			return wrap("create token", err)
		}
		if n != int64(len(rows)) {
			return fmt.Errorf("gormstore: create token: %w: already exists", store.ErrConflict)
		}
		return nil
	}
	if len(rows) == 1 || s.txFrom(ctx) != nil {
		return insert(ctx)
	}
	return s.InTx(ctx, insert)
}

// tokenInsertArgs appends rows' values to args in tokenColumns' order.
func tokenInsertArgs(args []any, rows []tokenRow) []any {
	args = slices.Grow(args, 13*len(rows))
	for _, r := range rows {
		args = append(args, r.Kind, r.Signature, r.RequestID, r.ClientID, r.Subject, r.Active,
			r.Requested, r.Expires, r.FirstUsed, r.AccessSignature, r.TokenType, r.KeyThumbprint, r.Request)
	}
	return args
}

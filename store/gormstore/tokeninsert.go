package gormstore

import (
	"context"
	"fmt"

	"github.com/bankfeed/bankfeed/store"
)

// tokenInsertSQL is tokenRow's INSERT, written out: gorm's Create walked
// the row's thirteen fields by reflection and built the statement on every
// call, and a refresh grant writes two tokens, a full flow five (issue 15).
const tokenInsertSQL = `INSERT INTO tokens (kind, signature, request_id, client_id, subject, active, requested_at, expires_at, ` +
	`first_used_at, access_signature, token_type, key_thumbprint, request) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING`

// insertToken writes r; a row already under its kind and signature is
// store.ErrConflict, as insert reports it.
func (s *Store) insertToken(ctx context.Context, r *tokenRow) error {
	res := s.write(ctx).Exec(tokenInsertSQL, r.Kind, r.Signature, r.RequestID, r.ClientID, r.Subject, r.Active,
		r.Requested, r.Expires, r.FirstUsed, r.AccessSignature, r.TokenType, r.KeyThumbprint, r.Request)
	if res.Error != nil {
		return wrap("create token", res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("gormstore: create token: %w: already exists", store.ErrConflict)
	}
	return nil
}

// writeQuery is query for a statement that writes and returns rows
// (UPDATE … RETURNING): on the transaction in ctx, else the writer.
func (s *Store) writeQuery(ctx context.Context, text string, args []any, each func(rowScanner) error) error {
	rows, err := s.write(ctx).Raw(text, args...).Rows()
	if err != nil {
		return err
	}
	defer rows.Close()
	return eachRow(rows, each)
}

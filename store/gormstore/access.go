package gormstore

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/bankfeed/bankfeed/store"
)

var _ store.AccessReader = (*Store)(nil)

// accessRow is one joined row of ReadAccess, scanned in column order.
type accessRow struct {
	T      tokenRow // ReadTokenAccess only
	C      consentRow
	U      userRow
	A      assignmentRow
	R      jobRoleRow
	G      accountGroupRow
	X      accountRow
	MaxSeq int64
}

// accessQueries are the statements of ReadAccess ([0]) and ReadTokenAccess
// ([1]), without ([…][0]) and with ([…][1]) an account, built once from the
// row types so that a column added to one of them is read without touching
// this file. With an account, the group's list is not sent back (400 IDs
// are 10 kB): its membership rows answer.
var accessQueries = sync.OnceValue(func() (out [2][2]string) {
	for t, byToken := range []bool{false, true} {
		for i, withAccount := range []bool{false, true} {
			groupCols := prefixedColumns("g", &accountGroupRow{})
			if withAccount {
				groupCols = strings.Replace(groupCols, "g.account_ids AS", "'' AS", 1)
			}
			q := "SELECT "
			if byToken {
				q += prefixedColumns("tk", &tokenRow{}) + ", "
			}
			q += prefixedColumns("c", &consentRow{}) + ", " + prefixedColumns("u", &userRow{}) + ", " +
				prefixedColumns("a", &assignmentRow{}) + ", " + prefixedColumns("r", &jobRoleRow{}) + ", " + groupCols
			if withAccount {
				q += ", " + prefixedColumns("x", &accountRow{})
			}
			q += ", COALESCE((SELECT value FROM seq_counters WHERE name = 'transactions'), 0) AS max_seq"
			if byToken {
				q += " FROM tokens tk JOIN consents c ON c.id = tk.request_id JOIN users u ON u.id = tk.subject"
			} else {
				q += " FROM consents c JOIN users u ON u.id = ?"
			}
			q += " JOIN assignments a ON a.user_id = u.id AND a.legal_entity_id = ''" +
				" JOIN job_roles r ON r.id = a.job_role_id" +
				" JOIN account_groups g ON g.id = a.account_group_id"
			if withAccount {
				q += " JOIN account_group_members m ON m.group_id = g.id AND m.account_id = ?" +
					" JOIN accounts x ON x.id = m.account_id"
			}
			if byToken {
				q += " WHERE tk.kind = '" + string(store.TokenAccess) + "' AND tk.signature = ?"
			} else {
				q += " WHERE c.id = ?"
			}
			out[t][i] = q
		}
	}
	return out
})

// ReadAccess is store.AccessReader: inner joins only, so any missing record
// yields no row and ok=false.
func (s *Store) ReadAccess(ctx context.Context, consentID, userID, accountID string) (store.Access, bool, error) {
	args := []any{userID}
	if accountID != "" {
		args = append(args, accountID)
	}
	_, a, ok, err := s.readAccess(ctx, false, accountID, append(args, consentID))
	return a, ok, err
}

// ReadTokenAccess is store.AccessReader's ReadAccess for the access token
// stored under signature, read with it.
func (s *Store) ReadTokenAccess(ctx context.Context, signature, accountID string) (store.TokenRecord, store.Access, bool, error) {
	var args []any
	if accountID != "" {
		args = append(args, accountID)
	}
	return s.readAccess(ctx, true, accountID, append(args, signature))
}

func (s *Store) readAccess(ctx context.Context, byToken bool, accountID string, args []any) (store.TokenRecord, store.Access, bool, error) {
	withAccount := accountID != ""
	t, i := 0, 0
	if byToken {
		t = 1
	}
	if withAccount {
		i = 1
	}
	var rows []accessRow
	err := s.query(ctx, accessQueries()[t][i], args, func(sc rowScanner) error {
		rows = append(rows, accessRow{})
		r := &rows[len(rows)-1]
		var dest []any
		if byToken {
			dest = columnPointers(&r.T)
		}
		dest = append(dest, slices.Concat(columnPointers(&r.C), columnPointers(&r.U), columnPointers(&r.A),
			columnPointers(&r.R), columnPointers(&r.G))...)
		if withAccount {
			dest = append(dest, columnPointers(&r.X)...)
		}
		return sc.Scan(append(dest, &r.MaxSeq)...)
	})
	if err != nil {
		return store.TokenRecord{}, store.Access{}, false, wrap("read access", err)
	}
	if len(rows) != 1 {
		return store.TokenRecord{}, store.Access{}, false, nil
	}
	r := rows[0]
	var a store.Access
	fail := func(err error) (store.TokenRecord, store.Access, bool, error) {
		return store.TokenRecord{}, store.Access{}, false, err
	}
	if a.Consent, err = r.C.domain(); err != nil {
		return fail(err)
	}
	if a.User, err = userMap.toDomain(r.U); err != nil {
		return fail(err)
	}
	a.Assignment = r.A.domain()
	if a.Role, err = jobRoleMap.toDomain(r.R); err != nil {
		return fail(err)
	}
	if withAccount {
		if a.Account, err = accountMap.toDomain(r.X); err != nil {
			return fail(err)
		}
	}
	if a.Group, err = accountGroupMap.toDomain(r.G); err != nil {
		return fail(err)
	}
	a.MaxSeq = r.MaxSeq
	var rec store.TokenRecord
	if byToken {
		rec = r.T.domain()
	}
	return rec, a, true, nil
}

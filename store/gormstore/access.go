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
	C      consentRow
	U      userRow
	A      assignmentRow
	R      jobRoleRow
	G      accountGroupRow
	X      accountRow
	MaxSeq int64
}

// accessQueries are ReadAccess's statements without ([0]) and with ([1]) an
// account, built once from the row types so that a column added to one of
// them is read without touching this file. With an account, the group's
// list is not sent back (400 IDs are 10 kB): its membership rows answer.
var accessQueries = sync.OnceValue(func() (out [2]string) {
	for i, withAccount := range []bool{false, true} {
		groupCols := prefixedColumns("g", &accountGroupRow{})
		if withAccount {
			groupCols = strings.Replace(groupCols, "g.account_ids AS", "'' AS", 1)
		}
		q := "SELECT " + prefixedColumns("c", &consentRow{}) + ", " + prefixedColumns("u", &userRow{}) + ", " +
			prefixedColumns("a", &assignmentRow{}) + ", " + prefixedColumns("r", &jobRoleRow{}) + ", " + groupCols
		if withAccount {
			q += ", " + prefixedColumns("x", &accountRow{})
		}
		q += ", COALESCE((SELECT value FROM seq_counters WHERE name = 'transactions'), 0) AS max_seq" +
			" FROM consents c JOIN users u ON u.id = ?" +
			" JOIN assignments a ON a.user_id = u.id AND a.legal_entity_id = ''" +
			" JOIN job_roles r ON r.id = a.job_role_id" +
			" JOIN account_groups g ON g.id = a.account_group_id"
		if withAccount {
			q += " JOIN account_group_members m ON m.group_id = g.id AND m.account_id = ?" +
				" JOIN accounts x ON x.id = m.account_id"
		}
		out[i] = q + " WHERE c.id = ?"
	}
	return out
})

// ReadAccess is store.AccessReader: inner joins only, so any missing record
// yields no row and ok=false.
func (s *Store) ReadAccess(ctx context.Context, consentID, userID, accountID string) (store.Access, bool, error) {
	withAccount := accountID != ""
	args := []any{userID}
	if withAccount {
		args = append(args, accountID)
	}
	args = append(args, consentID)
	var rows []accessRow
	q := accessQueries()[0]
	if withAccount {
		q = accessQueries()[1]
	}
	err := s.query(ctx, q, args, func(sc rowScanner) error {
		rows = append(rows, accessRow{})
		r := &rows[len(rows)-1]
		dest := slices.Concat(columnPointers(&r.C), columnPointers(&r.U), columnPointers(&r.A), columnPointers(&r.R), columnPointers(&r.G))
		if withAccount {
			dest = append(dest, columnPointers(&r.X)...)
		}
		return sc.Scan(append(dest, &r.MaxSeq)...)
	})
	if err != nil {
		return store.Access{}, false, wrap("read access", err)
	}
	if len(rows) != 1 {
		return store.Access{}, false, nil
	}
	r := rows[0]
	var a store.Access
	if a.Consent, err = r.C.domain(); err != nil {
		return store.Access{}, false, err
	}
	if a.User, err = userMap.toDomain(r.U); err != nil {
		return store.Access{}, false, err
	}
	a.Assignment = r.A.domain()
	if a.Role, err = jobRoleMap.toDomain(r.R); err != nil {
		return store.Access{}, false, err
	}
	if withAccount {
		if a.Account, err = accountMap.toDomain(r.X); err != nil {
			return store.Access{}, false, err
		}
	}
	if a.Group, err = accountGroupMap.toDomain(r.G); err != nil {
		return store.Access{}, false, err
	}
	a.MaxSeq = r.MaxSeq
	return a, true, nil
}

package gormstore

import (
	"context"
	"strings"
	"sync"

	"github.com/bankfeed/bankfeed/store"
)

var _ store.AccessReader = (*Store)(nil)

// accessRow is one joined row of ReadAccess.
type accessRow struct {
	C      consentRow      `gorm:"embedded;embeddedPrefix:c_"`
	U      userRow         `gorm:"embedded;embeddedPrefix:u_"`
	A      assignmentRow   `gorm:"embedded;embeddedPrefix:a_"`
	R      jobRoleRow      `gorm:"embedded;embeddedPrefix:r_"`
	G      accountGroupRow `gorm:"embedded;embeddedPrefix:g_"`
	X      accountRow      `gorm:"embedded;embeddedPrefix:x_"`
	MaxSeq int64           `gorm:"column:max_seq"`
}

type accessQueryKey struct {
	dialect     dialect
	withAccount bool
}

// accessQueries are built once from the row types, so a column added to one
// of them is read without touching this file. With an account, the group's
// list is not sent back (400 IDs are 10 kB a request): the database checks
// the membership.
var accessQueries = sync.OnceValue(func() map[accessQueryKey]string {
	out := map[accessQueryKey]string{}
	for _, d := range []dialect{dialectSQLite, dialectPostgres} {
		for _, withAccount := range []bool{false, true} {
			var groupCols []string
			for _, c := range strings.Split(prefixedColumns("g", &accountGroupRow{}), ", ") {
				if withAccount && strings.HasPrefix(c, "g.account_ids ") {
					continue
				}
				groupCols = append(groupCols, c)
			}
			q := "SELECT " + prefixedColumns("c", &consentRow{}) + ", " + prefixedColumns("u", &userRow{}) + ", " +
				prefixedColumns("a", &assignmentRow{}) + ", " + prefixedColumns("r", &jobRoleRow{}) + ", " +
				strings.Join(groupCols, ", ")
			if withAccount {
				q += ", " + prefixedColumns("x", &accountRow{})
			}
			q += ", COALESCE((SELECT value FROM seq_counters WHERE name = 'transactions'), 0) AS max_seq" +
				" FROM consents c JOIN users u ON u.id = ?" +
				" JOIN assignments a ON a.user_id = u.id AND a.legal_entity_id = ''" +
				" JOIN job_roles r ON r.id = a.job_role_id" +
				" JOIN account_groups g ON g.id = a.account_group_id"
			if withAccount {
				member := "EXISTS (SELECT 1 FROM json_each(g.account_ids) m WHERE m.value = x.id)"
				if d == dialectPostgres {
					member = "jsonb_exists(g.account_ids::jsonb, x.id)"
				}
				q += " JOIN accounts x ON x.id = ? AND " + member
			}
			out[accessQueryKey{d, withAccount}] = q + " WHERE c.id = ?"
		}
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
	if err := s.read(ctx).Raw(accessQueries()[accessQueryKey{s.dialect, withAccount}], args...).Scan(&rows).Error; err != nil {
		return store.Access{}, false, wrap("read access", err)
	}
	if len(rows) != 1 {
		return store.Access{}, false, nil
	}
	r := rows[0]
	var a store.Access
	var err error
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
		r.G.AccountIDs = ""
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

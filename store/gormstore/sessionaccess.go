package gormstore

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/bankfeed/bankfeed/store"
)

// sessionAccessRow is one joined row of SessionAccess, scanned in column
// order.
type sessionAccessRow struct {
	S browserSessionRow
	U userRow
	A assignmentRow
	R jobRoleRow
	G accountGroupRow
}

// sessionAccessQuery is built once from the row types, as grantQuery.
var sessionAccessQuery = sync.OnceValue(func() string {
	return "SELECT " + prefixedColumns("s", &browserSessionRow{}) + ", " + prefixedColumns("u", &userRow{}) + ", " +
		prefixedColumns("a", &assignmentRow{}) + ", " + prefixedColumns("r", &jobRoleRow{}) + ", " +
		prefixedColumns("g", &accountGroupRow{}) +
		" FROM browser_sessions s JOIN users u ON u.id = s.user_id" +
		" JOIN assignments a ON a.user_id = u.id AND a.legal_entity_id = ''" +
		" JOIN job_roles r ON r.id = a.job_role_id" +
		" JOIN account_groups g ON g.id = a.account_group_id" +
		" WHERE s.id = ? AND (s.expires_at = 0 OR s.expires_at > ?)"
})

// SessionAccess is store.AccessStore's: one inner join when every record is
// there (each page of a signed-in browser read the session, the user, the
// assignment, the role and the group one statement at a time); when one is
// missing, the records are read one at a time to tell which.
func (s *Store) SessionAccess(ctx context.Context, id string) (store.BrowserSession, store.Access, error) {
	var rows []sessionAccessRow
	err := s.query(ctx, sessionAccessQuery(), []any{id, micros(s.nowUTC())}, func(sc rowScanner) error {
		rows = append(rows, sessionAccessRow{})
		r := &rows[len(rows)-1]
		return sc.Scan(columnPointers(&r.S, &r.U, &r.A, &r.R, &r.G)...)
	})
	if err != nil {
		return store.BrowserSession{}, store.Access{}, wrap("session access", err)
	}
	if len(rows) != 1 {
		return s.sessionAccessByRecord(ctx, id)
	}
	r := rows[0]
	a, err := r.access()
	if err != nil {
		return store.BrowserSession{}, store.Access{}, err
	}
	return r.S.domain(), a, nil
}

// sessionAccessByRecord is SessionAccess one record at a time, leaving the
// missing ones zero.
func (s *Store) sessionAccessByRecord(ctx context.Context, id string) (store.BrowserSession, store.Access, error) {
	b, err := s.GetBrowserSession(ctx, id)
	if err != nil {
		return store.BrowserSession{}, store.Access{}, err
	}
	a, err := s.userAccessByRecord(ctx, b.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return b, store.Access{}, nil
	}
	return b, a, err
}

// userAccessQuery is UserAccess's statement, as sessionAccessQuery without
// the session.
var userAccessQuery = sync.OnceValue(func() string {
	return "SELECT " + prefixedColumns("u", &userRow{}) + ", " +
		prefixedColumns("a", &assignmentRow{}) + ", " + prefixedColumns("r", &jobRoleRow{}) + ", " +
		prefixedColumns("g", &accountGroupRow{}) +
		" FROM users u JOIN assignments a ON a.user_id = u.id AND a.legal_entity_id = ''" +
		" JOIN job_roles r ON r.id = a.job_role_id" +
		" JOIN account_groups g ON g.id = a.account_group_id" +
		" WHERE u.id = ?"
})

// UserAccess is store.AccessStore's: one inner join when every record is
// there (the authorization step read the user, the assignment and the role
// one statement at a time); otherwise one record at a time.
func (s *Store) UserAccess(ctx context.Context, userID string) (store.Access, error) {
	var rows []sessionAccessRow
	err := s.query(ctx, userAccessQuery(), []any{userID}, func(sc rowScanner) error {
		rows = append(rows, sessionAccessRow{})
		r := &rows[len(rows)-1]
		return sc.Scan(columnPointers(&r.U, &r.A, &r.R, &r.G)...)
	})
	if err != nil {
		return store.Access{}, wrap("user access", err)
	}
	if len(rows) != 1 {
		return s.userAccessByRecord(ctx, userID)
	}
	return rows[0].access()
}

func (r sessionAccessRow) access() (store.Access, error) {
	return joinedAccess(r.U, r.A, r.R, r.G)
}

// userAccessByRecord is UserAccess one record at a time: ErrNotFound
// without the user, the other missing records zero.
func (s *Store) userAccessByRecord(ctx context.Context, userID string) (store.Access, error) {
	u, err := s.GetUser(ctx, userID)
	if err != nil {
		return store.Access{}, err
	}
	a := store.Access{User: u}
	if err := s.readAssignment(ctx, &a, u.ID, true, foundRecord("session access")); err != nil {
		return store.Access{}, err
	}
	return a, nil
}

// joinedAccess is the Access of left-joined records scanned as zero when
// missing (zeroedColumns): a record of ID "" stays the zero record.
func joinedAccess(u userRow, as assignmentRow, r jobRoleRow, g accountGroupRow) (store.Access, error) {
	var a store.Access
	var err error
	if u.ID != "" {
		if a.User, err = userMap.toDomain(u); err != nil {
			return store.Access{}, err
		}
	}
	a.Assignment = as.domain()
	if r.ID != "" {
		if a.Role, err = jobRoleMap.toDomain(r); err != nil {
			return store.Access{}, err
		}
	}
	if g.ID != "" {
		if a.Group, err = accountGroupMap.toDomain(g); err != nil {
			return store.Access{}, err
		}
	}
	return a, nil
}

// sessionFlowRow is one row of SessionAccessFlow, scanned in column order.
type sessionFlowRow struct {
	S browserSessionRow
	U userRow
	A assignmentRow
	R jobRoleRow
	G accountGroupRow
	F authFlowRow
	C clientRow
}

// sessionFlowQuery is sessionAccessQuery and the flow with its client side
// by side, each left-joined to a single row so that the statement always
// answers one row, a missing record zero.
var sessionFlowQuery = sync.OnceValue(func() string {
	return "SELECT " + zeroedColumns("s", &browserSessionRow{}) + ", " + secretless(zeroedColumns("u", &userRow{}), "u", userSecrets) + ", " +
		zeroedColumns("a", &assignmentRow{}) + ", " + zeroedColumns("r", &jobRoleRow{}) + ", " +
		zeroedColumns("g", &accountGroupRow{}) + ", " + zeroedColumns("f", &authFlowRow{}) + ", " +
		secretless(zeroedColumns("c", &clientRow{}), "c", clientSecrets) +
		" FROM (SELECT 1 AS one) o" +
		" LEFT JOIN browser_sessions s ON s.id = ? AND (s.expires_at = 0 OR s.expires_at > ?)" +
		" LEFT JOIN users u ON u.id = s.user_id" +
		" LEFT JOIN assignments a ON a.user_id = u.id AND a.legal_entity_id = ''" +
		" LEFT JOIN job_roles r ON r.id = a.job_role_id" +
		" LEFT JOIN account_groups g ON g.id = a.account_group_id" +
		" LEFT JOIN auth_flows f ON f.id = ? AND (f.expires_at = 0 OR f.expires_at > ?)" +
		" LEFT JOIN clients c ON c.id = f.client_id"
})

// SessionAccessFlow is store.AccessStore's: one statement whatever is
// missing.
func (s *Store) SessionAccessFlow(ctx context.Context, sessionID, flowID string) (store.SessionFlow, error) {
	now := micros(s.nowUTC())
	var rows []sessionFlowRow
	err := s.query(ctx, sessionFlowQuery(), []any{sessionID, now, flowID, now}, func(sc rowScanner) error {
		rows = append(rows, sessionFlowRow{})
		r := &rows[len(rows)-1]
		return sc.Scan(columnPointers(&r.S, &r.U, &r.A, &r.R, &r.G, &r.F, &r.C)...)
	})
	if err != nil {
		return store.SessionFlow{}, wrap("session access flow", err)
	}
	if len(rows) != 1 {
		return store.SessionFlow{}, fmt.Errorf("gormstore: session access flow: %d rows", len(rows))
	}
	r := rows[0]
	var out store.SessionFlow
	if r.S.ID != "" {
		out.Session = r.S.domain()
		if out.Access, err = joinedAccess(r.U, r.A, r.R, r.G); err != nil {
			return store.SessionFlow{}, err
		}
	}
	if r.F.ID != "" {
		if out.Flow, err = authFlowMap.toDomain(r.F); err != nil {
			return store.SessionFlow{}, err
		}
		if r.C.ID != "" {
			if out.Client, err = clientMap.toDomain(r.C); err != nil {
				return store.SessionFlow{}, err
			}
		}
	}
	return out, nil
}

package gormstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
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

// sessionFlowColumns are the columns of sessionFlowQuery's row.
var sessionFlowColumns = sync.OnceValue(func() string {
	return zeroedColumns("s", &browserSessionRow{}) + ", " + secretless(zeroedColumns("u", &userRow{}), "u", userSecrets) + ", " +
		zeroedColumns("a", &assignmentRow{}) + ", " + zeroedColumns("r", &jobRoleRow{}) + ", " +
		zeroedColumns("g", &accountGroupRow{}) + ", " + zeroedColumns("f", &authFlowRow{}) + ", " +
		secretless(zeroedColumns("c", &clientRow{}), "c", clientSecrets)
})

// sessionFlowFrom joins sessionFlowColumns' records: sessionAccessQuery's
// and the flow with its client side by side, each left-joined to a single
// row so that the statement always answers one row, a missing record zero.
// Its arguments are the session's ID, the time now, the flow's ID and the
// time now.
const sessionFlowFrom = " FROM (SELECT 1 AS one) o" +
	" LEFT JOIN browser_sessions s ON s.id = ? AND (s.expires_at = 0 OR s.expires_at > ?)" +
	" LEFT JOIN users u ON u.id = s.user_id" +
	" LEFT JOIN assignments a ON a.user_id = u.id AND a.legal_entity_id = ''" +
	" LEFT JOIN job_roles r ON r.id = a.job_role_id" +
	" LEFT JOIN account_groups g ON g.id = a.account_group_id" +
	" LEFT JOIN auth_flows f ON f.id = ? AND (f.expires_at = 0 OR f.expires_at > ?)" +
	" LEFT JOIN clients c ON c.id = f.client_id"

var sessionFlowQuery = sync.OnceValue(func() string { return "SELECT " + sessionFlowColumns() + sessionFlowFrom })

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
	return rows[0].sessionFlow()
}

// consentPageQuery is ConsentPageFlow's statement. On PostgreSQL it
// starts with mv, the flow's move to consent for the session's user
// (consentMove), whose row comes beside the flow as read (zero when it did
// not move). Then come sessionFlowQuery's row (listed FALSE, no account)
// and one row (listed TRUE) per account of the session user's account
// group in the user's business group, with its legal entity and every
// other record zero: the same columns on both sides of the UNION, the
// records a side does not read joined ON FALSE. The group's members are
// account_group_members' rows, kept with its list (accountGroupMembersV2),
// so a group's record (its list of IDs) is sent once, not once per
// account. Its arguments are consentMove's (PostgreSQL), sessionFlowQuery's,
// then the session's ID and the time now.
func consentPageQuery(withMove bool) string {
	cols := sessionFlowColumns() + ", " + zeroedColumns("x", &accountRow{}) + ", " + zeroedColumns("le", &legalEntityRow{})
	head, moved, unmoved := "", "", ""
	if withMove {
		head = "WITH mv AS (" + consentMove + ") "
		cols += ", " + zeroedColumns("mv", &authFlowRow{})
		moved, unmoved = " LEFT JOIN mv ON TRUE", " LEFT JOIN mv ON FALSE"
	}
	return head + "SELECT FALSE AS listed, " + cols + sessionFlowFrom + moved +
		" LEFT JOIN accounts x ON FALSE LEFT JOIN legal_entities le ON FALSE" +
		" UNION ALL SELECT TRUE, " + cols +
		" FROM browser_sessions ms JOIN users mu ON mu.id = ms.user_id" +
		" JOIN assignments ma ON ma.user_id = mu.id AND ma.legal_entity_id = ''" +
		" JOIN account_group_members m ON m.group_id = ma.account_group_id" +
		" JOIN accounts x ON x.id = m.account_id AND x.business_group_id = mu.business_group_id" +
		" LEFT JOIN legal_entities le ON le.id = x.legal_entity_id AND le.business_group_id = x.business_group_id" +
		" LEFT JOIN browser_sessions s ON FALSE LEFT JOIN users u ON FALSE LEFT JOIN assignments a ON FALSE" +
		" LEFT JOIN job_roles r ON FALSE LEFT JOIN account_groups g ON FALSE" +
		" LEFT JOIN auth_flows f ON FALSE LEFT JOIN clients c ON FALSE" + unmoved +
		" WHERE ms.id = ? AND (ms.expires_at = 0 OR ms.expires_at > ?)"
}

// consentMove moves the flow at login with no user to consent for the
// session's user, with the session's sign-in time, when that user is
// store.User.ReadyForConsent: active, no password to change, not locked
// (CanSignIn's lock: locked_until before now). Its arguments are the
// states consent and login, the time now (updated_at), the flow's ID, the
// time now, the session's ID, the time now, the status active and the
// time now.
const consentMove = "UPDATE auth_flows mf SET state = ?, user_id = bs.user_id, auth_time = bs.auth_time, updated_at = ?, version = mf.version + 1" +
	" FROM browser_sessions bs JOIN users bu ON bu.id = bs.user_id" +
	" WHERE mf.id = ? AND mf.state = ? AND mf.user_id = '' AND (mf.expires_at = 0 OR mf.expires_at > ?)" +
	" AND bs.id = ? AND (bs.expires_at = 0 OR bs.expires_at > ?)" +
	" AND bu.status = ? AND NOT bu.must_change_password AND (bu.locked_until = 0 OR bu.locked_until < ?)" +
	" RETURNING mf.*"

var (
	consentPageMoveQuery = sync.OnceValue(func() string { return consentPageQuery(true) })
	consentPageReadQuery = sync.OnceValue(func() string { return consentPageQuery(false) })
)

// ConsentPageFlow is store.AccessStore's: on PostgreSQL one statement
// (consentPageQuery with consentMove); on SQLite its read, then the move
// by UpdateReadAuthFlow when it is due.
func (s *Store) ConsentPageFlow(ctx context.Context, sessionID, flowID string) (store.SessionFlow, error) {
	now := s.nowUTC()
	at := micros(now)
	pg := s.dialect == dialectPostgres
	q, args := consentPageReadQuery(), []any{sessionID, at, flowID, at, sessionID, at}
	if pg {
		q = consentPageMoveQuery()
		args = append([]any{string(store.FlowConsent), at, flowID, string(store.FlowLogin), at, sessionID, at, string(store.UserActive), at}, args...)
	}
	var head []sessionFlowRow
	var moved authFlowRow
	var accounts []store.Account
	entities := map[string]store.LegalEntity{}
	run := s.query
	if pg {
		run = s.writeQuery
	}
	err := run(ctx, q, args, func(sc rowScanner) error {
		var listed bool
		var r sessionFlowRow
		var a accountRow
		var le legalEntityRow
		var mv authFlowRow
		dest := append([]any{&listed}, columnPointers(&r.S, &r.U, &r.A, &r.R, &r.G, &r.F, &r.C, &a, &le)...)
		if pg {
			dest = append(dest, columnPointers(&mv)...)
		}
		if err := sc.Scan(dest...); err != nil {
			return err
		}
		if !listed {
			head, moved = append(head, r), mv
			return nil
		}
		return addAccountWithEntity(&accounts, entities, a, le)
	})
	if err != nil {
		return store.SessionFlow{}, wrap("consent page flow", err)
	}
	if len(head) != 1 {
		return store.SessionFlow{}, fmt.Errorf("gormstore: consent page flow: %d rows", len(head))
	}
	out, err := head[0].sessionFlow()
	if err != nil {
		return store.SessionFlow{}, err
	}
	slices.SortFunc(accounts, func(a, b store.Account) int { return strings.Compare(a.ID, b.ID) })
	out.Accounts, out.Entities = accounts, entities
	switch {
	case moved.ID != "":
		out.Flow, err = authFlowMap.toDomain(moved)
		out.Moved = err == nil
		return out, err
	case pg:
		return out, nil
	}
	f := out.Flow
	if f.ID == "" || f.State != store.FlowLogin || f.UserID != "" || out.Session.ID == "" || out.Access.User.ID != out.Session.UserID ||
		!out.Access.User.ReadyForConsent(now) {
		return out, nil
	}
	f, err = s.UpdateReadAuthFlow(ctx, f, func(f store.AuthFlow) (store.AuthFlow, error) {
		f.State, f.UserID, f.AuthTime = store.FlowConsent, out.Session.UserID, out.Session.AuthTime
		return f, nil
	})
	switch {
	case errors.Is(err, store.ErrConflict): // changed since read: as read
		return out, nil
	case err != nil:
		return store.SessionFlow{}, err
	}
	out.Flow, out.Moved = f, true
	return out, nil
}

// sessionFlow is the store.SessionFlow of a row read by sessionFlowQuery.
func (r sessionFlowRow) sessionFlow() (store.SessionFlow, error) {
	var out store.SessionFlow
	var err error
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

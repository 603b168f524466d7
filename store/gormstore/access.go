package gormstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"gorm.io/gorm/schema"

	"github.com/bankfeed/bankfeed/store"
)

// accessRow is one joined row of ReadAccess, scanned in column order.
type accessRow struct {
	T      tokenRow // ReadTokenAccess only
	C      consentRow
	U      userRow         // ReadAccess'
	S      userStandingRow // ReadTokenAccess'
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
			userCols := secretless(prefixedColumns("u", &userRow{}), "u", userSecrets)
			if byToken {
				userCols = prefixedColumns("u", &userStandingRow{}) // the data API's: its standing
			}
			q += prefixedColumns("c", &consentRow{}) + ", " + userCols + ", " +
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

// ReadAccess is store.AccessStore's: one statement of inner joins when
// every record is there; when one is missing (no row), readByRecord tells
// which.
func (s *Store) ReadAccess(ctx context.Context, consentID, userID, accountID string) (store.Access, error) {
	args := []any{userID}
	if accountID != "" {
		args = append(args, accountID)
	}
	_, a, ok, err := s.readAccess(ctx, false, accountID, append(args, consentID))
	if err != nil || ok {
		return a, err
	}
	return s.readByRecord(ctx, consentID, userID, accountID, true)
}

// ReadTokenAccess is store.AccessStore's ReadAccess for the access token
// stored under signature, read with it.
func (s *Store) ReadTokenAccess(ctx context.Context, signature, accountID string) (store.TokenRecord, store.Access, error) {
	var args []any
	if accountID != "" {
		args = append(args, accountID)
	}
	rec, a, ok, err := s.readAccess(ctx, true, accountID, append(args, signature))
	if err != nil || ok {
		return rec, a, err
	}
	rec, err = s.GetToken(ctx, store.TokenAccess, signature)
	if err != nil {
		return store.TokenRecord{}, store.Access{}, err
	}
	a, err = s.readByRecord(ctx, rec.RequestID, rec.Subject, accountID, true)
	if err != nil {
		return store.TokenRecord{}, store.Access{}, err
	}
	a.User = a.User.Standing() // as the joined read
	return rec, a, nil
}

// readByRecord reads Access one record at a time, leaving the missing ones
// zero: the path of a refused grant, which JudgeGrant must tell apart
// (withGroup false: GrantRecords' subset).
func (s *Store) readByRecord(ctx context.Context, consentID, userID, accountID string, withGroup bool) (store.Access, error) {
	var a store.Access
	found := foundRecord("read access")
	c, err := s.GetConsent(ctx, consentID)
	if ok, err := found(err, "consent"); err != nil {
		return store.Access{}, err
	} else if ok {
		a.Consent = c
	}
	u, err := s.GetUser(ctx, userID)
	if ok, err := found(err, "user"); err != nil {
		return store.Access{}, err
	} else if ok {
		a.User = u.Secretless() // as the joined read (secretless)
	}
	if withGroup {
		if a.MaxSeq, err = s.MaxSeq(ctx); err != nil {
			return store.Access{}, fmt.Errorf("gormstore: read access: max seq: %w", err)
		}
	}
	if err := s.readAssignment(ctx, &a, userID, withGroup, found); err != nil {
		return store.Access{}, err
	}
	if a.Group.ID == "" || accountID == "" {
		return a, nil
	}
	members := a.Group.AccountIDs
	a.Group.AccountIDs = nil // as the joined read: with an account, only its membership
	if !slices.Contains(members, accountID) {
		return a, nil
	}
	x, err := s.GetAccount(ctx, accountID)
	if ok, err := found(err, "account"); err != nil {
		return store.Access{}, err
	} else if ok {
		a.Account = x
	}
	return a, nil
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
		var buf [7]any
		rowsRead := append(buf[:0], &r.C, &r.U)
		if byToken {
			rowsRead = append(buf[:0], &r.T, &r.C, &r.S)
		}
		rowsRead = append(rowsRead, &r.A, &r.R, &r.G)
		if withAccount {
			rowsRead = append(rowsRead, &r.X)
		}
		return sc.Scan(append(columnPointers(rowsRead...), &r.MaxSeq)...)
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
	if byToken {
		a.User = r.S.domain()
	} else if a.User, err = userMap.toDomain(r.U); err != nil {
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

// tokenGrantRow is one row of GetTokenGrant and GetTokenGrantState (S) or
// GetTokenGrantRecords (records), scanned in column order. The records'
// rows are apart so that introspection's read, which has none, allocates
// only what it scans.
type tokenGrantRow struct {
	T       tokenRow
	C       consentRow
	S       userStandingRow // GetTokenGrant's user
	records *grantRecordsRow
}

// grantRecordsRow is GetTokenGrantRecords' part of a tokenGrantRow.
type grantRecordsRow struct {
	U userRow
	A assignmentRow
	R jobRoleRow
}

// userStandingRow is the part of a user's row that GetTokenGrant and
// ReadTokenAccess read (store.User.Standing): what store.JudgeGrant judges
// and a grant's principal names. Introspection and every data API request
// read it, and the user's other thirteen columns were a tenth of
// PostgreSQL's work for introspection's statement (issue 15).
type userStandingRow struct {
	ID                 string `gorm:"column:id"`
	BusinessGroupID    string `gorm:"column:business_group_id"`
	LegalEntityID      string `gorm:"column:legal_entity_id"`
	LoginID            string `gorm:"column:login_id"`
	AccountingSoftware bool   `gorm:"column:accounting_software"`
	Status             string `gorm:"column:status"`
}

// domain is the store.User of the row (store.User.Standing).
func (r userStandingRow) domain() store.User {
	return store.User{ID: r.ID, BusinessGroupID: r.BusinessGroupID, LegalEntityID: r.LegalEntityID, LoginID: r.LoginID,
		AccountingSoftware: r.AccountingSoftware, Status: store.UserStatus(r.Status)}
}

// tokenGrantQueries are GetTokenGrant's statement, GetTokenGrantRecords'
// and GetTokenGrantState's (by grantStanding, grantRecords,
// grantStandingNoRequest): the record with its consent and user (its
// standing, for the first and the third) left-joined (and, for the second,
// the user's own assignment and its job role), so that a token of no
// consent or user (a client_credentials grant) is one statement too; their
// columns are COALESCEd to zero, which reads as "missing" (ID ""). The
// third reads a NULL for the record's request.
var tokenGrantQueries = sync.OnceValue(func() [3]string {
	p := tokenGrantParts()
	standing := p.cols + zeroedColumns("u", &userStandingRow{}) + p.from + p.where
	noRequest := strings.Replace(standing, "tk.request AS tk_request", "CAST(NULL AS bytea) AS tk_request", 1)
	if noRequest == standing {
		panic("gormstore: the token row has no request column") // a programming error
	}
	return [3]string{
		grantStanding:          standing,
		grantRecords:           p.cols + p.recordsCols + p.from + p.recordsFrom + p.where,
		grantStandingNoRequest: noRequest,
	}
})

// tokenGrantParts are the pieces tokenGrantQueries and
// tokenGrantTakingQuery put together: the record's and its consent's
// columns, the user's, assignment's and job role's (recordsCols), and the
// joins that read them.
var tokenGrantParts = sync.OnceValue(func() (p struct{ cols, recordsCols, from, recordsFrom, where string }) {
	p.cols = "SELECT " + prefixedColumns("tk", &tokenRow{}) + ", " + zeroedColumns("c", &consentRow{}) + ", "
	p.recordsCols = secretless(zeroedColumns("u", &userRow{}), "u", userSecrets) + ", " +
		zeroedColumns("a", &assignmentRow{}) + ", " + zeroedColumns("r", &jobRoleRow{})
	p.from = " FROM tokens tk LEFT JOIN consents c ON c.id = tk.request_id LEFT JOIN users u ON u.id = tk.subject"
	p.recordsFrom = " LEFT JOIN assignments a ON a.user_id = tk.subject AND a.legal_entity_id = ''" +
		" LEFT JOIN job_roles r ON r.id = a.job_role_id"
	p.where = " WHERE tk.kind = ? AND tk.signature = ?"
	return p
})

// tokenGrantTaking holds tokenGrantTakingQuery's statements by their
// number of keys.
var tokenGrantTaking sync.Map

// tokenGrantTakingQuery is GetTokenGrantRecordsTaking's statement on
// PostgreSQL for n keys: GetTokenGrantRecords' with a DELETE … RETURNING
// of the client's records of the keys ahead of it, each record taken
// left-joined by its key (t0, t1, …; zero when it was not there). Its
// arguments: each key's kind and signature and the client, then each
// key's again, then the record's kind and signature.
func tokenGrantTakingQuery(n int) string {
	if q, ok := tokenGrantTaking.Load(n); ok {
		return q.(string)
	}
	p := tokenGrantParts()
	var cols, joins strings.Builder
	for i := range n {
		t := "t" + strconv.Itoa(i)
		cols.WriteString(", " + zeroedColumns(t, &tokenRow{}))
		joins.WriteString(" LEFT JOIN taken " + t + " ON " + t + ".kind = ? AND " + t + ".signature = ?")
	}
	q := "WITH taken AS (DELETE FROM tokens WHERE (" + tokenKeysWhere(n) + ") AND client_id = ? RETURNING " + tokenColumns + ") " +
		p.cols + p.recordsCols + cols.String() + p.from + p.recordsFrom + joins.String() + p.where
	tokenGrantTaking.Store(n, q)
	return q
}

// zeroedColumns is prefixedColumns for the columns of a left-joined row:
// each is COALESCE(alias.column, its type's zero), so a missing row scans as
// the zero row.
func zeroedColumns(alias string, row any) string {
	s := rowSchema(row)
	out := make([]string, len(s.DBNames))
	for i, n := range s.DBNames {
		var zero string
		switch dt := s.FieldsByDBName[n].DataType; dt {
		case schema.String, schema.Bytes:
			zero = "''"
		case schema.Int, schema.Uint:
			zero = "0"
		case schema.Bool:
			zero = "FALSE"
		default:
			panic(fmt.Sprintf("gormstore: %T.%s: no zero for %s", row, n, dt))
		}
		out[i] = "COALESCE(" + alias + "." + n + ", " + zero + ") AS " + alias + "_" + n
	}
	return strings.Join(out, ", ")
}

// userSecrets and clientSecrets are the columns the joined reads that judge
// a grant or show a page leave out (secretless): nothing there checks a
// password, an answer or a client secret, and a token, an introspection or
// a data-API page had each carried the user's password and answer hashes
// into the server's memory.
var (
	userSecrets   = []string{"password_hash", "security_answer_hash"}
	clientSecrets = []string{"secret_hash", "previous_secret_hash", "registration_token_hash"}
)

// secretless replaces, in cols (prefixedColumns' or zeroedColumns' list),
// each of alias's columns names by an empty text under the same name, so
// that the row still scans and the field reads "". A name not in cols is a
// programming error (a column renamed would otherwise be read again).
func secretless(cols, alias string, names []string) string {
	for _, n := range names {
		as := " AS " + alias + "_" + n
		found := false
		for _, expr := range []string{alias + "." + n, "COALESCE(" + alias + "." + n + ", '')"} {
			if strings.Contains(cols, expr+as) {
				cols, found = strings.Replace(cols, expr+as, "''"+as, 1), true
			}
		}
		if !found {
			panic("gormstore: secretless: no column " + alias + "." + n)
		}
	}
	return cols
}

// GetTokenGrant is store.TokenStore's: one statement whatever is missing
// (introspection and the resources' Verify judge every token they are
// shown with it).
func (s *Store) GetTokenGrant(ctx context.Context, kind store.TokenKind, signature string) (store.TokenRecord, store.Access, error) {
	return s.tokenGrant(ctx, kind, signature, grantStanding)
}

// GetTokenGrantState is store.TokenStore's: GetTokenGrant's statement with
// a NULL for the request.
func (s *Store) GetTokenGrantState(ctx context.Context, kind store.TokenKind, signature string) (store.TokenRecord, store.Access, error) {
	return s.tokenGrant(ctx, kind, signature, grantStandingNoRequest)
}

// GetTokenGrantRecords is store.TokenStore's: one statement whatever is
// missing (the assignment is unique per user and legal entity).
func (s *Store) GetTokenGrantRecords(ctx context.Context, kind store.TokenKind, signature string) (store.TokenRecord, store.Access, error) {
	return s.tokenGrant(ctx, kind, signature, grantRecords)
}

// The statements of tokenGrantQueries.
const (
	grantStanding          = iota // GetTokenGrant's
	grantRecords                  // GetTokenGrantRecords'
	grantStandingNoRequest        // GetTokenGrantState's
)

func (s *Store) tokenGrant(ctx context.Context, kind store.TokenKind, signature string, which int) (store.TokenRecord, store.Access, error) {
	if b := s.grantBatches[which]; b != nil && s.txFrom(ctx) == nil {
		// Checked first: bad text in one key would fail its whole batch.
		if err := checkArgs([]any{string(kind), signature}); err != nil {
			return store.TokenRecord{}, store.Access{}, wrap("get token grant", err)
		}
		r, found, err := b.get(ctx, store.TokenKey{Kind: kind, Signature: signature})
		if err != nil {
			return store.TokenRecord{}, store.Access{}, wrap("get token grant", err)
		}
		if !found {
			return store.TokenRecord{}, store.Access{}, fmt.Errorf("gormstore: get token grant: %w", store.ErrNotFound)
		}
		return r.domain()
	}
	var r tokenGrantRow
	found := false
	if which == grantRecords {
		r.records = &grantRecordsRow{}
	}
	err := s.query(ctx, tokenGrantQueries()[which], []any{string(kind), signature}, func(sc rowScanner) error {
		found = true
		if r.records != nil {
			return sc.Scan(columnPointers(&r.T, &r.C, &r.records.U, &r.records.A, &r.records.R)...)
		}
		return sc.Scan(columnPointers(&r.T, &r.C, &r.S)...)
	})
	if err != nil {
		return store.TokenRecord{}, store.Access{}, wrap("get token grant", err)
	}
	if !found {
		return store.TokenRecord{}, store.Access{}, fmt.Errorf("gormstore: get token grant: %w", store.ErrNotFound)
	}
	return r.domain()
}

// domain is the record and the grant's records of the row.
func (r *tokenGrantRow) domain() (store.TokenRecord, store.Access, error) {
	var a store.Access
	var err error
	if r.C.ID != "" {
		if a.Consent, err = r.C.domain(); err != nil {
			return store.TokenRecord{}, store.Access{}, err
		}
	}
	if r.S.ID != "" {
		a.User = r.S.domain()
	}
	if rr := r.records; rr != nil {
		if rr.U.ID != "" {
			if a.User, err = userMap.toDomain(rr.U); err != nil {
				return store.TokenRecord{}, store.Access{}, err
			}
		}
		if rr.A.ID != "" {
			a.Assignment = rr.A.domain()
		}
		if rr.R.ID != "" {
			if a.Role, err = jobRoleMap.toDomain(rr.R); err != nil {
				return store.TokenRecord{}, store.Access{}, err
			}
		}
	}
	return r.T.domain(), a, nil
}

// GetTokenGrantRecordsTaking is store.TokenStore's: on PostgreSQL one
// statement (tokenGrantTakingQuery), on SQLite the take, then the read.
func (s *Store) GetTokenGrantRecordsTaking(ctx context.Context, kind store.TokenKind, signature, clientID string, take ...store.TokenKey) (store.TokenRecord, store.Access, []store.TokenRecord, error) {
	if len(take) == 0 {
		rec, a, err := s.GetTokenGrantRecords(ctx, kind, signature)
		return rec, a, nil, err
	}
	keyArgs := tokenKeyArgs(take)
	if s.dialect != dialectPostgres {
		rows, err := s.takeTokens(ctx, "("+tokenKeysWhere(len(take))+") AND client_id = ?", append(keyArgs, clientID)...)
		if err != nil {
			return store.TokenRecord{}, store.Access{}, nil, wrap("get token grant taking", err)
		}
		rec, a, err := s.GetTokenGrantRecords(ctx, kind, signature)
		if err != nil {
			return store.TokenRecord{}, store.Access{}, nil, err
		}
		return rec, a, tokenDomains(rows), nil
	}
	r := tokenGrantRow{records: &grantRecordsRow{}}
	taken := make([]tokenRow, len(take))
	dest := []any{&r.T, &r.C, &r.records.U, &r.records.A, &r.records.R}
	for i := range taken {
		dest = append(dest, &taken[i])
	}
	args := make([]any, 0, 4*len(take)+3) // as tokenGrantTakingQuery lists them
	args = append(args, keyArgs...)
	args = append(args, clientID)
	args = append(args, keyArgs...)
	args = append(args, string(kind), signature)
	found := false
	err := s.writeQuery(ctx, tokenGrantTakingQuery(len(take)), args, func(sc rowScanner) error {
		found = true
		return sc.Scan(columnPointers(dest...)...)
	})
	if err != nil {
		return store.TokenRecord{}, store.Access{}, nil, wrap("get token grant taking", err)
	}
	if !found {
		return store.TokenRecord{}, store.Access{}, nil, fmt.Errorf("gormstore: get token grant taking: %w", store.ErrNotFound)
	}
	rec, a, err := r.domain()
	if err != nil {
		return store.TokenRecord{}, store.Access{}, nil, err
	}
	var out []store.TokenRecord
	for _, t := range taken {
		if t.Kind != "" {
			out = append(out, t.domain())
		}
	}
	return rec, a, out, nil
}

// foundRecord judges one record read of a by-record path: false for
// ErrNotFound (the record stays zero), the error wrapped for anything else.
func foundRecord(op string) func(err error, what string) (bool, error) {
	return func(err error, what string) (bool, error) {
		if errors.Is(err, store.ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("gormstore: %s: %s: %w", op, what, err)
		}
		return true, nil
	}
}

// readAssignment fills a's assignment, job role and, withGroup, account
// group one record at a time, leaving the missing ones zero.
func (s *Store) readAssignment(ctx context.Context, a *store.Access, userID string, withGroup bool, found func(error, string) (bool, error)) error {
	as, err := s.UserAssignment(ctx, userID, "")
	if ok, err := found(err, "assignment"); err != nil || !ok {
		return err
	}
	a.Assignment = as
	r, err := s.GetJobRole(ctx, as.JobRoleID)
	if ok, err := found(err, "job role"); err != nil {
		return err
	} else if ok {
		a.Role = r
	}
	if !withGroup || as.AccountGroupID == "" {
		return nil
	}
	g, err := s.GetAccountGroup(ctx, as.AccountGroupID)
	if ok, err := found(err, "account group"); err != nil {
		return err
	} else if ok {
		a.Group = g
	}
	return nil
}

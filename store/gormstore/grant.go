package gormstore

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"gorm.io/gorm/schema"

	"github.com/bankfeed/bankfeed/store"
)

// grantRow is one joined row of GrantRecords, scanned in column order.
type grantRow struct {
	C consentRow
	U userRow
	A assignmentRow
	R jobRoleRow
}

// grantQuery is built once from the row types, so a column added to one of
// them is selected without touching this file.
var grantQuery = sync.OnceValue(func() string {
	return "SELECT " + prefixedColumns("c", &consentRow{}) + ", " + secretless(prefixedColumns("u", &userRow{}), "u", userSecrets) + ", " +
		prefixedColumns("a", &assignmentRow{}) + ", " + prefixedColumns("r", &jobRoleRow{}) +
		" FROM consents c JOIN users u ON u.id = ?" +
		" JOIN assignments a ON a.user_id = u.id AND a.legal_entity_id = ''" +
		" JOIN job_roles r ON r.id = a.job_role_id" +
		" WHERE c.id = ?"
})

// prefixedColumns lists row's columns as alias.column AS alias_column, the
// names gorm's embeddedPrefix:alias_ scans, in the order of row's fields
// (columnPointers).
func prefixedColumns(alias string, row any) string {
	s := rowSchema(row)
	if n := reflect.TypeOf(row).Elem().NumField(); n != len(s.DBNames) {
		panic(fmt.Sprintf("gormstore: %T has %d fields but %d columns", row, n, len(s.DBNames)))
	}
	out := make([]string, len(s.DBNames))
	for i, n := range s.DBNames {
		out[i] = alias + "." + n + " AS " + alias + "_" + n
	}
	return strings.Join(out, ", ")
}

// rowSchema is gorm's reading of a row type: its columns (DBNames) in the
// order of its fields, for the statements written out from it.
func rowSchema(row any) *schema.Schema {
	s, err := schema.Parse(row, &sync.Map{}, schema.NamingStrategy{})
	if err != nil {
		panic("gormstore: " + err.Error()) // a row type without a schema is a programming error
	}
	return s
}

// columnValues is row's fields' values, in column order, for the
// arguments of a statement written out from its schema.
func columnValues(row any) []any {
	v := reflect.ValueOf(row).Elem()
	out := make([]any, v.NumField())
	for i := range out {
		out[i] = v.Field(i).Interface()
	}
	return out
}

// columnPointers is the rows' fields' addresses, row after row, for Scan
// of the columns prefixedColumns lists: one slice for a joined read's
// rows, not one per row and another to join them (issue 15). A row that
// appends its own (tokenRow) is asked to.
func columnPointers(rows ...any) []any {
	n := 0
	for _, row := range rows {
		n += reflect.TypeOf(row).Elem().NumField()
	}
	out := make([]any, 0, n)
	for _, row := range rows {
		if p, ok := row.(interface{ appendPointers([]any) []any }); ok {
			out = p.appendPointers(out)
			continue
		}
		v := reflect.ValueOf(row).Elem()
		for i := range v.NumField() {
			out = append(out, v.Field(i).Addr().Interface())
		}
	}
	return out
}

// GrantRecords is store.AccessStore's: one inner join when every record is
// there; when one is missing (no row), readByRecord tells which.
func (s *Store) GrantRecords(ctx context.Context, consentID, userID string) (store.Access, error) {
	var rows []grantRow
	err := s.query(ctx, grantQuery(), []any{userID, consentID}, func(sc rowScanner) error {
		rows = append(rows, grantRow{})
		r := &rows[len(rows)-1]
		return sc.Scan(columnPointers(&r.C, &r.U, &r.A, &r.R)...)
	})
	if err != nil {
		return store.Access{}, wrap("grant records", err)
	}
	if len(rows) != 1 {
		return s.readByRecord(ctx, consentID, userID, "", false)
	}
	r := rows[0]
	var a store.Access
	if a.Consent, err = r.C.domain(); err != nil {
		return store.Access{}, err
	}
	if a.User, err = userMap.toDomain(r.U); err != nil {
		return store.Access{}, err
	}
	a.Assignment = r.A.domain()
	if a.Role, err = jobRoleMap.toDomain(r.R); err != nil {
		return store.Access{}, err
	}
	return a, nil
}

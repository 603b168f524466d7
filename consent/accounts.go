package consent

import "strings"

// accountRows describes the accounts of e as the pages show them: with
// their legal entity and type, so "Exploitation" and "Exploitation Nord" of
// two entities are told apart (issue 14). The entities were read with the
// accounts (store.AccountStore.AccountsWithEntities; a statement of their
// own before, one per entity before that, issue 15).
func accountRows(l msgs, e entitlement) []accountRow {
	rows := make([]accountRow, 0, len(e.Accounts))
	for _, a := range e.Accounts {
		r := accountRowOf(a)
		if le, ok := e.Entities[a.LegalEntityID]; ok {
			r.Entity = le.Name
			if r.Entity == "" {
				r.Entity = le.LegalName
			}
		}
		r.Type = l.T("type_" + strings.ToLower(string(a.Type)))
		rows = append(rows, r)
	}
	return rows
}

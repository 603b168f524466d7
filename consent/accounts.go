package consent

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/bankfeed/bankfeed/store"
)

// accountRows describes accounts as the pages show them: with their legal
// entity and type, so "Exploitation" and "Exploitation Nord" of two
// entities are told apart (issue 14).
func (h *Handler) accountRows(ctx context.Context, l msgs, accounts []store.Account) ([]accountRow, error) {
	entities := map[string]string{}
	rows := make([]accountRow, 0, len(accounts))
	for _, a := range accounts {
		name, ok := entities[a.LegalEntityID]
		if !ok && a.LegalEntityID != "" {
			le, err := h.store.GetLegalEntity(ctx, a.LegalEntityID)
			switch {
			case err == nil:
				name = le.Name
				if name == "" {
					name = le.LegalName
				}
			case !errors.Is(err, store.ErrNotFound):
				return nil, fmt.Errorf("consent: get legal entity: %w", err)
			}
			entities[a.LegalEntityID] = name
		}
		r := accountRowOf(a)
		r.Entity = name
		r.Type = l.T("type_" + strings.ToLower(string(a.Type)))
		rows = append(rows, r)
	}
	return rows, nil
}

package consent

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/bankfeed/bankfeed/store"
)

// accountRows describes accounts as the pages show them: with their legal
// entity and type, so "Exploitation" and "Exploitation Nord" of two
// entities are told apart (issue 14). The entities' names are read by one
// statement whatever their number (it was one per entity, issue 15).
func (h *Handler) accountRows(ctx context.Context, l msgs, accounts []store.Account) ([]accountRow, error) {
	names, err := h.entityNames(ctx, accounts)
	if err != nil {
		return nil, err
	}
	rows := make([]accountRow, 0, len(accounts))
	for _, a := range accounts {
		r := accountRowOf(a)
		r.Entity = names[a.LegalEntityID]
		r.Type = l.T("type_" + strings.ToLower(string(a.Type)))
		rows = append(rows, r)
	}
	return rows, nil
}

// entityNames maps the legal entities of accounts to the names the pages
// show: the entity itself when there is one, else all of the business
// group's (accounts of one group; an entity gone has no name).
func (h *Handler) entityNames(ctx context.Context, accounts []store.Account) (map[string]string, error) {
	names := map[string]string{}
	var ids []string
	for _, a := range accounts {
		if a.LegalEntityID != "" && !slices.Contains(ids, a.LegalEntityID) {
			ids = append(ids, a.LegalEntityID)
		}
	}
	var entities []store.LegalEntity
	switch len(ids) {
	case 0:
		return names, nil
	case 1:
		le, err := h.store.GetLegalEntity(ctx, ids[0])
		if errors.Is(err, store.ErrNotFound) {
			return names, nil
		} else if err != nil {
			return nil, fmt.Errorf("consent: get legal entity: %w", err)
		}
		entities = []store.LegalEntity{le}
	default:
		var err error
		if entities, err = h.store.ListLegalEntities(ctx, accounts[0].BusinessGroupID); err != nil {
			return nil, fmt.Errorf("consent: list legal entities: %w", err)
		}
	}
	for _, le := range entities {
		if !slices.Contains(ids, le.ID) {
			continue
		}
		names[le.ID] = le.Name
		if le.Name == "" {
			names[le.ID] = le.LegalName
		}
	}
	return names, nil
}

package gormstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/bankfeed/bankfeed/store"
)

// flowAccountsQuery is UpdateReadAuthFlowAccounts' statement on
// PostgreSQL: authFlowUpdate (f), then accountsWithEntitiesQuery's
// accounts left-joined to its one row, so that the statement answers no
// row when the flow was not updated and one row per account (or one with
// a zero account) when it was; the caller appends the IN list.
var flowAccountsQuery = sync.OnceValue(func() string {
	return "WITH f AS (" + authFlowUpdate().text + " RETURNING version) SELECT f.version, " +
		zeroedColumns("x", &accountRow{}) + ", " + zeroedColumns("le", &legalEntityRow{}) +
		" FROM f LEFT JOIN accounts x ON x.business_group_id = ? AND x.id IN "
})

const flowAccountsTail = " LEFT JOIN legal_entities le ON le.id = x.legal_entity_id AND le.business_group_id = x.business_group_id ORDER BY x.id"

// UpdateReadAuthFlowAccounts is store.FlowStore's: on PostgreSQL one
// statement for up to maxIDsPerStatement accounts, where the consent page
// moved its flow and then listed the accounts its user may share, two
// (issue 15); otherwise the two steps in one transaction.
func (s *Store) UpdateReadAuthFlowAccounts(ctx context.Context, read store.AuthFlow, fn func(store.AuthFlow) (store.AuthFlow, error),
	businessGroupID string, accountIDs []string) (store.AuthFlow, []store.Account, map[string]store.LegalEntity, error) {
	ids := slices.Compact(slices.Sorted(slices.Values(accountIDs)))
	if len(ids) == 0 {
		f, err := s.UpdateReadAuthFlow(ctx, read, fn)
		return f, nil, map[string]store.LegalEntity{}, err
	}
	if s.dialect != dialectPostgres || len(ids) > maxIDsPerStatement {
		return s.updateReadAuthFlowAccountsInTx(ctx, read, fn, businessGroupID, ids)
	}
	nr, args, err := s.readFlowUpdate(read, fn)
	if err != nil {
		return store.AuthFlow{}, nil, nil, err
	}
	args = append(args, businessGroupID)
	for _, id := range ids {
		args = append(args, id)
	}
	q := flowAccountsQuery() + "(?" + strings.Repeat(",?", len(ids)-1) + ")" + flowAccountsTail
	updated := false
	var accounts []store.Account
	entities := map[string]store.LegalEntity{}
	err = s.writeQuery(ctx, q, args, func(sc rowScanner) error {
		var version int64
		var a accountRow
		var le legalEntityRow
		if err := sc.Scan(append([]any{&version}, columnPointers(&a, &le)...)...); err != nil {
			return err
		}
		updated = true
		if a.ID == "" {
			return nil
		}
		return addAccountWithEntity(&accounts, entities, a, le)
	})
	if err != nil {
		return store.AuthFlow{}, nil, nil, wrap("update read auth flow and list accounts", err)
	}
	if !updated {
		return store.AuthFlow{}, nil, nil, fmt.Errorf("gormstore: update read auth flow: %w: changed, expired or gone since read", store.ErrConflict)
	}
	f, err := authFlowMap.toDomain(nr)
	if err != nil {
		return store.AuthFlow{}, nil, nil, err
	}
	return f, accounts, entities, nil
}

func (s *Store) updateReadAuthFlowAccountsInTx(ctx context.Context, read store.AuthFlow, fn func(store.AuthFlow) (store.AuthFlow, error),
	businessGroupID string, ids []string) (f store.AuthFlow, accounts []store.Account, entities map[string]store.LegalEntity, err error) {
	err = s.InTx(ctx, func(ctx context.Context) error {
		if f, err = s.UpdateReadAuthFlow(ctx, read, fn); err != nil {
			return err
		}
		accounts, entities, err = s.AccountsWithEntities(ctx, businessGroupID, ids)
		return err
	})
	if err != nil {
		return store.AuthFlow{}, nil, nil, err
	}
	return f, accounts, entities, nil
}

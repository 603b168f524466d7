package gormstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/bankfeed/bankfeed/store"
)

// flowAccountsQuery is the statement on PostgreSQL of
// UpdateReadAuthFlowAccounts (write: authFlowUpdate) and
// CreateAuthFlowAccounts (authFlowInsert): the write (f), then
// accountsWithEntitiesQuery's accounts left-joined to its one row, so that
// the statement answers no row when the flow was not written and one row
// per account (or one with a zero account) when it was; the caller
// appends the IN list. ownCommit is the text for a statement that is its
// own transaction, inTx the text inside a caller's.
func flowAccountsQuery(write string) flowListing {
	text := func(with, from string) string {
		return with + "f AS (" + write + " RETURNING version) SELECT f.version, " +
			zeroedColumns("x", &accountRow{}) + ", " + zeroedColumns("le", &legalEntityRow{}) +
			from + " LEFT JOIN accounts x ON x.business_group_id = ? AND x.id IN "
	}
	return flowListing{
		ownCommit: text("WITH "+flowCommitCTE+", ", " FROM f CROSS JOIN e"),
		inTx:      text("WITH ", " FROM f"),
	}
}

// flowListing is a flowAccountsQuery's two texts.
type flowListing struct{ ownCommit, inTx string }

// flowCommitCTE lets the statement's own transaction commit without
// waiting for the WAL to reach the disk (synchronous_commit off for that
// transaction only; set_config's third argument is SET LOCAL's). A flow
// in progress is the one write a crash may lose at no one's cost: the
// user starts again from the vendor, as after its expiry, and any later
// durable commit (the consent's Allow reads and updates this row) flushes
// it first. With durable commits this is one of a flow's four flushes
// saved: 1.02-1.03x flows per second on a local disk, where a flush costs
// 0.06 ms; a synchronous standby makes it milliseconds (issue 15, README
// "Durable commits"). Never in a caller's transaction, whose other writes
// must stay durable. Only these two statements carry it: the flow stored
// by a signed-in browser's authorization request, and a flow moved to
// consent by the consent page. The flow a sign-in stores (CreateAuthFlow,
// behind a password's hash that costs far more than a flush) and every
// other flow write still wait for the disk; they were not measured.
const flowCommitCTE = "e AS (SELECT set_config('synchronous_commit', 'off', true))"

var (
	updateFlowAccountsQuery = sync.OnceValue(func() flowListing { return flowAccountsQuery(authFlowUpdate().text) })
	createFlowAccountsQuery = sync.OnceValue(func() flowListing { return flowAccountsQuery(authFlowInsert()) })
)

const flowAccountsTail = " LEFT JOIN legal_entities le ON le.id = x.legal_entity_id AND le.business_group_id = x.business_group_id ORDER BY x.id"

// UpdateReadAuthFlowAccounts is store.FlowStore's: on PostgreSQL one
// statement for up to maxIDsPerStatement accounts, where the consent page
// moved its flow and then listed the accounts its user may share, two
// (issue 15); otherwise the two steps in one transaction.
func (s *Store) UpdateReadAuthFlowAccounts(ctx context.Context, read store.AuthFlow, fn func(store.AuthFlow) (store.AuthFlow, error),
	businessGroupID string, accountIDs []string) (store.AuthFlow, []store.Account, map[string]store.LegalEntity, error) {
	ids := slices.Compact(slices.Sorted(slices.Values(accountIDs)))
	if len(ids) == 0 {
		return noAccounts(s.UpdateReadAuthFlow(ctx, read, fn))
	}
	if s.dialect != dialectPostgres || len(ids) > maxIDsPerStatement {
		return s.flowAccountsInTx(ctx, func(ctx context.Context) (store.AuthFlow, error) { return s.UpdateReadAuthFlow(ctx, read, fn) },
			businessGroupID, ids)
	}
	nr, args, err := s.readFlowUpdate(read, fn)
	if err != nil {
		return store.AuthFlow{}, nil, nil, err
	}
	return s.writeFlowListing(ctx, "update read auth flow and list accounts", updateFlowAccountsQuery(), args, nr, businessGroupID, ids)
}

// CreateAuthFlowAccounts is store.FlowStore's, as
// UpdateReadAuthFlowAccounts is: on PostgreSQL one statement where the
// authorization request of a signed-in browser stored its flow, then
// moved it to consent and listed the accounts (issue 15).
func (s *Store) CreateAuthFlowAccounts(ctx context.Context, f store.AuthFlow,
	businessGroupID string, accountIDs []string) (store.AuthFlow, []store.Account, map[string]store.LegalEntity, error) {
	ids := slices.Compact(slices.Sorted(slices.Values(accountIDs)))
	if len(ids) == 0 {
		return noAccounts(s.CreateAuthFlow(ctx, f))
	}
	if s.dialect != dialectPostgres || len(ids) > maxIDsPerStatement {
		return s.flowAccountsInTx(ctx, func(ctx context.Context) (store.AuthFlow, error) { return s.CreateAuthFlow(ctx, f) },
			businessGroupID, ids)
	}
	r := s.newAuthFlowRow(f)
	return s.writeFlowListing(ctx, "create auth flow and list accounts", createFlowAccountsQuery(), columnValues(&r), r, businessGroupID, ids)
}

// noAccounts is a flow written with no account to list.
func noAccounts(f store.AuthFlow, err error) (store.AuthFlow, []store.Account, map[string]store.LegalEntity, error) {
	if err != nil {
		return store.AuthFlow{}, nil, nil, err
	}
	return f, nil, map[string]store.LegalEntity{}, nil
}

// writeFlowListing runs q, a flowAccountsQuery, with the write's args and
// the accounts ids of businessGroupID, and answers the flow as written
// (row) with the accounts: ErrConflict when the write wrote no row.
func (s *Store) writeFlowListing(ctx context.Context, op string, ql flowListing, args []any, row authFlowRow, businessGroupID string, ids []string) (store.AuthFlow, []store.Account, map[string]store.LegalEntity, error) {
	q := ql.ownCommit
	if s.txFrom(ctx) != nil {
		q = ql.inTx
	}
	args = append(args, businessGroupID)
	for _, id := range ids {
		args = append(args, id)
	}
	q += "(?" + strings.Repeat(",?", len(ids)-1) + ")" + flowAccountsTail
	written := false
	var accounts []store.Account
	entities := map[string]store.LegalEntity{}
	err := s.writeQuery(ctx, q, args, func(sc rowScanner) error {
		var version int64
		var a accountRow
		var le legalEntityRow
		if err := sc.Scan(append([]any{&version}, columnPointers(&a, &le)...)...); err != nil {
			return err
		}
		written = true
		if a.ID == "" {
			return nil
		}
		return addAccountWithEntity(&accounts, entities, a, le)
	})
	if err != nil {
		return store.AuthFlow{}, nil, nil, wrap(op, err)
	}
	if !written {
		return store.AuthFlow{}, nil, nil, fmt.Errorf("gormstore: %s: %w: flow not written", op, store.ErrConflict)
	}
	f, err := authFlowMap.toDomain(row)
	if err != nil {
		return store.AuthFlow{}, nil, nil, err
	}
	return f, accounts, entities, nil
}

// flowAccountsInTx is write and then AccountsWithEntities in one
// transaction.
func (s *Store) flowAccountsInTx(ctx context.Context, write func(context.Context) (store.AuthFlow, error),
	businessGroupID string, ids []string) (f store.AuthFlow, accounts []store.Account, entities map[string]store.LegalEntity, err error) {
	err = s.InTx(ctx, func(ctx context.Context) error {
		if f, err = write(ctx); err != nil {
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

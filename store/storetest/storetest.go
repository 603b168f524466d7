package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/shopspring/decimal"

	"github.com/bankfeed/bankfeed/store"
)

type subtest struct {
	name string
	run  func(t *testing.T, s store.Store)
}

// Run runs the conformance suite; newStore must return a fresh, migrated,
// empty store for each sub-test (and close it in t.Cleanup).
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	tests := []subtest{
		{"BusinessGroups", testBusinessGroups},
		{"LegalEntitiesAndAgreements", testLegalEntities},
		{"OpenBusinessGroup", testOpenBusinessGroup},
		{"AddAdministrator", testAddAdministrator},
		{"AddAdministratorConcurrently", testAddAdministratorConcurrently},
		{"Accounts", testAccounts},
		{"AccountsWithEntities", testAccountsWithEntities},
		{"FDXAccountAndContactFields", testFDXFields},
		{"AccountPaging", testAccountPaging},
		{"Balances", testBalances},
		{"MoneyExact", testMoneyExact},
		{"TimeRoundTrip", testTimeRoundTrip},
		{"TransactionsCreate", testTransactionsCreate},
		{"TransactionsIdempotent", testTransactionsIdempotent},
		{"TransactionsIdempotentConcurrent", testTransactionsIdempotentConcurrent},
		{"TransactionsPaging", testTransactionsPaging},
		{"PendingLifecycle", testPendingLifecycle},
		{"ChangeFeed", testChangeFeed},
		{"SnapshotPagingDuringInserts", testSnapshotPagingDuringInserts},
		{"SeqCommitOrdered", testSeqCommitOrdered},
		{"StreamAndSum", testStreamAndSum},
		{"Statements", testStatements},
		{"Users", testUsers},
		{"UserPaging", testUserPaging},
		{"UserCompareAndSwap", testUserCompareAndSwap},
		{"JobRolesAndAccountGroups", testRolesAndGroups},
		{"Assignments", testAssignments},
		{"Approvals", testApprovals},
		{"ApprovalDecidedOnce", testApprovalDecidedOnce},
		{"Notifications", testNotifications},
		{"OutboxEnqueue", testOutboxEnqueue},
		{"OutboxLifecycle", testOutboxLifecycle},
		{"OutboxClaimConcurrently", testOutboxClaimConcurrently},
		{"OutboxDeleteDelivered", testOutboxDeleteDelivered},
		{"OutboxOperatorView", testOutboxOperatorView},
		{"Audit", testAudit},
		{"AuditAuthentication", testAuditAuthentication},
		{"Clients", testClients},
		{"ClientUpdate", testClientUpdate},
		{"ClientCompareAndSwap", testClientCompareAndSwap},
		{"Consents", testConsents},
		{"ConsentRevocationDeactivatesTokens", testConsentRevocation},
		{"ReplaceConsentKeepsOnePerUserClient", testReplaceConsent},
		{"Tokens", testTokens},
		{"TokensCreatedTogether", testTokensCreatedTogether},
		{"RefreshRotationOnce", testRefreshRotationOnce},
		{"RefreshRotationCreating", testRefreshRotationCreating},
		{"CodeConsumptionCreating", testCodeConsumptionCreating},
		{"AllowReadAuthFlow", testAllowReadAuthFlow},
		{"TokenConsumedOnce", testTokenConsumedOnce},
		{"TokenTakenOnce", testTokenTakenOnce},
		{"TokensTakenTogether", testTokensTakenTogether},
		{"ReadAccess", testReadAccess},
		{"ReadTokenAccess", testReadTokenAccess},
		{"ConcurrentTokenReads", testConcurrentTokenReads},
		{"GrantRecords", testGrantRecords},
		{"TokenGrantRecordsTaking", testTokenGrantRecordsTaking},
		{"JTI", testJTI},
		{"AuthFlows", testAuthFlows},
		{"AuthFlowUpdatedFromRead", testAuthFlowUpdateRead},
		{"AuthFlowUpdatedFromReadListingAccounts", testAuthFlowUpdateReadAccounts},
		{"AuthFlowCreatedListingAccounts", testAuthFlowCreateAccounts},
		{"SessionAccessWithFlow", testSessionAccessFlow},
		{"AuthFlowFinishedOnce", testAuthFlowFinish},
		{"AuthFlowFinishedAsRead", testAuthFlowFinishRead},
		{"FinishedFlowHoldsItsConsent", testFinishedFlowHoldsItsConsent},
		{"BrowserSessions", testBrowserSessions},
		{"SigningKeys", testSigningKeys},
		{"InTxCommitAndRollback", testInTx},
		{"ConcurrentOAuthWrites", testConcurrentOAuthWrites},
		{"TextRefused", testTextRefused},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t, newStore(t))
		})
	}
}

// Helpers.

func mustBe(t *testing.T, err, want error, what string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: error = %v, want errors.Is(%v)", what, err, want)
	}
}

// must fails the test on err, else returns v: must(s.GetUser(ctx, id))(t).
func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func noErr(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// cmpOpts compares store values: decimals by value, nil and empty alike.
var cmpOpts = []cmp.Option{
	cmp.Comparer(func(a, b decimal.Decimal) bool { return a.Equal(b) }),
	cmpopts.EquateEmpty(),
}

func diff(t *testing.T, what string, want, got any) {
	t.Helper()
	if d := cmp.Diff(want, got, cmpOpts...); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", what, d)
	}
}

// t0 is a fixed instant kept to the microsecond (what the backends store).
var t0 = time.Date(2025, 3, 14, 15, 9, 26, 535897000, time.UTC)

func money(s string) store.Money { return decimal.RequireFromString(s) }

// org is a business group with one entity and two accounts.
type org struct {
	group    store.BusinessGroup
	entity   store.LegalEntity
	accounts []store.Account
}

func newOrg(t *testing.T, s store.Store) org {
	t.Helper()
	ctx := t.Context()
	n := store.RandomToken(4)
	g := must(s.CreateBusinessGroup(ctx, store.BusinessGroup{ID: store.NewID("bg"), Name: "Group " + n, LegalName: "Group Inc."}))(t)
	e := must(s.CreateLegalEntity(ctx, store.LegalEntity{ID: store.NewID("le"), BusinessGroupID: g.ID, Name: "Entity", LegalName: "Entity Ltd."}))(t)
	o := org{group: g, entity: e}
	for i := range 2 {
		a := must(s.CreateAccount(ctx, store.Account{
			ID: store.NewID("acc"), BusinessGroupID: g.ID, LegalEntityID: e.ID,
			Number: fmt.Sprintf("00%d-%s-%s", i, store.RandomToken(6), n), Type: store.AccountChecking,
			Currency: "CAD", Status: store.AccountOpen, OpenedOn: "2024-01-02",
		}))(t)
		o.accounts = append(o.accounts, a)
	}
	return o
}

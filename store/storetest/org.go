package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/store"
)

func testBusinessGroups(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.GetBusinessGroup(ctx, "bg_missing")
	mustBe(t, err, store.ErrNotFound, "GetBusinessGroup(missing)")

	var want []store.BusinessGroup
	for _, id := range []string{"bg_c", "bg_a", "bg_b"} {
		g := must(s.CreateBusinessGroup(ctx, store.BusinessGroup{ID: id, Name: "Name " + id, LegalName: "Legal " + id, CreatedAt: t0}))(t)
		if !g.CreatedAt.Equal(t0) || g.UpdatedAt.IsZero() {
			t.Errorf("created group times = %v / %v", g.CreatedAt, g.UpdatedAt)
		}
		want = append(want, g)
	}
	_, err = s.CreateBusinessGroup(ctx, store.BusinessGroup{ID: "bg_a", Name: "again"})
	mustBe(t, err, store.ErrConflict, "CreateBusinessGroup(duplicate ID)")

	got := must(s.GetBusinessGroup(ctx, "bg_a"))(t)
	diff(t, "GetBusinessGroup", want[1], got)

	list := must(s.ListBusinessGroups(ctx))(t)
	diff(t, "ListBusinessGroups (by ID)", []store.BusinessGroup{want[1], want[2], want[0]}, list)

	upd := must(s.UpdateBusinessGroup(ctx, "bg_a", func(g store.BusinessGroup) (store.BusinessGroup, error) {
		g.Name = "Renamed"
		return g, nil
	}))(t)
	if upd.Name != "Renamed" || !upd.CreatedAt.Equal(t0) {
		t.Errorf("UpdateBusinessGroup = %+v", upd)
	}
	diff(t, "Get after update", upd, must(s.GetBusinessGroup(ctx, "bg_a"))(t))

	_, err = s.UpdateBusinessGroup(ctx, "bg_missing", func(g store.BusinessGroup) (store.BusinessGroup, error) { return g, nil })
	mustBe(t, err, store.ErrNotFound, "UpdateBusinessGroup(missing)")

	boom := fmt.Errorf("refused")
	_, err = s.UpdateBusinessGroup(ctx, "bg_a", func(g store.BusinessGroup) (store.BusinessGroup, error) { return g, boom })
	mustBe(t, err, boom, "UpdateBusinessGroup(fn error)")
}

func testLegalEntities(t *testing.T, s store.Store) {
	ctx := t.Context()
	g := must(s.CreateBusinessGroup(ctx, store.BusinessGroup{ID: "bg_1", Name: "One"}))(t)
	_, err := s.CreateLegalEntity(ctx, store.LegalEntity{ID: "le_x", BusinessGroupID: "bg_missing", Name: "X"})
	mustBe(t, err, store.ErrNotFound, "CreateLegalEntity(unknown group)")

	e2 := must(s.CreateLegalEntity(ctx, store.LegalEntity{ID: "le_2", BusinessGroupID: g.ID, Name: "Two"}))(t)
	e1 := must(s.CreateLegalEntity(ctx, store.LegalEntity{ID: "le_1", BusinessGroupID: g.ID, Name: "One"}))(t)
	_, err = s.CreateLegalEntity(ctx, store.LegalEntity{ID: "le_1", BusinessGroupID: g.ID, Name: "Dup"})
	mustBe(t, err, store.ErrConflict, "CreateLegalEntity(duplicate ID)")
	diff(t, "ListLegalEntities", []store.LegalEntity{e1, e2}, must(s.ListLegalEntities(ctx, g.ID))(t))
	diff(t, "GetLegalEntity", e2, must(s.GetLegalEntity(ctx, "le_2"))(t))
	if l := must(s.ListLegalEntities(ctx, "bg_other"))(t); len(l) != 0 {
		t.Errorf("entities of an unknown group = %v", l)
	}
	u := must(s.UpdateLegalEntity(ctx, "le_1", func(e store.LegalEntity) (store.LegalEntity, error) {
		e.LegalName = "One Ltd."
		return e, nil
	}))(t)
	if u.LegalName != "One Ltd." {
		t.Errorf("UpdateLegalEntity = %+v", u)
	}
	_, err = s.GetLegalEntity(ctx, "le_missing")
	mustBe(t, err, store.ErrNotFound, "GetLegalEntity(missing)")

	a := must(s.CreateServiceAgreement(ctx, store.ServiceAgreement{ID: "sa_1", LegalEntityID: e1.ID, Number: "SA-0001"}))(t)
	if a.BusinessGroupID != g.ID {
		t.Errorf("agreement business group = %q, want %q", a.BusinessGroupID, g.ID)
	}
	_, err = s.CreateServiceAgreement(ctx, store.ServiceAgreement{ID: "sa_2", LegalEntityID: e2.ID, Number: "SA-0001"})
	mustBe(t, err, store.ErrConflict, "CreateServiceAgreement(duplicate number)")
	_, err = s.CreateServiceAgreement(ctx, store.ServiceAgreement{ID: "sa_3", LegalEntityID: "le_missing", Number: "SA-0003"})
	mustBe(t, err, store.ErrNotFound, "CreateServiceAgreement(unknown entity)")
	diff(t, "ListServiceAgreements", []store.ServiceAgreement{a}, must(s.ListServiceAgreements(ctx, e1.ID))(t))
}

func testAccounts(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := newOrg(t, s)
	a := o.accounts[0]
	diff(t, "GetAccount", a, must(s.GetAccount(ctx, a.ID))(t))
	if a.DisplayNumber == "" || a.DisplayNumber == a.Number {
		t.Errorf("DisplayNumber = %q for number %q", a.DisplayNumber, a.Number)
	}
	_, err := s.CreateAccount(ctx, store.Account{LegalEntityID: o.entity.ID, Number: a.Number, Type: store.AccountSavings, Currency: "USD"})
	mustBe(t, err, store.ErrConflict, "CreateAccount(duplicate number)")
	_, err = s.CreateAccount(ctx, store.Account{ID: a.ID, LegalEntityID: o.entity.ID, Number: "other-1", Type: store.AccountSavings, Currency: "USD"})
	mustBe(t, err, store.ErrConflict, "CreateAccount(duplicate ID)")
	_, err = s.CreateAccount(ctx, store.Account{LegalEntityID: "le_missing", Number: "other-2", Type: store.AccountSavings, Currency: "USD"})
	mustBe(t, err, store.ErrNotFound, "CreateAccount(unknown entity)")
	_, err = s.CreateAccount(ctx, store.Account{LegalEntityID: o.entity.ID, Number: "other-3", Type: "BOGUS", Currency: "USD"})
	mustBe(t, err, store.ErrInvalid, "CreateAccount(bad type)")
	_, err = s.GetAccount(ctx, "acc_missing")
	mustBe(t, err, store.ErrNotFound, "GetAccount(missing)")

	closed := must(s.UpdateAccount(ctx, a.ID, func(a store.Account) (store.Account, error) {
		a.Status, a.ClosedOn, a.Nickname = store.AccountClosed, "2025-01-31", "Old operating"
		return a, nil
	}))(t)
	if closed.Status != store.AccountClosed || closed.ClosedOn != "2025-01-31" || closed.Nickname != "Old operating" {
		t.Errorf("UpdateAccount = %+v", closed)
	}
	_, err = s.UpdateAccount(ctx, a.ID, func(a store.Account) (store.Account, error) {
		a.LegalEntityID = "le_elsewhere"
		return a, nil
	})
	mustBe(t, err, store.ErrInvalid, "UpdateAccount(move entity)")

	open := store.AccountOpen
	got, next := must2(s.ListAccounts(ctx, store.AccountFilter{BusinessGroupID: &o.group.ID, Status: &open}, store.Page{}))(t)
	diff(t, "open accounts", []store.Account{o.accounts[1]}, got)
	if next != "" {
		t.Errorf("next = %q on the last page", next)
	}
	got, _ = must2(s.ListAccounts(ctx, store.AccountFilter{IDs: []string{}}, store.Page{}))(t)
	if len(got) != 0 {
		t.Errorf("IDs: [] selected %d accounts", len(got))
	}
	got, _ = must2(s.ListAccounts(ctx, store.AccountFilter{IDs: []string{o.accounts[1].ID, "acc_missing"}}, store.Page{}))(t)
	diff(t, "by IDs", []store.Account{o.accounts[1]}, got)
}

// must2 is must for a (list, next cursor, err) triple.
func must2[T any](v T, next string, err error) func(t *testing.T) (T, string) {
	return func(t *testing.T) (T, string) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v, next
	}
}

func testAccountPaging(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := newOrg(t, s)
	want := map[string]bool{o.accounts[0].ID: true, o.accounts[1].ID: true}
	for i := range 23 {
		a := must(s.CreateAccount(ctx, store.Account{LegalEntityID: o.entity.ID, Number: fmt.Sprintf("900-%03d", i),
			Type: store.AccountSavings, Currency: "USD"}))(t)
		want[a.ID] = true
	}
	other := newOrg(t, s)
	var seen []string
	after := ""
	for pages := 0; ; pages++ {
		if pages > 20 {
			t.Fatal("paging does not end")
		}
		page, next := must2(s.ListAccounts(ctx, store.AccountFilter{BusinessGroupID: &o.group.ID}, store.Page{After: after, Limit: 4}))(t)
		if len(page) > 4 {
			t.Fatalf("page of %d > limit 4", len(page))
		}
		for _, a := range page {
			seen = append(seen, a.ID)
		}
		if next == "" {
			break
		}
		after = next
	}
	if len(seen) != len(want) {
		t.Fatalf("walked %d accounts, want %d", len(seen), len(want))
	}
	for i, id := range seen {
		if !want[id] {
			t.Errorf("account %s of another group listed", id)
		}
		if i > 0 && seen[i-1] >= id {
			t.Errorf("not in ID order: %s then %s", seen[i-1], id)
		}
	}
	_ = other
}

func testBalances(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := newOrg(t, s)
	a := o.accounts[0].ID
	_, err := s.GetBalance(ctx, a)
	mustBe(t, err, store.ErrNotFound, "GetBalance(none yet)")
	noErr(t, s.SetBalance(ctx, store.Balance{AccountID: a, AsOf: t0, Ledger: money("100.10"), Available: money("90.00")}), "SetBalance")
	noErr(t, s.SetBalance(ctx, store.Balance{AccountID: a, AsOf: t0.Add(time.Hour), Ledger: money("-5.25"), Available: money("0")}), "SetBalance again")
	diff(t, "GetBalance", store.Balance{AccountID: a, AsOf: t0.Add(time.Hour), Ledger: money("-5.25"), Available: money("0")}, must(s.GetBalance(ctx, a))(t))
	err = s.SetBalance(ctx, store.Balance{AccountID: "acc_missing", AsOf: t0, Ledger: money("1"), Available: money("1")})
	mustBe(t, err, store.ErrNotFound, "SetBalance(unknown account)")

	day := func(d string, closing string, closed bool) store.DailyBalance {
		return store.DailyBalance{AccountID: a, BusinessDate: store.MustDate(d), OpeningLedger: money("1.00"),
			ClosingLedger: money(closing), OpeningAvailable: money("0.50"), ClosingAvailable: money(closing), Closed: closed}
	}
	noErr(t, s.PutDailyBalance(ctx, day("2025-01-02", "10.00", false)), "PutDailyBalance")
	noErr(t, s.PutDailyBalance(ctx, day("2025-01-02", "11.00", true)), "PutDailyBalance replace and close")
	err = s.PutDailyBalance(ctx, day("2025-01-02", "12.00", false))
	mustBe(t, err, store.ErrConflict, "PutDailyBalance(closed day)")
	noErr(t, s.PutDailyBalance(ctx, day("2025-01-06", "13.00", false)), "PutDailyBalance later day")

	got := must(s.GetDailyBalance(ctx, a, "2025-01-02"))(t)
	if !got.ClosingLedger.Equal(money("11.00")) || !got.Closed {
		t.Errorf("GetDailyBalance = %+v, want closing 11.00 closed", got)
	}
	_, err = s.GetDailyBalance(ctx, a, "2025-01-03")
	mustBe(t, err, store.ErrNotFound, "GetDailyBalance(no such day)")
	latest := must(s.LatestDailyBalance(ctx, a, "2025-01-05"))(t)
	if latest.BusinessDate != "2025-01-02" {
		t.Errorf("LatestDailyBalance(01-05) = %s, want 2025-01-02", latest.BusinessDate)
	}
	latest = must(s.LatestDailyBalance(ctx, a, "2025-02-01"))(t)
	if latest.BusinessDate != "2025-01-06" {
		t.Errorf("LatestDailyBalance(02-01) = %s, want 2025-01-06", latest.BusinessDate)
	}
	_, err = s.LatestDailyBalance(ctx, a, "2024-12-31")
	mustBe(t, err, store.ErrNotFound, "LatestDailyBalance(before any)")
}

// testMoneyExact checks decimals survive storage and sums exactly (a float
// would make 0.10 + 0.20 = 0.30000000000000004).
func testMoneyExact(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := newOrg(t, s)
	a := o.accounts[0].ID
	amounts := []string{"0.10", "0.20", "98765432109.87", "0.01"}
	var txs []store.Transaction
	for i, m := range amounts {
		txs = append(txs, posted(a, fmt.Sprintf("ext-%d", i), "2025-02-03", store.Credit, m))
	}
	txs = append(txs, posted(a, "ext-debit", "2025-02-03", store.Debit, "0.30"))
	created := must(s.CreateTransactions(ctx, txs))(t)
	for i, m := range amounts {
		got := must(s.GetTransaction(ctx, created[i].ID))(t)
		if !got.Amount.Equal(money(m)) || got.Amount.String() != money(m).String() {
			t.Errorf("amount %s came back as %s", m, got.Amount)
		}
	}
	n, debits, credits, err := s.SumPosted(ctx, a, "2025-02-01", "2025-02-28")
	noErr(t, err, "SumPosted")
	if n != 5 || !debits.Equal(money("0.30")) || !credits.Equal(money("98765432109.87").Add(money("0.31"))) {
		t.Errorf("SumPosted = %d, %s, %s", n, debits, credits)
	}
	if !money("0.10").Add(money("0.20")).Equal(credits.Sub(money("98765432109.88"))) {
		t.Errorf("0.10 + 0.20 != credits − big − 0.01: %s", credits)
	}
	_, err = s.CreateTransactions(ctx, []store.Transaction{posted(a, "ext-frac", "2025-02-03", store.Credit, "0.001")})
	mustBe(t, err, store.ErrInvalid, "CreateTransactions(fraction of a cent)")
	noErr(t, s.SetBalance(ctx, store.Balance{AccountID: a, AsOf: t0, Ledger: money("0.30"), Available: money("-0.07")}), "SetBalance")
	b := must(s.GetBalance(ctx, a))(t)
	if !b.Ledger.Equal(money("0.1").Add(money("0.2"))) || !b.Available.Equal(money("-0.07")) {
		t.Errorf("balance = %s / %s", b.Ledger, b.Available)
	}
}

// testTimeRoundTrip stores instants given in non-UTC zones and expects the
// same instants back, in UTC.
func testTimeRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, zone := range []string{"America/Toronto", "Asia/Kolkata", "Pacific/Chatham"} {
		loc, err := time.LoadLocation(zone)
		noErr(t, err, "LoadLocation")
		at := time.Date(2025, 11, 2, 1, 30, 15, 123456000, loc) // around a DST change in Toronto
		g := must(s.CreateBusinessGroup(ctx, store.BusinessGroup{ID: "bg_" + store.RandomToken(6), Name: zone, CreatedAt: at}))(t)
		got := must(s.GetBusinessGroup(ctx, g.ID))(t)
		if !got.CreatedAt.Equal(at) {
			t.Errorf("%s: stored %v, got %v", zone, at, got.CreatedAt)
		}
		if got.CreatedAt.Location() != time.UTC {
			t.Errorf("%s: came back in %v, want UTC", zone, got.CreatedAt.Location())
		}
		noErr(t, s.CreateToken(ctx, store.TokenRecord{Kind: store.TokenAccess, Signature: "sig-" + zone, Active: true,
			RequestedAt: at, ExpiresAt: at.Add(time.Hour)}), "CreateToken")
		tok := must(s.GetToken(ctx, store.TokenAccess, "sig-"+zone))(t)
		if !tok.RequestedAt.Equal(at) || !tok.ExpiresAt.Equal(at.Add(time.Hour)) || tok.ExpiresAt.Location() != time.UTC {
			t.Errorf("%s: token times %v / %v", zone, tok.RequestedAt, tok.ExpiresAt)
		}
		if !tok.FirstUsedAt.IsZero() {
			t.Errorf("zero time came back as %v", tok.FirstUsedAt)
		}
	}
}

// adminCan fails unless grants let their holders run the maker-checker:
// every operation of the article's three lists, and Approve on every kind
// of request.
func adminCan(t *testing.T, g store.Grants) {
	t.Helper()
	for _, op := range []store.Operation{store.OpViewUsers, store.OpCreateUser, store.OpEditUser, store.OpDeleteUser,
		store.OpViewJobRoles, store.OpCreateJobRole, store.OpEditJobRole, store.OpDeleteJobRole, store.OpEditSelfApproved,
		store.OpViewAccountGroups, store.OpCreateAccountGroup, store.OpEditAccountGroup, store.OpDeleteAccountGroup,
		store.OpViewAssignments, store.OpAssign} {
		if err := store.Check(g, op.Requirements()...); err != nil {
			t.Errorf("the Administrator role cannot %s: %v", op, err)
		}
	}
	for _, k := range []store.ApprovalKind{store.KindCreateUser, store.KindDeleteUser, store.KindLockUser, store.KindUnlockUser,
		store.KindResetPassword, store.KindCreateJobRole, store.KindEditJobRole, store.KindDeleteJobRole,
		store.KindCreateAccountGroup, store.KindEditAccountGroup, store.KindDeleteAccountGroup, store.KindAssign} {
		p, _ := k.ApprovalPermission()
		if err := store.Check(g, store.Requirement{Permission: p, Right: store.RightApprove}); err != nil {
			t.Errorf("the Administrator role cannot approve %s: %v", k, err)
		}
	}
}

// builtIns lists the business group's job roles and account groups.
func builtIns(t *testing.T, s store.Store, bg string) ([]store.JobRole, []store.AccountGroup) {
	t.Helper()
	roles, _ := must2(s.ListJobRoles(t.Context(), bg, store.Page{}))(t)
	groups, _ := must2(s.ListAccountGroups(t.Context(), bg, store.Page{}))(t)
	return roles, groups
}

// testOpenBusinessGroup: a business group is created with its built-in
// Administrator job role and empty Administrators account group, all or
// nothing (issue 10 §3).
func testOpenBusinessGroup(t *testing.T, s store.Store) {
	ctx := t.Context()
	g, b := must2x(store.OpenBusinessGroup(ctx, s, store.BusinessGroup{ID: "bg_new", Name: " New Co ", LegalName: " New Co Ltd. ", CreatedAt: t0}))(t)
	diff(t, "GetBusinessGroup", g, must(s.GetBusinessGroup(ctx, "bg_new"))(t))
	if g.Name != "New Co" || g.LegalName != "New Co Ltd." {
		t.Errorf("names not trimmed: %+v", g)
	}
	if !b.RoleCreated || !b.GroupCreated || b.AdministratorRole.Name != store.AdministratorRoleName || b.AdministratorRole.BusinessGroupID != g.ID ||
		b.AdministratorsGroup.Name != store.AdministratorsGroupName || len(b.AdministratorsGroup.AccountIDs) != 0 {
		t.Errorf("built-ins = %+v", b)
	}
	diff(t, "Administrator grants", store.AdminGrants().Normalize(), b.AdministratorRole.Grants.Normalize())
	adminCan(t, b.AdministratorRole.Grants)
	roles, groups := builtIns(t, s, g.ID)
	diff(t, "job roles", []store.JobRole{b.AdministratorRole}, roles)
	diff(t, "account groups", []store.AccountGroup{b.AdministratorsGroup}, groups)

	// Refused: nothing of the attempt remains.
	_, _, err := store.OpenBusinessGroup(ctx, s, store.BusinessGroup{ID: "bg_new", Name: "Again"})
	mustBe(t, err, store.ErrConflict, "OpenBusinessGroup(duplicate ID)")
	if roles, groups := builtIns(t, s, g.ID); len(roles) != 1 || len(groups) != 1 {
		t.Errorf("after a duplicate: %d roles, %d account groups", len(roles), len(groups))
	}
	_, _, err = store.OpenBusinessGroup(ctx, s, store.BusinessGroup{ID: "bg_unnamed", Name: "  "})
	mustBe(t, err, store.ErrInvalid, "OpenBusinessGroup(blank name)")
	_, _, err = store.OpenBusinessGroup(ctx, s, store.BusinessGroup{ID: "bg unnamed", Name: "Spaced"})
	mustBe(t, err, store.ErrInvalid, "OpenBusinessGroup(bad ID)")
	_, err = s.GetBusinessGroup(ctx, "bg_unnamed")
	mustBe(t, err, store.ErrNotFound, "GetBusinessGroup(refused)")
	if roles, groups := builtIns(t, s, "bg_unnamed"); len(roles) != 0 || len(groups) != 0 {
		t.Errorf("a refused group left %d roles, %d account groups", len(roles), len(groups))
	}
}

// testAddAdministrator: the operator's first administrators, each with a
// temporary password shown once, on a group with built-ins and on one
// created before them; every refusal writes nothing.
func testAddAdministrator(t *testing.T, s store.Store) {
	ctx := t.Context()
	g, b := must2x(store.OpenBusinessGroup(ctx, s, store.BusinessGroup{ID: "bg_onboard", Name: "Onboard Co"}))(t)
	var audited []store.Administrator
	hook := func(ctx context.Context, a store.Administrator) error {
		audited = append(audited, a)
		return nil
	}
	a := must(store.AddAdministrator(ctx, s, g.ID, store.NewAdministrator{LoginID: " First.Admin ", DisplayName: " Ada First ", Email: "ada@onboard.example"}, t0, hook))(t)
	u := must(s.GetUser(ctx, a.User.ID))(t)
	diff(t, "stored user", a.User, u)
	if u.LoginID != "First.Admin" || u.DisplayName != "Ada First" || u.Email != "ada@onboard.example" || u.BusinessGroupID != g.ID ||
		u.AccountingSoftware || u.Status != store.UserAwaitingSignIn || !u.MustChangePassword || u.SecurityQuestion != "" {
		t.Errorf("administrator = %+v", u)
	}
	if len(a.TemporaryPassword) < 12 || !store.VerifySecret(u.PasswordHash, a.TemporaryPassword) || strings.Contains(u.PasswordHash, a.TemporaryPassword) {
		t.Errorf("temporary password %q does not verify against the stored hash (or is stored in clear)", a.TemporaryPassword)
	}
	if a.BuiltIns.RoleCreated || a.BuiltIns.GroupCreated || a.BuiltIns.AdministratorRole.ID != b.AdministratorRole.ID || a.BuiltIns.AdministratorsGroup.ID != b.AdministratorsGroup.ID {
		t.Errorf("built-ins %+v, want the group's own %+v", a.BuiltIns, b)
	}
	asg := must(s.UserAssignment(ctx, u.ID, ""))(t)
	diff(t, "assignment", a.Assignment, asg)
	if asg.JobRoleID != b.AdministratorRole.ID || asg.AccountGroupID != b.AdministratorsGroup.ID || asg.BusinessGroupID != g.ID {
		t.Errorf("assignment = %+v", asg)
	}
	if len(audited) != 1 || audited[0].User.ID != u.ID || audited[0].TemporaryPassword != "" {
		t.Errorf("audit hook saw %+v; want the administrator once, without the password", audited)
	}
	second := must(store.AddAdministrator(ctx, s, g.ID, store.NewAdministrator{LoginID: "second.admin", DisplayName: "Ben Second"}, t0, nil))(t)
	if second.Assignment.JobRoleID != b.AdministratorRole.ID || second.TemporaryPassword == a.TemporaryPassword {
		t.Errorf("second administrator %+v", second)
	}

	// Refusals: nothing written.
	other := newOrg(t, s)
	users := func() int {
		us, _ := must2(s.ListUsers(ctx, store.UserFilter{BusinessGroupID: other.group.ID, IncludeDeleted: true}, store.Page{}))(t)
		return len(us)
	}
	for _, tc := range []struct {
		name  string
		bg    string
		in    store.NewAdministrator
		want  error
		field []string
	}{
		{"unknown business group", "bg_missing", store.NewAdministrator{LoginID: "nobody.here", DisplayName: "No One"}, store.ErrNotFound, nil},
		{"every invalid field", other.group.ID, store.NewAdministrator{LoginID: "-x", DisplayName: " ", Email: "not-mail"}, store.ErrInvalid, []string{"loginId", "displayName", "email"}},
		{"login ID of another business group (case-insensitive)", other.group.ID, store.NewAdministrator{LoginID: "FIRST.admin", DisplayName: "Impostor"}, store.ErrConflict, nil},
		{"audit refused", other.group.ID, store.NewAdministrator{LoginID: "audit.fails", DisplayName: "Audit Fails"}, errAuditRefused, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hook := func(context.Context, store.Administrator) error { return nil }
			if tc.want == errAuditRefused {
				hook = func(context.Context, store.Administrator) error { return errAuditRefused }
			}
			got, err := store.AddAdministrator(ctx, s, tc.bg, tc.in, t0, hook)
			mustBe(t, err, tc.want, "AddAdministrator")
			if got.TemporaryPassword != "" || got.User.ID != "" {
				t.Errorf("a refusal returned %+v", got)
			}
			var fields []string
			for _, p := range (store.NewAdministrator{LoginID: tc.in.LoginID, DisplayName: tc.in.DisplayName, Email: tc.in.Email}).Problems() {
				fields = append(fields, p.Field)
			}
			diff(t, "invalid fields", tc.field, fields)
			if n := users(); n != 0 {
				t.Errorf("%d users written", n)
			}
			if roles, groups := builtIns(t, s, other.group.ID); len(roles) != 0 || len(groups) != 0 {
				t.Errorf("a refusal created %d roles, %d account groups", len(roles), len(groups))
			}
		})
	}
	if _, err := s.GetUserByLogin(ctx, "audit.fails"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the user of a refused audit remains: %v", err)
	}
}

var errAuditRefused = errors.New("audit refused")

// testAddAdministratorConcurrently: administrators added at once to a
// group created before the built-ins existed share one Administrator role
// and one Administrators group.
func testAddAdministratorConcurrently(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := newOrg(t, s) // CreateBusinessGroup alone: no built-ins
	const n = 3
	var wg sync.WaitGroup
	res := make([]store.Administrator, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			res[i], errs[i] = store.AddAdministrator(ctx, s, o.group.ID, store.NewAdministrator{LoginID: fmt.Sprintf("admin.%d", i), DisplayName: "Admin"}, t0, nil)
		})
	}
	wg.Wait()
	for i, err := range errs {
		noErr(t, err, fmt.Sprintf("AddAdministrator %d", i))
	}
	roles, groups := builtIns(t, s, o.group.ID)
	if len(roles) != 1 || len(groups) != 1 || roles[0].Name != store.AdministratorRoleName || groups[0].Name != store.AdministratorsGroupName {
		t.Fatalf("roles %+v, account groups %+v; want one built-in of each", roles, groups)
	}
	adminCan(t, roles[0].Grants)
	created := 0
	for _, a := range res {
		if a.Assignment.JobRoleID != roles[0].ID || a.Assignment.AccountGroupID != groups[0].ID {
			t.Errorf("assignment %+v", a.Assignment)
		}
		if a.BuiltIns.RoleCreated {
			created++
		}
		if a.BuiltIns.GroupCreated {
			created++
		}
	}
	if created != 2 {
		t.Errorf("the calls say they created %d built-ins; want 2", created)
	}
}

func must2x[A, B any](a A, b B, err error) func(t *testing.T) (A, B) {
	return func(t *testing.T) (A, B) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return a, b
	}
}

// testAccountsWithEntities: the accounts of a group asked by ID, in ID
// order, with the group's legal entities they belong to; another group's
// account and an unknown ID are left out, and so is the entity of an
// account asked for by none.
func testAccountsWithEntities(t *testing.T, s store.Store) {
	ctx := t.Context()
	o, other := newOrg(t, s), newOrg(t, s)
	second := must(s.CreateLegalEntity(ctx, store.LegalEntity{ID: store.NewID("le"), BusinessGroupID: o.group.ID, Name: "Second",
		LegalName: "Second Ltd."}))(t)
	newAccount := func(entity string) store.Account {
		return must(s.CreateAccount(ctx, store.Account{ID: store.NewID("acc"), BusinessGroupID: o.group.ID, LegalEntityID: entity,
			Number: "n-" + store.RandomToken(8), Type: store.AccountSavings, Currency: "CAD", Status: store.AccountOpen,
			OpenedOn: "2024-01-02"}))(t)
	}
	ofSecond := newAccount(second.ID)
	ids := []string{other.accounts[0].ID, o.accounts[1].ID, "acc_unknown", ofSecond.ID, o.accounts[0].ID, ofSecond.ID}
	accounts, entities, err := s.AccountsWithEntities(ctx, o.group.ID, ids)
	noErr(t, err, "AccountsWithEntities")
	want := []store.Account{o.accounts[0], o.accounts[1], ofSecond}
	slices.SortFunc(want, func(a, b store.Account) int { return strings.Compare(a.ID, b.ID) })
	diff(t, "AccountsWithEntities' accounts", want, accounts)
	diff(t, "AccountsWithEntities' entities", map[string]store.LegalEntity{o.entity.ID: o.entity, second.ID: second}, entities)

	accounts, entities, err = s.AccountsWithEntities(ctx, o.group.ID, nil)
	noErr(t, err, "AccountsWithEntities(no IDs)")
	if len(accounts) != 0 || len(entities) != 0 {
		t.Errorf("AccountsWithEntities(no IDs) = %v, %v", accounts, entities)
	}
	// More IDs than one statement binds: all come back, in order.
	many := slices.Clone(ids)
	for range 1500 {
		many = append(many, store.NewID("acc"))
	}
	accounts, _, err = s.AccountsWithEntities(ctx, o.group.ID, many)
	noErr(t, err, "AccountsWithEntities(many IDs)")
	diff(t, "AccountsWithEntities(many IDs)", want, accounts)

	_, entities, err = s.AccountsWithEntities(ctx, o.group.ID, []string{ofSecond.ID})
	noErr(t, err, "AccountsWithEntities(one)")
	diff(t, "AccountsWithEntities(one)'s entities", map[string]store.LegalEntity{second.ID: second}, entities)
}

// testAuthFlowUpdateReadAccounts: UpdateReadAuthFlowAccounts is
// UpdateReadAuthFlow and, once that wrote, AccountsWithEntities: the same
// flow and the same accounts as the two calls, in one step; a stale read,
// an expired flow or fn's refusal writes nothing and lists nothing.
func testAuthFlowUpdateReadAccounts(t *testing.T, s store.Store) {
	ctx := t.Context()
	o, other := newOrg(t, s), newOrg(t, s)
	now := time.Now().UTC().Truncate(time.Microsecond)
	newFlow := func(expires time.Time) store.AuthFlow {
		f := must(s.CreateAuthFlow(ctx, store.AuthFlow{ID: store.RandomToken(24), ClientID: "vendor", Request: []byte("form"),
			State: store.FlowLogin, ExpiresAt: expires}))(t)
		return must(s.GetAuthFlow(ctx, f.ID))(t)
	}
	toConsent := func(x store.AuthFlow) (store.AuthFlow, error) {
		x.State, x.UserID, x.AuthTime = store.FlowConsent, "usr_1", now
		return x, nil
	}
	ids := []string{other.accounts[0].ID, o.accounts[1].ID, "acc_unknown", o.accounts[0].ID}
	wantAccounts, wantEntities := must2x(s.AccountsWithEntities(ctx, o.group.ID, ids))(t)
	if len(wantAccounts) != 2 {
		t.Fatalf("AccountsWithEntities = %v, want the group's two", wantAccounts)
	}

	read := newFlow(now.Add(10 * time.Minute))
	f, accounts, entities, err := s.UpdateReadAuthFlowAccounts(ctx, read, toConsent, o.group.ID, ids)
	noErr(t, err, "UpdateReadAuthFlowAccounts")
	diff(t, "UpdateReadAuthFlowAccounts' flow = GetAuthFlow", must(s.GetAuthFlow(ctx, read.ID))(t), f)
	if f.State != store.FlowConsent || f.UserID != "usr_1" || f.Version == read.Version {
		t.Errorf("UpdateReadAuthFlowAccounts' flow = %+v", f)
	}
	diff(t, "UpdateReadAuthFlowAccounts' accounts", wantAccounts, accounts)
	diff(t, "UpdateReadAuthFlowAccounts' entities", wantEntities, entities)

	// No account the group holds: the flow moves all the same.
	read = newFlow(now.Add(10 * time.Minute))
	f, accounts, _, err = s.UpdateReadAuthFlowAccounts(ctx, read, toConsent, o.group.ID, []string{other.accounts[0].ID})
	noErr(t, err, "UpdateReadAuthFlowAccounts(another group's account)")
	if f.State != store.FlowConsent || len(accounts) != 0 {
		t.Errorf("UpdateReadAuthFlowAccounts(another group's account) = %+v, %v", f, accounts)
	}
	read = newFlow(now.Add(10 * time.Minute))
	f, accounts, _, err = s.UpdateReadAuthFlowAccounts(ctx, read, toConsent, o.group.ID, nil)
	noErr(t, err, "UpdateReadAuthFlowAccounts(no IDs)")
	if f.State != store.FlowConsent || len(accounts) != 0 {
		t.Errorf("UpdateReadAuthFlowAccounts(no IDs) = %+v, %v", f, accounts)
	}

	// Refused: nothing written, nothing listed.
	for _, c := range []struct {
		what string
		read func() store.AuthFlow
		fn   func(store.AuthFlow) (store.AuthFlow, error)
		want error
	}{
		{"stale read", func() store.AuthFlow {
			r := newFlow(now.Add(10 * time.Minute))
			must(s.UpdateAuthFlow(ctx, r.ID, func(x store.AuthFlow) (store.AuthFlow, error) { x.CSRFToken = "moved"; return x, nil }))(t)
			return r
		}, toConsent, store.ErrConflict},
		{"expired", func() store.AuthFlow {
			r := newFlow(time.Now().Add(150 * time.Millisecond))
			time.Sleep(200 * time.Millisecond)
			return r
		}, toConsent, store.ErrConflict},
		{"fn refuses", func() store.AuthFlow { return newFlow(now.Add(10 * time.Minute)) },
			func(x store.AuthFlow) (store.AuthFlow, error) { return x, store.ErrNotFound }, store.ErrNotFound},
	} {
		r := c.read()
		f, accounts, entities, err := s.UpdateReadAuthFlowAccounts(ctx, r, c.fn, o.group.ID, ids)
		mustBe(t, err, c.want, "UpdateReadAuthFlowAccounts("+c.what+")")
		if f.ID != "" || accounts != nil || entities != nil {
			t.Errorf("UpdateReadAuthFlowAccounts(%s) = %+v, %v, %v; want nothing", c.what, f, accounts, entities)
		}
		if got, err := s.GetAuthFlow(ctx, r.ID); err == nil && got.State != store.FlowLogin {
			t.Errorf("UpdateReadAuthFlowAccounts(%s) wrote %+v", c.what, got)
		}
	}
}

// testAuthFlowCreateAccounts: CreateAuthFlowAccounts is CreateAuthFlow
// and, once that wrote, AccountsWithEntities: the flow as GetAuthFlow
// reads it and the same accounts as the two calls, in one step; a flow
// whose ID exists already is ErrConflict, nothing written or listed.
func testAuthFlowCreateAccounts(t *testing.T, s store.Store) {
	ctx := t.Context()
	o, other := newOrg(t, s), newOrg(t, s)
	now := time.Now().UTC().Truncate(time.Microsecond)
	atConsent := func() store.AuthFlow {
		return store.AuthFlow{ID: store.RandomToken(24), ClientID: "vendor", RequestedScopes: []string{"openid"}, Request: []byte("form"),
			State: store.FlowConsent, UserID: "usr_1", AuthTime: now, ExpiresAt: now.Add(10 * time.Minute)}
	}
	ids := []string{other.accounts[0].ID, o.accounts[1].ID, "acc_unknown", o.accounts[0].ID}
	wantAccounts, wantEntities := must2x(s.AccountsWithEntities(ctx, o.group.ID, ids))(t)
	if len(wantAccounts) != 2 {
		t.Fatalf("AccountsWithEntities = %v, want the group's two", wantAccounts)
	}

	in := atConsent()
	f, accounts, entities, err := s.CreateAuthFlowAccounts(ctx, in, o.group.ID, ids)
	noErr(t, err, "CreateAuthFlowAccounts")
	diff(t, "CreateAuthFlowAccounts' flow = GetAuthFlow", must(s.GetAuthFlow(ctx, in.ID))(t), f)
	if f.State != store.FlowConsent || f.UserID != "usr_1" || !f.AuthTime.Equal(now) || f.Version == 0 {
		t.Errorf("CreateAuthFlowAccounts' flow = %+v", f)
	}
	diff(t, "CreateAuthFlowAccounts' accounts", wantAccounts, accounts)
	diff(t, "CreateAuthFlowAccounts' entities", wantEntities, entities)

	// The flow as created is the read UpdateReadAuthFlow holds to.
	moved := must(s.UpdateReadAuthFlow(ctx, f, func(x store.AuthFlow) (store.AuthFlow, error) { x.CSRFToken = "moved"; return x, nil }))(t)
	if moved.CSRFToken != "moved" {
		t.Errorf("UpdateReadAuthFlow(created) = %+v", moved)
	}

	// No account the group holds, or none asked: the flow is created all the same.
	for _, c := range []struct {
		what string
		ids  []string
	}{{"another group's account", []string{other.accounts[0].ID}}, {"no IDs", nil}} {
		in := atConsent()
		f, accounts, _, err := s.CreateAuthFlowAccounts(ctx, in, o.group.ID, c.ids)
		noErr(t, err, "CreateAuthFlowAccounts("+c.what+")")
		if f.ID != in.ID || len(accounts) != 0 {
			t.Errorf("CreateAuthFlowAccounts(%s) = %+v, %v", c.what, f, accounts)
		}
		diff(t, "CreateAuthFlowAccounts("+c.what+")' flow = GetAuthFlow", must(s.GetAuthFlow(ctx, in.ID))(t), f)
	}

	// The ID exists already: nothing written, nothing listed.
	for _, c := range []struct {
		what string
		ids  []string
	}{{"accounts", ids}, {"no IDs", nil}} {
		dup := atConsent()
		dup.ID, dup.UserID = in.ID, "usr_2"
		f, accounts, entities, err := s.CreateAuthFlowAccounts(ctx, dup, o.group.ID, c.ids)
		mustBe(t, err, store.ErrConflict, "CreateAuthFlowAccounts(existing ID, "+c.what+")")
		if f.ID != "" || accounts != nil || entities != nil {
			t.Errorf("CreateAuthFlowAccounts(existing ID, %s) = %+v, %v, %v; want nothing", c.what, f, accounts, entities)
		}
		if got := must(s.GetAuthFlow(ctx, in.ID))(t); got.UserID != "usr_1" || got.CSRFToken != "moved" {
			t.Errorf("CreateAuthFlowAccounts(existing ID, %s) wrote %+v", c.what, got)
		}
	}
}

package store

import (
	"errors"
	"fmt"
	"slices"
	"testing"
)

// TestValidateGrantsEveryCombination walks every permission × right × user
// kind: an ordinary user's role may hold any known right; an accounting
// software user's role only View on Account summary and Manage statements.
func TestValidateGrantsEveryCombination(t *testing.T) {
	for _, p := range Permissions() {
		for _, r := range AllRights() {
			for _, as := range []bool{false, true} {
				name := fmt.Sprintf("%s/%s/accountingSoftware=%v", p, r, as)
				t.Run(name, func(t *testing.T) {
					err := ValidateGrants(Grants{{Permission: p, Rights: Rights(r)}}, as)
					allowed := !as || (r == RightView && (p == PermAccountSummary || p == PermManageStatements))
					if allowed && err != nil {
						t.Fatalf("refused: %v", err)
					}
					if !allowed {
						var re *RuleError
						if !errors.As(err, &re) || !errors.Is(err, ErrInvalid) {
							t.Fatalf("want *RuleError wrapping ErrInvalid, got %v", err)
						}
						if re.Message == "" {
							t.Fatal("empty message")
						}
					}
				})
			}
		}
	}
}

func TestValidateGrantsMessages(t *testing.T) {
	tests := []struct {
		name    string
		grants  Grants
		as      bool
		wantErr string
	}{
		{"execute names the article's instruction", Grants{{Permission: PermTransfers, Rights: Rights(RightExecute)}}, true,
			"grants: an accounting software user can never hold the Execute right (on \"Transfers\"); delete the user and create it again without the Accounting software box"},
		{"sign on account summary", Grants{{Permission: PermAccountSummary, Rights: Rights(RightView, RightSign)}}, true,
			"grants: an accounting software user can never hold the Sign right (on \"Account summary\"); delete the user and create it again without the Accounting software box"},
		{"edit on statements", Grants{{Permission: PermManageStatements, Rights: Rights(RightView, RightEdit)}}, true,
			"grants: an accounting software user may hold only the View right on \"Manage statements\", not Edit"},
		{"other permission", Grants{{Permission: PermManageUsers, Rights: Rights(RightView)}}, true,
			"grants: an accounting software user may hold only View on Account summary and Manage statements, not \"Manage users\""},
		{"self-approved for AS", Grants{{Permission: PermAccountSummary, Rights: Rights(RightView), SelfApproved: Rights(RightView)}}, true,
			"grants: an accounting software user cannot hold self-approved rights"},
		{"self-approved not held", Grants{{Permission: PermManageJobRoles, Rights: Rights(RightView), SelfApproved: Rights(RightCreate)}}, false,
			"grants: self-approved rights on \"Manage job roles\" must be among the rights held"},
		{"unknown permission", Grants{{Permission: "launch_rockets", Rights: Rights(RightView)}}, false,
			"grants: unknown permission \"launch_rockets\""},
		{"unknown right bit", Grants{{Permission: PermManageJobRoles, Rights: RightSet(1 << 7)}}, false,
			"grants: unknown right on permission \"Manage job roles\""},
		{"admin role for ordinary user", AdminGrants(), false, ""},
		{"read-only role for AS", AccountingSoftwareReadOnlyGrants(), true, ""},
		{"admin role for AS", AdminGrants(), true, "grants: an accounting software user may hold only View on Account summary and Manage statements, not \"Create users\""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateGrants(tc.grants, tc.as)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tc.wantErr {
				t.Fatalf("got %q\nwant %q", got, tc.wantErr)
			}
		})
	}
}

func TestRequiredAccountingSoftwareGrants(t *testing.T) {
	if err := RequiredAccountingSoftwareGrants(AccountingSoftwareReadOnlyGrants()); err != nil {
		t.Fatal(err)
	}
	for _, missing := range []Permission{PermAccountSummary, PermManageStatements} {
		var g Grants
		for _, pg := range AccountingSoftwareReadOnlyGrants() {
			if pg.Permission != missing {
				g = append(g, pg)
			}
		}
		if err := RequiredAccountingSoftwareGrants(g); !errors.Is(err, ErrInvalid) {
			t.Fatalf("without %s: got %v", missing, err)
		}
	}
}

// TestEffectiveGrants: whatever the role says, an accounting software user
// holds at most View on the two read permissions; inactive users hold nothing;
// a role of another business group gives nothing.
func TestEffectiveGrants(t *testing.T) {
	everything := Grants{}
	all := RightSet(0)
	for _, r := range AllRights() {
		all |= RightSet(r)
	}
	for _, p := range Permissions() {
		everything = append(everything, PermissionGrant{Permission: p, Rights: all, SelfApproved: all})
	}
	role := JobRole{BusinessGroupID: "bg1", Grants: everything}
	for _, st := range []UserStatus{UserPendingApproval, UserAwaitingSignIn, UserActive, UserLocked, UserDeleted} {
		for _, as := range []bool{false, true} {
			u := User{BusinessGroupID: "bg1", Status: st, AccountingSoftware: as}
			got := EffectiveGrants(u, role)
			for _, p := range Permissions() {
				for _, r := range AllRights() {
					has := got.Rights(p).Has(r)
					want := st == UserActive && (!as || (r == RightView && (p == PermAccountSummary || p == PermManageStatements)))
					if has != want {
						t.Errorf("status=%s as=%v %s/%s: has=%v want %v", st, as, p, r, has, want)
					}
				}
				if as && got.SelfApproved(p) != 0 {
					t.Errorf("AS user holds self-approved on %s", p)
				}
			}
		}
	}
	other := EffectiveGrants(User{BusinessGroupID: "bg2", Status: UserActive}, role)
	if len(other) != 0 {
		t.Fatalf("role of another business group gave %v", other)
	}
}

func TestAllowedScopes(t *testing.T) {
	tests := []struct {
		g    Grants
		want []string
	}{
		{AccountingSoftwareReadOnlyGrants(), DataScopes},
		{Grants{{Permission: PermAccountSummary, Rights: Rights(RightView)}}, []string{ScopeAccountsRead,
			ScopeFDXAccountBasic, ScopeFDXAccountDetailed, ScopeFDXTransactions, ScopeFDXCustomerContact}},
		{Grants{{Permission: PermManageStatements, Rights: Rights(RightView)}}, []string{ScopeStatementsRead, ScopeFDXStatements}},
		{Grants{{Permission: PermManageStatements, Rights: Rights(RightEdit)}}, nil},
		{Grants{}, nil},
	}
	for i, tc := range tests {
		if got := AllowedScopes(tc.g); !slices.Equal(got, tc.want) {
			t.Errorf("%d: got %v want %v", i, got, tc.want)
		}
	}
}

// TestOperationRequirements: for each operation, the full requirement list
// passes and removing exactly one (permission, right) is refused naming it.
func TestOperationRequirements(t *testing.T) {
	ops := []Operation{OpViewUsers, OpCreateUser, OpEditUser, OpDeleteUser, OpViewJobRoles, OpCreateJobRole, OpEditJobRole,
		OpDeleteJobRole, OpEditSelfApproved, OpViewAccountGroups, OpCreateAccountGroup, OpEditAccountGroup,
		OpDeleteAccountGroup, OpViewAssignments, OpAssign}
	for _, op := range ops {
		reqs := op.Requirements()
		if err := Check(AdminGrants(), reqs...); err != nil {
			t.Errorf("%s: the article's administrator is refused: %v", op, err)
		}
		for i, drop := range reqs {
			g := Grants{}
			for j, r := range reqs {
				if j != i {
					g = append(g, PermissionGrant{Permission: r.Permission, Rights: Rights(r.Right)})
				}
			}
			g = g.Normalize()
			// The dropped pair may be duplicated by another requirement line; only
			// check when it is truly missing.
			if g.Rights(drop.Permission).Has(drop.Right) {
				continue
			}
			err := Check(g, reqs...)
			var re *RightError
			if !errors.As(err, &re) || re.Permission != drop.Permission || re.Right != drop.Right {
				t.Errorf("%s without %s: got %v", op, drop, err)
			}
			if !errors.Is(err, ErrForbidden) {
				t.Errorf("%s: want ErrForbidden, got %v", op, err)
			}
		}
		// An accounting software user's grants never satisfy an admin operation.
		if err := Check(AccountingSoftwareReadOnlyGrants(), reqs...); err == nil {
			t.Errorf("%s allowed with the read-only role", op)
		}
	}
	if err := Check(AdminGrants(), Operation("nope").Requirements()...); err == nil {
		t.Error("unknown operation allowed")
	}
}

// TestArticleListsCovered: every (permission, right) the article's three lists
// name is required by at least one operation or decides an approval.
func TestArticleListsCovered(t *testing.T) {
	article := []Requirement{
		{PermCreateUsers, RightCreate},
		{PermManageUsersInAgreements, RightCreate}, {PermManageUsersInAgreements, RightView}, {PermManageUsersInAgreements, RightEdit}, {PermManageUsersInAgreements, RightApprove},
		{PermManagePermissions, RightView}, {PermManagePermissions, RightEdit}, {PermManagePermissions, RightApprove},
		{PermManageSelfApprovedPermissions, RightView}, {PermManageSelfApprovedPermissions, RightEdit},
		{PermManageServiceAgreements, RightView},
		{PermManageAccountGroups, RightView}, {PermManageAccountGroups, RightCreate}, {PermManageAccountGroups, RightEdit}, {PermManageAccountGroups, RightDelete}, {PermManageAccountGroups, RightApprove},
		{PermManageJobRoles, RightView}, {PermManageJobRoles, RightCreate}, {PermManageJobRoles, RightEdit}, {PermManageJobRoles, RightDelete}, {PermManageJobRoles, RightApprove},
		{PermManageUsers, RightView}, {PermManageLegalEntities, RightView},
	}
	used := map[Requirement]bool{}
	for _, op := range []Operation{OpViewUsers, OpCreateUser, OpEditUser, OpDeleteUser, OpViewJobRoles, OpCreateJobRole, OpEditJobRole,
		OpDeleteJobRole, OpEditSelfApproved, OpViewAccountGroups, OpCreateAccountGroup, OpEditAccountGroup,
		OpDeleteAccountGroup, OpViewAssignments, OpAssign} {
		for _, r := range op.Requirements() {
			used[r] = true
		}
	}
	for _, k := range []ApprovalKind{KindCreateUser, KindDeleteUser, KindLockUser, KindUnlockUser, KindResetPassword, KindCreateJobRole,
		KindEditJobRole, KindDeleteJobRole, KindCreateAccountGroup, KindEditAccountGroup, KindDeleteAccountGroup, KindAssign} {
		p, r := k.ApprovalPermission()
		if p == "" || r == 0 {
			t.Errorf("%s has no approval permission", k)
		}
		used[Requirement{p, RightApprove}] = true
	}
	for _, r := range article {
		if !used[r] {
			t.Errorf("the article names %s but no operation requires it", r)
		}
	}
}

// TestCanDecide is the maker-checker rule for every approval kind: Approve
// on the matching permission is needed; the initiator also needs the
// self-approved right; decided requests are conflicts.
func TestCanDecide(t *testing.T) {
	kinds := []ApprovalKind{KindCreateUser, KindDeleteUser, KindLockUser, KindUnlockUser, KindResetPassword, KindCreateJobRole,
		KindEditJobRole, KindDeleteJobRole, KindCreateAccountGroup, KindEditAccountGroup, KindDeleteAccountGroup, KindAssign}
	for _, k := range kinds {
		p, right := k.ApprovalPermission()
		req := ApprovalRequest{Kind: k, Permission: p, Right: right, InitiatorID: "maker", Status: ApprovalPending}
		withApprove := Grants{{Permission: p, Rights: Rights(RightApprove, right)}}
		withSelf := Grants{{Permission: p, Rights: Rights(RightApprove, right), SelfApproved: Rights(right)}}
		withoutApprove := Grants{{Permission: p, Rights: Rights(right, RightView)}}
		cases := []struct {
			name    string
			decider string
			g       Grants
			status  ApprovalStatus
			want    error
		}{
			{"checker with Approve", "checker", withApprove, ApprovalPending, nil},
			{"checker without Approve", "checker", withoutApprove, ApprovalPending, ErrForbidden},
			{"maker without self-approved", "maker", withApprove, ApprovalPending, ErrForbidden},
			{"maker with self-approved", "maker", withSelf, ApprovalPending, nil},
			{"maker with self-approved but no Approve", "maker", Grants{{Permission: p, Rights: Rights(right), SelfApproved: Rights(right)}}, ApprovalPending, ErrForbidden},
			{"already approved", "checker", withApprove, ApprovalApproved, ErrConflict},
			{"already rejected", "checker", withApprove, ApprovalRejected, ErrConflict},
			{"cancelled", "checker", withApprove, ApprovalCancelled, ErrConflict},
			{"AS user", "checker", AccountingSoftwareReadOnlyGrants(), ApprovalPending, ErrForbidden},
		}
		for _, tc := range cases {
			t.Run(string(k)+"/"+tc.name, func(t *testing.T) {
				r := req
				r.Status = tc.status
				err := CanDecide(tc.decider, tc.g, r)
				if tc.want == nil && err != nil {
					t.Fatalf("refused: %v", err)
				}
				if tc.want != nil && !errors.Is(err, tc.want) {
					t.Fatalf("got %v, want %v", err, tc.want)
				}
			})
		}
	}
}

func TestVisibleAccounts(t *testing.T) {
	accounts := []Account{
		{ID: "a1", BusinessGroupID: "bg1"}, {ID: "a2", BusinessGroupID: "bg1"}, {ID: "a3", BusinessGroupID: "bg1"},
		{ID: "b1", BusinessGroupID: "bg2"},
	}
	group := AccountGroup{BusinessGroupID: "bg1", AccountIDs: []string{"a1", "a3", "b1"}}
	ids := func(as []Account) []string {
		var out []string
		for _, a := range as {
			out = append(out, a.ID)
		}
		return out
	}
	tests := []struct {
		name  string
		user  User
		group AccountGroup
		want  []string
	}{
		{"exactly the group's own accounts", User{BusinessGroupID: "bg1", Status: UserActive}, group, []string{"a1", "a3"}},
		{"group of another business group", User{BusinessGroupID: "bg2", Status: UserActive}, group, nil},
		{"locked user", User{BusinessGroupID: "bg1", Status: UserLocked}, group, nil},
		{"deleted user", User{BusinessGroupID: "bg1", Status: UserDeleted}, group, nil},
		{"awaiting first sign-in", User{BusinessGroupID: "bg1", Status: UserAwaitingSignIn}, group, nil},
		{"empty group", User{BusinessGroupID: "bg1", Status: UserActive}, AccountGroup{BusinessGroupID: "bg1"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ids(VisibleAccounts(tc.user, tc.group, accounts)); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v want %v", got, tc.want)
			}
		})
	}
	if CanSeeAccount(User{BusinessGroupID: "bg1", Status: UserActive}, group, accounts[1]) {
		t.Fatal("a2 is outside the group")
	}
}

func TestRightSetJSON(t *testing.T) {
	s := Rights(RightApprove, RightView)
	b, err := s.MarshalJSON()
	if err != nil || string(b) != `["View","Approve"]` {
		t.Fatalf("%s %v", b, err)
	}
	var back RightSet
	if err := back.UnmarshalJSON(b); err != nil || back != s {
		t.Fatalf("%v %v", back, err)
	}
	if err := back.UnmarshalJSON([]byte(`["Fly"]`)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("unknown right: %v", err)
	}
}

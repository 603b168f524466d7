package store

import (
	"errors"
	"fmt"
	"slices"
	"testing"
)

func TestSelfApprovedChanged(t *testing.T) {
	jr := func(rights, self RightSet) PermissionGrant {
		return PermissionGrant{Permission: PermManageJobRoles, Rights: rights, SelfApproved: self}
	}
	vc := Rights(RightView, RightCreate)
	tests := []struct {
		name          string
		before, after Grants
		want          bool
	}{
		{"new role without any", nil, Grants{jr(vc, 0)}, false},
		{"new role with one", nil, Grants{jr(vc, Rights(RightCreate))}, true},
		{"nothing at all", nil, nil, false},
		{"rights change, self-approved same", Grants{jr(vc, Rights(RightCreate))}, Grants{jr(vc|Rights(RightEdit), Rights(RightCreate))}, false},
		{"added", Grants{jr(vc, 0)}, Grants{jr(vc, Rights(RightCreate))}, true},
		{"removed", Grants{jr(vc, Rights(RightCreate))}, Grants{jr(vc, 0)}, true},
		{"another right", Grants{jr(vc, Rights(RightCreate))}, Grants{jr(vc, Rights(RightView))}, true},
		{"line removed with its self-approved", Grants{jr(vc, Rights(RightCreate))}, Grants{}, true},
		{"moved to another permission", Grants{jr(vc, Rights(RightView))},
			Grants{jr(vc, 0), {Permission: PermManageAccountGroups, Rights: Rights(RightView), SelfApproved: Rights(RightView)}}, true},
		{"same, other order", Grants{{Permission: PermManageAccountGroups, Rights: Rights(RightView), SelfApproved: Rights(RightView)}, jr(vc, Rights(RightCreate))},
			Grants{jr(vc, Rights(RightCreate)), {Permission: PermManageAccountGroups, Rights: Rights(RightView), SelfApproved: Rights(RightView)}}, false},
		{"unknown permission", nil, Grants{{Permission: "launch_rockets", Rights: Rights(RightView), SelfApproved: Rights(RightView)}}, true},
	}
	for _, tc := range tests {
		if got := SelfApprovedChanged(tc.before, tc.after); got != tc.want {
			t.Errorf("%s: got %v want %v", tc.name, got, tc.want)
		}
	}
}

var allKinds = []ApprovalKind{KindCreateUser, KindDeleteUser, KindLockUser, KindUnlockUser, KindResetPassword, KindCreateJobRole,
	KindEditJobRole, KindDeleteJobRole, KindCreateAccountGroup, KindEditAccountGroup, KindDeleteAccountGroup, KindAssign}

// TestJobRoleAlsoExercises: only a job-role creation or edit that changes
// self-approved rights exercises anything beyond its kind's own right, and
// then Edit on Manage self-approved permissions.
func TestJobRoleAlsoExercises(t *testing.T) {
	plain := Grants{{Permission: PermManageJobRoles, Rights: Rights(RightView)}}
	self := Grants{{Permission: PermManageJobRoles, Rights: Rights(RightView), SelfApproved: Rights(RightView)}}
	for _, k := range allKinds {
		for _, changed := range []bool{false, true} {
			after := plain
			if changed {
				after = self
			}
			got := JobRoleAlsoExercises(k, plain, after)
			var want []Requirement
			if changed && (k == KindCreateJobRole || k == KindEditJobRole) {
				want = []Requirement{{PermManageSelfApprovedPermissions, RightEdit}}
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s changed=%v: got %v want %v", k, changed, got, want)
			}
		}
	}
}

// TestSelfApprovedMakerChecker is the whole rule for a job-role request
// that changes self-approved rights (issue 10, finding 3). Maker: every
// requirement of SubmitRequirements is needed (dropping any one is refused
// naming it), and they are the operation's plus View and Edit on Manage
// self-approved permissions. Checker: every combination of Approve and
// self-approved on both permissions, as another user and as the maker.
func TestSelfApprovedMakerChecker(t *testing.T) {
	for _, c := range []struct {
		kind ApprovalKind
		op   Operation
	}{{KindCreateJobRole, OpCreateJobRole}, {KindEditJobRole, OpEditJobRole}} {
		also := JobRoleAlsoExercises(c.kind, nil, Grants{{Permission: PermManageJobRoles, Rights: Rights(RightView), SelfApproved: Rights(RightView)}})
		reqs := SubmitRequirements(c.op, also...)
		want := append(c.op.Requirements(), OpEditSelfApproved.Requirements()...)
		if !slices.Equal(reqs, want) {
			t.Fatalf("%s: SubmitRequirements = %v, want %v", c.kind, reqs, want)
		}
		if !slices.Equal(SubmitRequirements(c.op), c.op.Requirements()) {
			t.Fatalf("%s: SubmitRequirements without also differs from the operation's", c.kind)
		}
		if err := Check(AdminGrants(), reqs...); err != nil {
			t.Errorf("%s: the article's administrator may not submit: %v", c.kind, err)
		}
		for i, drop := range reqs {
			g := Grants{}
			for j, r := range reqs {
				if j != i {
					g = append(g, PermissionGrant{Permission: r.Permission, Rights: Rights(r.Right)})
				}
			}
			if g.Normalize().Rights(drop.Permission).Has(drop.Right) {
				continue // required twice
			}
			var re *RightError
			if err := Check(g.Normalize(), reqs...); !errors.As(err, &re) || re.Permission != drop.Permission || re.Right != drop.Right {
				t.Errorf("%s: maker without %s: got %v", c.kind, drop, err)
			}
		}

		p, right := c.kind.ApprovalPermission()
		req := ApprovalRequest{Kind: c.kind, Permission: p, Right: right, InitiatorID: "maker", Status: ApprovalPending}
		for mask := range 16 {
			approveJR, approveSA, selfJR, selfSA := mask&1 != 0, mask&2 != 0, mask&4 != 0, mask&8 != 0
			jr := PermissionGrant{Permission: PermManageJobRoles, Rights: Rights(RightView, right)}
			sa := PermissionGrant{Permission: PermManageSelfApprovedPermissions, Rights: Rights(RightView, RightEdit)}
			if approveJR {
				jr.Rights |= Rights(RightApprove)
			}
			if approveSA {
				sa.Rights |= Rights(RightApprove)
			}
			if selfJR {
				jr.SelfApproved = Rights(right)
			}
			if selfSA {
				sa.SelfApproved = Rights(RightEdit)
			}
			g := Grants{jr, sa}
			for _, decider := range []string{"checker", "maker"} {
				name := fmt.Sprintf("%s/%s/approveJR=%v,approveSA=%v,selfJR=%v,selfSA=%v", c.kind, decider, approveJR, approveSA, selfJR, selfSA)
				// Without anything more exercised only the kind's own right counts.
				wantPlain := approveJR && (decider != "maker" || selfJR)
				if err := CanDecide(decider, g, req); (err == nil) != wantPlain {
					t.Errorf("%s, no self-approved change: got %v, want allowed=%v", name, err, wantPlain)
				}
				want := approveJR && approveSA && (decider != "maker" || selfJR && selfSA)
				err := CanDecide(decider, g, req, also...)
				if (err == nil) != want {
					t.Errorf("%s: got %v, want allowed=%v", name, err, want)
				}
				var re *RightError
				if err != nil && (!errors.As(err, &re) || !errors.Is(err, ErrForbidden)) {
					t.Errorf("%s: want a *RightError, got %v", name, err)
				}
				// The refusal names the first missing right, in order.
				if err != nil && approveJR && (decider != "maker" || selfJR) {
					wantRight := RightApprove
					if approveSA {
						wantRight = RightEdit // only the self-approved Edit is missing
					}
					if re.Permission != PermManageSelfApprovedPermissions || re.Right != wantRight {
						t.Errorf("%s: refusal names %s/%s, want %s/%s", name, re.Permission, re.Right, PermManageSelfApprovedPermissions, wantRight)
					}
				}
			}
		}
		done := req
		done.Status = ApprovalApproved
		if err := CanDecide("checker", AdminGrants(), done, also...); !errors.Is(err, ErrConflict) {
			t.Errorf("%s: decided request: got %v", c.kind, err)
		}
	}
}

// TestCheckAssignable: every combination of candidate role lines, for an
// ordinary user and an accounting software user. The software user's role
// must hold exactly View on Account summary and on Manage statements
// (rule 3); an ordinary user's may hold any of them.
func TestCheckAssignable(t *testing.T) {
	lines := []PermissionGrant{
		{Permission: PermAccountSummary, Rights: Rights(RightView)},
		{Permission: PermManageStatements, Rights: Rights(RightView)},
		{Permission: PermAccountSummary, Rights: Rights(RightEdit)},
		{Permission: PermManageUsers, Rights: Rights(RightView)},
		{Permission: PermTransfers, Rights: Rights(RightExecute)},
		{Permission: PermManageStatements, Rights: Rights(RightView), SelfApproved: Rights(RightView)},
	}
	for mask := range 1 << len(lines) {
		var g Grants
		for i, l := range lines {
			if mask&(1<<i) != 0 {
				g = append(g, l)
			}
		}
		for _, as := range []bool{false, true} {
			err := CheckAssignable(User{AccountingSoftware: as}, JobRole{Name: "r", Grants: g})
			want := !as || mask == 0b11 // both View lines and nothing else
			if (err == nil) != want {
				t.Errorf("lines %06b accountingSoftware=%v: got %v, want allowed=%v", mask, as, err, want)
			}
			var re *RuleError
			if err != nil && (!errors.As(err, &re) || !errors.Is(err, ErrInvalid) || re.Field != "grants" || re.Message == "") {
				t.Errorf("lines %06b: want a *RuleError on grants, got %v", mask, err)
			}
		}
	}
	// The refusal for a missing View names the permission it lacks.
	err := CheckAssignable(User{AccountingSoftware: true}, JobRole{Grants: Grants{lines[0]}})
	if err == nil || err.Error() != `grants: a job role for an accounting software user must include "Manage statements" with the View right` {
		t.Errorf("summary only: got %v", err)
	}
}

package store

import (
	"errors"
	"testing"
)

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

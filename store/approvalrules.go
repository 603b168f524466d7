package store

// Rules a request must meet when it is submitted and again when it is
// decided: what else a job-role change exercises, and what role an
// accounting software user may be assigned.

// SelfApprovedChanged reports whether any self-approved right differs
// between a job role's grants before a change (nil for a new role) and
// after it. Adding and removing both count.
func SelfApprovedChanged(before, after Grants) bool {
	perms := map[Permission]bool{}
	for _, g := range []Grants{before, after} {
		for _, pg := range g {
			perms[pg.Permission] = true
		}
	}
	for p := range perms {
		if before.SelfApproved(p) != after.SelfApproved(p) {
			return true
		}
	}
	return false
}

// JobRoleAlsoExercises lists what a job-role request exercises beyond its
// kind's own (permission, right) (ApprovalKind.ApprovalPermission): a
// change to self-approved rights is also an edit under Manage self-approved
// permissions, which the article lists (View, Edit, Approve) next to Manage
// job roles. Its maker needs View and Edit there (SubmitRequirements) and
// its checker Approve there (CanDecide's also). Any other kind exercises
// nothing more.
func JobRoleAlsoExercises(kind ApprovalKind, before, after Grants) []Requirement {
	if kind != KindCreateJobRole && kind != KindEditJobRole {
		return nil
	}
	if !SelfApprovedChanged(before, after) {
		return nil
	}
	return []Requirement{{PermManageSelfApprovedPermissions, RightEdit}}
}

// SubmitRequirements is what a maker needs to submit a request of operation
// op that also exercises also: op's requirements, and View plus the
// exercised right on each further permission.
func SubmitRequirements(op Operation, also ...Requirement) []Requirement {
	out := op.Requirements()
	for _, ex := range also {
		out = append(out, Requirement{ex.Permission, RightView}, ex)
	}
	return out
}

// CheckAssignable is rule 3 when a role is given to a user: an accounting
// software user's job role must select View on Account summary and on
// Manage statements and nothing beyond; anyone else may hold any valid
// role. The role may change between submission and approval, so both
// check. It returns a *RuleError.
func CheckAssignable(u User, role JobRole) error {
	if err := ValidateGrants(role.Grants, u.AccountingSoftware); err != nil {
		return err
	}
	if u.AccountingSoftware {
		return RequiredAccountingSoftwareGrants(role.Grants)
	}
	return nil
}

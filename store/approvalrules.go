package store

// Rules a request must meet when it is submitted and again when it is
// decided: what else a job-role change exercises, and what role an
// accounting software user may be assigned.

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

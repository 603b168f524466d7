package store

import "fmt"

// OAuth scopes that map to job-role rights.
const (
	ScopeAccountsRead   = "accounts.read"   // Account summary: View
	ScopeStatementsRead = "statements.read" // Manage statements: View
	ScopeOpenID         = "openid"
	ScopeProfile        = "profile"
	ScopeOfflineAccess  = "offline_access"
	ScopeAdmin          = "admin"    // first-party online-banking front end
	ScopeOperator       = "operator" // first-party core-banking feed
)

// FDX's scopes (its data clusters as OAuth scopes), accepted beside ours so
// that a recipient integrating FDX banks connects with no new code.
const (
	ScopeFDXAccountBasic    = "fdx:accountbasic:read"    // the account descriptors
	ScopeFDXAccountDetailed = "fdx:accountdetailed:read" // with balances and rates
	ScopeFDXTransactions    = "fdx:transactions:read"    // transactions and the change feed
	ScopeFDXStatements      = "fdx:statements:read"      // statements, documents, exports
	ScopeFDXCustomerContact = "fdx:customercontact:read" // the holder's address, e-mail, phone
)

// ScopePermission is the permission (with View) each data scope requires.
// FDX's account clusters and the holder's contact are Account summary's, as
// accounts.read is (the summary shows the holder); its statements are
// Manage statements', as statements.read is.
var ScopePermission = map[string]Permission{
	ScopeAccountsRead:       PermAccountSummary,
	ScopeStatementsRead:     PermManageStatements,
	ScopeFDXAccountBasic:    PermAccountSummary,
	ScopeFDXAccountDetailed: PermAccountSummary,
	ScopeFDXTransactions:    PermAccountSummary,
	ScopeFDXCustomerContact: PermAccountSummary,
	ScopeFDXStatements:      PermManageStatements,
}

// DataScopes are every data scope in a stable order: ours, then FDX's.
var DataScopes = []string{
	ScopeAccountsRead, ScopeStatementsRead,
	ScopeFDXAccountBasic, ScopeFDXAccountDetailed, ScopeFDXTransactions, ScopeFDXStatements, ScopeFDXCustomerContact,
}

// IsDataScope reports whether s is a data scope (bounded by the job role).
func IsDataScope(s string) bool {
	_, ok := ScopePermission[s]
	return ok
}

// accountingSoftwareCeiling is everything an accounting software user may ever
// hold: View on Account summary and on Manage statements, nothing else.
var accountingSoftwareCeiling = Grants{
	{Permission: PermAccountSummary, Rights: Rights(RightView)},
	{Permission: PermManageStatements, Rights: Rights(RightView)},
}

// ValidateGrants checks a job role's grants: known permissions and rights,
// self-approved rights only among held rights, and — when the role is meant
// for (or assigned to) an accounting software user — nothing beyond View on
// Account summary and Manage statements. It returns a *RuleError.
func ValidateGrants(g Grants, forAccountingSoftware bool) error {
	for _, pg := range g {
		if !pg.Permission.Valid() {
			return Invalid("grants", "unknown permission %q", pg.Permission)
		}
		if !pg.Rights.Valid() || !pg.SelfApproved.Valid() {
			return Invalid("grants", "unknown right on permission %q", pg.Permission.Title())
		}
		if pg.SelfApproved&^pg.Rights != 0 {
			return Invalid("grants", "self-approved rights on %q must be among the rights held", pg.Permission.Title())
		}
		if forAccountingSoftware {
			if err := checkAccountingSoftwareGrant(pg); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkAccountingSoftwareGrant(pg PermissionGrant) error {
	allowed := accountingSoftwareCeiling.Rights(pg.Permission)
	if extra := pg.Rights &^ allowed; extra != 0 {
		r := extra.List()[0]
		if r == RightExecute || r == RightSign {
			return Invalid("grants", "an accounting software user can never hold the %s right (on %q); delete the user and create it again without the Accounting software box", r, pg.Permission.Title())
		}
		if allowed == 0 {
			return Invalid("grants", "an accounting software user may hold only View on Account summary and Manage statements, not %q", pg.Permission.Title())
		}
		return Invalid("grants", "an accounting software user may hold only the View right on %q, not %s", pg.Permission.Title(), r)
	}
	if pg.SelfApproved != 0 {
		return Invalid("grants", "an accounting software user cannot hold self-approved rights")
	}
	return nil
}

// RequiredAccountingSoftwareGrants checks the article's rule 3: a role for an
// accounting software user must select View on Account summary and on
// Manage statements.
func RequiredAccountingSoftwareGrants(g Grants) error {
	for _, want := range accountingSoftwareCeiling {
		if !g.Rights(want.Permission).Has(RightView) {
			return Invalid("grants", "a job role for an accounting software user must include %q with the View right", want.Permission.Title())
		}
	}
	return nil
}

// EffectiveGrants is what a user actually holds through a role: nothing for
// an inactive user, and for an accounting software user the role's grants cut
// down to the read-only ceiling whatever the role says (defence in depth:
// such a role is refused on creation and assignment anyway).
func EffectiveGrants(u User, role JobRole) Grants {
	if u.Status != UserActive {
		return Grants{}
	}
	if role.BusinessGroupID != u.BusinessGroupID {
		return Grants{}
	}
	if !u.AccountingSoftware {
		return role.Grants.Normalize()
	}
	out := Grants{}
	for _, c := range accountingSoftwareCeiling {
		if r := role.Grants.Rights(c.Permission) & c.Rights; r != 0 {
			out = append(out, PermissionGrant{Permission: c.Permission, Rights: r})
		}
	}
	return out
}

// AllowedScopes are the data scopes the grants allow now.
func AllowedScopes(g Grants) []string {
	var out []string
	for _, s := range DataScopes {
		if g.Rights(ScopePermission[s]).Has(RightView) {
			out = append(out, s)
		}
	}
	return out
}

// Requirement is one (permission, right) an operation needs.
type Requirement struct {
	Permission Permission
	Right      Right
}

func (r Requirement) String() string { return fmt.Sprintf("%s: %s", r.Permission.Title(), r.Right) }

// Check returns a *RightError for the first requirement the grants miss.
func Check(g Grants, reqs ...Requirement) error {
	for _, r := range reqs {
		if !g.Rights(r.Permission).Has(r.Right) {
			return &RightError{Permission: r.Permission, Right: r.Right}
		}
	}
	return nil
}

// CanDecide is the maker-checker rule: the decider needs Approve on the
// request's permission and on that of every further (permission, right)
// the request exercises (also, see JobRoleAlsoExercises); if the decider
// initiated the request, they also need the self-approved right for each
// right exercised. A request that is not pending cannot be decided
// (ErrConflict).
func CanDecide(deciderID string, decider Grants, req ApprovalRequest, also ...Requirement) error {
	if req.Status != ApprovalPending {
		return fmt.Errorf("request already %s: %w", req.Status, ErrConflict)
	}
	for _, ex := range append([]Requirement{{req.Permission, req.Right}}, also...) {
		if err := Check(decider, Requirement{ex.Permission, RightApprove}); err != nil {
			return err
		}
		if deciderID == req.InitiatorID && !decider.SelfApproved(ex.Permission).Has(ex.Right) {
			return &RightError{Permission: ex.Permission, Right: ex.Right}
		}
	}
	return nil
}

// VisibleAccounts is rule 4: exactly the accounts of the user's assigned
// account group that belong to the user's own business group, and none when
// the user is not active or the group belongs to another business group.
func VisibleAccounts(u User, group AccountGroup, accounts []Account) []Account {
	if u.Status != UserActive || group.BusinessGroupID != u.BusinessGroupID {
		return nil
	}
	in := make(map[string]bool, len(group.AccountIDs))
	for _, id := range group.AccountIDs {
		in[id] = true
	}
	var out []Account
	for _, a := range accounts {
		if in[a.ID] && a.BusinessGroupID == u.BusinessGroupID {
			out = append(out, a)
		}
	}
	return out
}

// CanSeeAccount is VisibleAccounts for one account.
func CanSeeAccount(u User, group AccountGroup, a Account) bool {
	return len(VisibleAccounts(u, group, []Account{a})) == 1
}

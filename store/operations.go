package store

// Operation is an administrative action the article's three lists govern.
type Operation string

// Operations on users, job roles, account groups and assignments.
const (
	OpViewUsers          Operation = "users.view"
	OpCreateUser         Operation = "users.create"
	OpEditUser           Operation = "users.edit" // lock, unlock, reset password
	OpDeleteUser         Operation = "users.delete"
	OpViewJobRoles       Operation = "job_roles.view"
	OpCreateJobRole      Operation = "job_roles.create"
	OpEditJobRole        Operation = "job_roles.edit"
	OpDeleteJobRole      Operation = "job_roles.delete"
	OpEditSelfApproved   Operation = "self_approved.edit" // a role change that touches self-approved rights
	OpViewAccountGroups  Operation = "account_groups.view"
	OpCreateAccountGroup Operation = "account_groups.create"
	OpEditAccountGroup   Operation = "account_groups.edit"
	OpDeleteAccountGroup Operation = "account_groups.delete"
	OpViewAssignments    Operation = "assignments.view"
	OpAssign             Operation = "assignments.create"
)

func req(p Permission, rs ...Right) []Requirement {
	out := make([]Requirement, len(rs))
	for i, r := range rs {
		out[i] = Requirement{p, r}
	}
	return out
}

func join(parts ...[]Requirement) []Requirement {
	var out []Requirement
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// Requirements lists what the operation needs, read from the article:
//
//  1. users: Create users (Create); Manage users in service agreements
//     (Create, View, Edit, Approve); Manage permissions (View, Edit, Approve);
//     Manage self-approved permissions (View, Edit, Approve).
//  2. job roles: Manage service agreements (View); Manage account groups
//     (View, Create, Edit, Delete, Approve); Manage job roles (View, Create,
//     Edit, Delete, Approve); Manage self-approved permissions (View, Edit, Approve).
//  3. assignment: Manage users (View); Manage permissions (View, Edit,
//     Approve); Manage legal entities (View); Manage account groups (View);
//     Manage job roles (View); Manage self-approved permissions (View).
//
// Each operation needs the rights of its list that match its verb; the
// Approve rights are checked when a request is decided (see CanDecide and
// ApprovalPermission).
func (op Operation) Requirements() []Requirement {
	switch op {
	case OpViewUsers:
		return req(PermManageUsersInAgreements, RightView)
	case OpCreateUser:
		return join(req(PermCreateUsers, RightCreate), req(PermManageUsersInAgreements, RightCreate, RightView), req(PermManagePermissions, RightView))
	case OpEditUser, OpDeleteUser:
		return join(req(PermManageUsersInAgreements, RightView, RightEdit), req(PermManagePermissions, RightView))
	case OpViewJobRoles:
		return join(req(PermManageServiceAgreements, RightView), req(PermManageJobRoles, RightView))
	case OpCreateJobRole:
		return join(req(PermManageServiceAgreements, RightView), req(PermManageJobRoles, RightView, RightCreate))
	case OpEditJobRole:
		return join(req(PermManageServiceAgreements, RightView), req(PermManageJobRoles, RightView, RightEdit))
	case OpDeleteJobRole:
		return join(req(PermManageServiceAgreements, RightView), req(PermManageJobRoles, RightView, RightDelete))
	case OpEditSelfApproved:
		return req(PermManageSelfApprovedPermissions, RightView, RightEdit)
	case OpViewAccountGroups:
		return req(PermManageAccountGroups, RightView)
	case OpCreateAccountGroup:
		return req(PermManageAccountGroups, RightView, RightCreate)
	case OpEditAccountGroup:
		return req(PermManageAccountGroups, RightView, RightEdit)
	case OpDeleteAccountGroup:
		return req(PermManageAccountGroups, RightView, RightDelete)
	case OpViewAssignments:
		return join(req(PermManageUsers, RightView), req(PermManagePermissions, RightView), req(PermManageLegalEntities, RightView),
			req(PermManageAccountGroups, RightView), req(PermManageJobRoles, RightView), req(PermManageSelfApprovedPermissions, RightView))
	case OpAssign:
		return join(req(PermManageUsers, RightView), req(PermManagePermissions, RightView, RightEdit), req(PermManageLegalEntities, RightView),
			req(PermManageAccountGroups, RightView), req(PermManageJobRoles, RightView), req(PermManageSelfApprovedPermissions, RightView))
	}
	return []Requirement{{Permission: "", Right: RightView}} // unknown operation: never allowed
}

// ApprovalPermission is the permission whose Approve right decides a request
// of this kind, and the right the request exercises (for self-approval).
func (k ApprovalKind) ApprovalPermission() (Permission, Right) {
	switch k {
	case KindCreateUser:
		return PermManageUsersInAgreements, RightCreate
	case KindDeleteUser, KindLockUser, KindUnlockUser, KindResetPassword:
		return PermManageUsersInAgreements, RightEdit
	case KindCreateJobRole:
		return PermManageJobRoles, RightCreate
	case KindEditJobRole:
		return PermManageJobRoles, RightEdit
	case KindDeleteJobRole:
		return PermManageJobRoles, RightDelete
	case KindCreateAccountGroup:
		return PermManageAccountGroups, RightCreate
	case KindEditAccountGroup:
		return PermManageAccountGroups, RightEdit
	case KindDeleteAccountGroup:
		return PermManageAccountGroups, RightDelete
	case KindAssign:
		return PermManagePermissions, RightEdit
	}
	return "", 0
}

// AdminGrants is the article's full administrator role (all three lists,
// with Approve and no self-approved right, so two administrators are needed
// for every change): every business group's built-in Administrator role.
func AdminGrants() Grants {
	all := Rights(RightView, RightCreate, RightEdit, RightDelete, RightApprove)
	return Grants{
		{Permission: PermAccountSummary, Rights: Rights(RightView)},
		{Permission: PermManageStatements, Rights: Rights(RightView)},
		{Permission: PermCreateUsers, Rights: Rights(RightCreate)},
		{Permission: PermManageUsers, Rights: Rights(RightView)},
		{Permission: PermManageUsersInAgreements, Rights: Rights(RightCreate, RightView, RightEdit, RightApprove)},
		{Permission: PermManagePermissions, Rights: Rights(RightView, RightEdit, RightApprove)},
		{Permission: PermManageSelfApprovedPermissions, Rights: Rights(RightView, RightEdit, RightApprove)},
		{Permission: PermManageServiceAgreements, Rights: Rights(RightView)},
		{Permission: PermManageAccountGroups, Rights: all},
		{Permission: PermManageJobRoles, Rights: all},
		{Permission: PermManageLegalEntities, Rights: Rights(RightView)},
	}
}

// AccountingSoftwareReadOnlyGrants is the role the article tells a business to
// create for its accounting software user.
func AccountingSoftwareReadOnlyGrants() Grants {
	return Grants{
		{Permission: PermAccountSummary, Rights: Rights(RightView)},
		{Permission: PermManageStatements, Rights: Rights(RightView)},
	}
}

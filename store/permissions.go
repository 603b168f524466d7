package store

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Permission is a named capability from the bank's catalogue. The string value
// is the stable machine name used in the API and the database.
type Permission string

// The catalogue: the help article's permissions, then transactional ones that
// an accounting software user can never hold.
const (
	PermAccountSummary                Permission = "account_summary"
	PermManageStatements              Permission = "manage_statements"
	PermCreateUsers                   Permission = "create_users"
	PermManageUsers                   Permission = "manage_users"
	PermManageUsersInAgreements       Permission = "manage_users_in_service_agreements"
	PermManagePermissions             Permission = "manage_permissions"
	PermManageSelfApprovedPermissions Permission = "manage_self_approved_permissions"
	PermManageServiceAgreements       Permission = "manage_service_agreements"
	PermManageAccountGroups           Permission = "manage_account_groups"
	PermManageJobRoles                Permission = "manage_job_roles"
	PermManageLegalEntities           Permission = "manage_legal_entities"
	PermTransfers                     Permission = "transfers"
	PermBillPayments                  Permission = "bill_payments"
	PermWirePayments                  Permission = "wire_payments"
	PermPayroll                       Permission = "payroll_deposits"
)

var permissionTitles = map[Permission][2]string{ // en, fr
	PermAccountSummary:                {"Account summary", "Sommaire des comptes"},
	PermManageStatements:              {"Manage statements", "Gérer les relevés"},
	PermCreateUsers:                   {"Create users", "Créer des utilisateurs"},
	PermManageUsers:                   {"Manage users", "Gérer les utilisateurs"},
	PermManageUsersInAgreements:       {"Manage users in service agreements", "Gérer les utilisateurs des conventions de service"},
	PermManagePermissions:             {"Manage permissions", "Gérer les permissions"},
	PermManageSelfApprovedPermissions: {"Manage self-approved permissions", "Gérer les permissions auto-approuvées"},
	PermManageServiceAgreements:       {"Manage service agreements", "Gérer les conventions de service"},
	PermManageAccountGroups:           {"Manage account groups", "Gérer les groupes de comptes"},
	PermManageJobRoles:                {"Manage job roles", "Gérer les rôles"},
	PermManageLegalEntities:           {"Manage legal entities", "Gérer les entités juridiques"},
	PermTransfers:                     {"Transfers", "Virements"},
	PermBillPayments:                  {"Bill payments", "Paiement de factures"},
	PermWirePayments:                  {"Wire payments", "Virements télégraphiques"},
	PermPayroll:                       {"Payroll deposits", "Dépôts de paie"},
}

// Permissions lists the whole catalogue in a stable order.
func Permissions() []Permission {
	return []Permission{
		PermAccountSummary, PermManageStatements, PermCreateUsers, PermManageUsers,
		PermManageUsersInAgreements, PermManagePermissions, PermManageSelfApprovedPermissions,
		PermManageServiceAgreements, PermManageAccountGroups, PermManageJobRoles,
		PermManageLegalEntities, PermTransfers, PermBillPayments, PermWirePayments, PermPayroll,
	}
}

// Valid reports whether p is in the catalogue.
func (p Permission) Valid() bool { _, ok := permissionTitles[p]; return ok }

// Title is the English label the article uses.
func (p Permission) Title() string { return p.TitleIn("en") }

// TitleIn is the label in "en" or "fr" (English for anything else).
func (p Permission) TitleIn(lang string) string {
	t, ok := permissionTitles[p]
	if !ok {
		return string(p)
	}
	if lang == "fr" {
		return t[1]
	}
	return t[0]
}

// Transactional reports whether the permission moves money (an accounting
// software user can never hold any right on it).
func (p Permission) Transactional() bool {
	switch p {
	case PermTransfers, PermBillPayments, PermWirePayments, PermPayroll:
		return true
	}
	return false
}

// Right is one thing a user may do with a permission.
type Right uint8

// The rights, as bits so that a RightSet is a small value.
const (
	RightView Right = 1 << iota
	RightCreate
	RightEdit
	RightDelete
	RightApprove
	RightExecute
	RightSign
)

var rightNames = []struct {
	r    Right
	name string
}{
	{RightView, "View"}, {RightCreate, "Create"}, {RightEdit, "Edit"}, {RightDelete, "Delete"},
	{RightApprove, "Approve"}, {RightExecute, "Execute"}, {RightSign, "Sign"},
}

// AllRights lists the rights in the article's order.
func AllRights() []Right {
	out := make([]Right, len(rightNames))
	for i, rn := range rightNames {
		out[i] = rn.r
	}
	return out
}

func (r Right) String() string {
	for _, rn := range rightNames {
		if rn.r == r {
			return rn.name
		}
	}
	return fmt.Sprintf("Right(%d)", uint8(r))
}

// ParseRight reads a right's name (case-insensitive).
func ParseRight(s string) (Right, error) {
	for _, rn := range rightNames {
		if strings.EqualFold(rn.name, s) {
			return rn.r, nil
		}
	}
	return 0, Invalid("right", "unknown right %q (want one of View, Create, Edit, Delete, Approve, Execute, Sign)", s)
}

// RightSet is a set of rights.
type RightSet uint8

// Rights builds a set.
func Rights(rs ...Right) RightSet {
	var s RightSet
	for _, r := range rs {
		s |= RightSet(r)
	}
	return s
}

// Has reports whether r is in the set.
func (s RightSet) Has(r Right) bool { return s&RightSet(r) != 0 }

// List returns the rights in the article's order.
func (s RightSet) List() []Right {
	var out []Right
	for _, rn := range rightNames {
		if s.Has(rn.r) {
			out = append(out, rn.r)
		}
	}
	return out
}

// Names returns the rights' names in order.
func (s RightSet) Names() []string {
	var out []string
	for _, r := range s.List() {
		out = append(out, r.String())
	}
	return out
}

// Valid reports whether only known bits are set.
func (s RightSet) Valid() bool {
	return s&^RightSet(RightView|RightCreate|RightEdit|RightDelete|RightApprove|RightExecute|RightSign) == 0
}

// MarshalJSON writes the set as ["View","Approve"].
func (s RightSet) MarshalJSON() ([]byte, error) {
	names := s.Names()
	if names == nil {
		names = []string{}
	}
	return json.Marshal(names)
}

// UnmarshalJSON reads ["View","Approve"].
func (s *RightSet) UnmarshalJSON(b []byte) error {
	var names []string
	if err := json.Unmarshal(b, &names); err != nil {
		return Invalid("rights", "must be a list of right names")
	}
	var out RightSet
	for _, n := range names {
		r, err := ParseRight(n)
		if err != nil {
			return err
		}
		out |= RightSet(r)
	}
	*s = out
	return nil
}

// PermissionGrant is one line of a job role: the rights held on a permission
// and, among them, those the holder may self-approve.
type PermissionGrant struct {
	Permission   Permission `json:"permission"`
	Rights       RightSet   `json:"rights"`
	SelfApproved RightSet   `json:"selfApproved"`
}

// Grants is a job role's set of permission grants, keyed by permission.
type Grants []PermissionGrant

// Rights returns the rights held on p.
func (g Grants) Rights(p Permission) RightSet {
	for _, pg := range g {
		if pg.Permission == p {
			return pg.Rights
		}
	}
	return 0
}

// SelfApproved returns the self-approved rights held on p.
func (g Grants) SelfApproved(p Permission) RightSet {
	for _, pg := range g {
		if pg.Permission == p {
			return pg.SelfApproved
		}
	}
	return 0
}

// Normalize merges duplicates, drops empty lines and sorts by catalogue order.
func (g Grants) Normalize() Grants {
	byPerm := map[Permission]PermissionGrant{}
	for _, pg := range g {
		cur := byPerm[pg.Permission]
		cur.Permission = pg.Permission
		cur.Rights |= pg.Rights
		cur.SelfApproved |= pg.SelfApproved
		byPerm[pg.Permission] = cur
	}
	order := map[Permission]int{}
	for i, p := range Permissions() {
		order[p] = i
	}
	out := Grants{}
	for _, pg := range byPerm {
		if pg.Rights == 0 && pg.SelfApproved == 0 {
			continue
		}
		out = append(out, pg)
	}
	sort.Slice(out, func(i, j int) bool {
		oi, iok := order[out[i].Permission]
		oj, jok := order[out[j].Permission]
		if iok != jok {
			return iok
		}
		if oi != oj {
			return oi < oj
		}
		return out[i].Permission < out[j].Permission
	})
	return out
}

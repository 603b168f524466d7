package console

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/bankfeed/bankfeed/admin"
	"github.com/bankfeed/bankfeed/store"
)

func asProblem(err error, p **admin.Problem) bool { return errors.As(err, p) }

// names are the records the pages name things by, read through the
// operations (so only what the administrator may view); a kind the job
// role may not view is left empty, and its IDs show as they are.
type names struct {
	users      []store.User
	user       map[string]store.User
	roles      []store.JobRole
	role       map[string]store.JobRole
	groups     []store.AccountGroup
	group      map[string]store.AccountGroup
	accounts   []store.Account
	account    map[string]store.Account
	entity     map[string]store.LegalEntity
	assignment map[string]store.Assignment // by user, the overview's
}

func (h *Handler) names(ctx context.Context, a admin.Admin) (*names, error) {
	n := &names{user: map[string]store.User{}, role: map[string]store.JobRole{}, group: map[string]store.AccountGroup{},
		account: map[string]store.Account{}, entity: map[string]store.LegalEntity{}, assignment: map[string]store.Assignment{}}
	var err error
	if n.users, err = allowed(h.adm.Users(ctx, a)); err != nil {
		return nil, err
	}
	if n.roles, err = allowed(h.adm.JobRoles(ctx, a)); err != nil {
		return nil, err
	}
	if n.groups, err = allowed(h.adm.AccountGroups(ctx, a)); err != nil {
		return nil, err
	}
	if n.accounts, err = allowed(h.adm.Accounts(ctx, a)); err != nil {
		return nil, err
	}
	as, err := allowed(h.adm.Assignments(ctx, a))
	if err != nil {
		return nil, err
	}
	es, err := h.adm.LegalEntities(ctx, a)
	if err != nil {
		return nil, err
	}
	for _, u := range n.users {
		n.user[u.ID] = u
	}
	for _, r := range n.roles {
		n.role[r.ID] = r
	}
	for _, g := range n.groups {
		n.group[g.ID] = g
	}
	for _, x := range n.accounts {
		n.account[x.ID] = x
	}
	for _, e := range es {
		n.entity[e.ID] = e
	}
	for _, x := range as {
		if _, seen := n.assignment[x.UserID]; !seen || x.LegalEntityID == "" {
			n.assignment[x.UserID] = x
		}
	}
	return n, nil
}

// allowed drops a 403: the list is then empty.
func allowed[T any](v []T, err error) ([]T, error) {
	var p *admin.Problem
	if errors.As(err, &p) && p.Status == http.StatusForbidden {
		return nil, nil
	}
	return v, err
}

// userName is a user's display name; an actor that is no user of the
// business group (an operator's client) shows as its ID.
func (n *names) userName(id string) string {
	if u, ok := n.user[id]; ok {
		return cmp.Or(u.DisplayName, u.LoginID)
	}
	return id
}

// accountLabel is "nickname (****8785) — entity, type, currency".
func (n *names) accountLabel(s *signedIn, id string) string {
	a, ok := n.account[id]
	if !ok {
		return id
	}
	name := cmp.Or(a.Nickname, a.ProductName, s.L.T("type_"+strings.ToLower(string(a.Type))))
	return fmt.Sprintf("%s (%s) — %s, %s, %s", name, a.DisplayNumber, n.entity[a.LegalEntityID].Name,
		s.L.T("type_"+strings.ToLower(string(a.Type))), a.Currency)
}

// accountShort is "nickname (****8785)".
func (n *names) accountShort(s *signedIn, id string) string {
	a, ok := n.account[id]
	if !ok {
		return id
	}
	return fmt.Sprintf("%s (%s)", cmp.Or(a.Nickname, a.ProductName, s.L.T("type_"+strings.ToLower(string(a.Type)))), a.DisplayNumber)
}

// payload is the union of the approval payloads' fields the pages read
// (their JSON is documented in admin/openapi/admin.yaml).
type payload struct {
	LoginID            string       `json:"loginId"`
	DisplayName        string       `json:"displayName"`
	AccountingSoftware bool         `json:"accountingSoftware"`
	JobRoleID          string       `json:"jobRoleId"`
	AccountGroupID     string       `json:"accountGroupId"`
	UserID             string       `json:"userId"`
	Name               string       `json:"name"`
	Grants             store.Grants `json:"grants"`
	AccountIDs         []string     `json:"accountIds"`
}

func decodePayload(r store.ApprovalRequest) (payload, error) {
	var p payload
	if len(r.Payload) == 0 {
		return p, nil
	}
	if err := json.Unmarshal(r.Payload, &p); err != nil {
		return p, fmt.Errorf("console: payload of %s: %w", r.ID, err)
	}
	return p, nil
}

// describe says in words what a request changes, before → after.
func (n *names) describe(s *signedIn, r store.ApprovalRequest) string {
	l := s.L
	p, err := decodePayload(r)
	if err != nil {
		return l.T("kind_" + string(r.Kind))
	}
	userLabel := func(id string) string {
		if u, ok := n.user[id]; ok {
			return fmt.Sprintf("%s (%s)", cmp.Or(u.DisplayName, u.LoginID), u.LoginID)
		}
		return cmp.Or(p.LoginID, id)
	}
	roleName := func(id string) string { return cmp.Or(n.role[id].Name, id) }
	groupName := func(id string) string { return cmp.Or(n.group[id].Name, id) }
	switch r.Kind {
	case store.KindCreateUser:
		kind := l.T("kind_person")
		if p.AccountingSoftware {
			kind = l.T("kind_software")
		}
		out := l.F("d_create_user", p.DisplayName, p.LoginID, kind)
		if p.JobRoleID != "" {
			out += " " + l.F("d_with_assignment", roleName(p.JobRoleID), groupName(p.AccountGroupID))
		}
		return out
	case store.KindLockUser, store.KindUnlockUser, store.KindResetPassword, store.KindDeleteUser:
		return l.F("d_"+strings.ReplaceAll(string(r.Kind), ".", "_"), userLabel(r.TargetID))
	case store.KindCreateJobRole:
		return l.F("d_create_role", p.Name, grantsInWords(l, s.Lang, p.Grants))
	case store.KindEditJobRole:
		cur := n.role[r.TargetID]
		var parts []string
		if cur.Name != "" && cur.Name != p.Name {
			parts = append(parts, l.F("d_rename", cur.Name, p.Name))
		}
		for _, perm := range store.Permissions() {
			before, after := cur.Grants.Rights(perm), p.Grants.Rights(perm)
			sb, sa := cur.Grants.SelfApproved(perm), p.Grants.SelfApproved(perm)
			if before != after || sb != sa {
				parts = append(parts, fmt.Sprintf("%s: %s → %s", perm.TitleIn(s.Lang), rightsInWords(l, before, sb), rightsInWords(l, after, sa)))
			}
		}
		if len(parts) == 0 {
			parts = append(parts, l.T("d_no_change"))
		}
		return l.F("d_edit_role", cmp.Or(cur.Name, p.Name), strings.Join(parts, "; "))
	case store.KindDeleteJobRole:
		return l.F("d_delete_role", cmp.Or(p.Name, roleName(r.TargetID)))
	case store.KindCreateAccountGroup:
		var accs []string
		for _, id := range p.AccountIDs {
			accs = append(accs, n.accountShort(s, id))
		}
		return l.F("d_create_group", p.Name, strings.Join(accs, ", "))
	case store.KindEditAccountGroup:
		cur := n.group[r.TargetID]
		added, removed := store.AccountsChanged(cur.AccountIDs, p.AccountIDs)
		var parts []string
		name := cmp.Or(cur.Name, p.Name)
		for _, id := range added {
			parts = append(parts, l.F("d_adds", n.accountShort(s, id), name))
		}
		for _, id := range removed {
			parts = append(parts, l.F("d_removes", n.accountShort(s, id), name))
		}
		if cur.Name != "" && cur.Name != p.Name {
			parts = append(parts, l.F("d_rename_group", cur.Name, p.Name))
		}
		if len(parts) == 0 {
			parts = append(parts, l.F("d_edit_group", name))
		}
		return strings.Join(parts, "; ")
	case store.KindDeleteAccountGroup:
		return l.F("d_delete_group", cmp.Or(p.Name, groupName(r.TargetID)))
	case store.KindAssign:
		return l.F("d_assign", userLabel(p.UserID), roleName(p.JobRoleID), groupName(p.AccountGroupID))
	}
	return string(r.Kind)
}

// grantsInWords is "Account summary (View); Manage statements (View)".
func grantsInWords(l msgs, lang string, g store.Grants) string {
	var parts []string
	for _, pg := range g.Normalize() {
		parts = append(parts, fmt.Sprintf("%s (%s)", pg.Permission.TitleIn(lang), rightsInWords(l, pg.Rights, pg.SelfApproved)))
	}
	if len(parts) == 0 {
		return l.T("no_rights")
	}
	return strings.Join(parts, "; ")
}

// rightsInWords is "View, Edit, Approve (self-approved: Edit)".
func rightsInWords(l msgs, rs, self store.RightSet) string {
	var names []string
	for _, r := range rs.List() {
		names = append(names, rightName(l, r.String()))
	}
	out := strings.Join(names, ", ")
	if out == "" {
		out = l.T("none")
	}
	if self != 0 {
		var ss []string
		for _, r := range self.List() {
			ss = append(ss, rightName(l, r.String()))
		}
		out += " " + l.F("self_approved_list", strings.Join(ss, ", "))
	}
	return out
}

// rightName is a right's name in the page's language.
func rightName(l msgs, right string) string { return l.T("right_" + strings.ToLower(right)) }

func rightNames(l msgs) []string {
	var out []string
	for _, r := range store.AllRights() {
		out = append(out, rightName(l, r.String()))
	}
	return out
}

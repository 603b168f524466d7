package store

import (
	"fmt"
	"slices"
)

// Scope is what an administrator's context reaches (the domain's
// "assignment": rights held in an entity context reach only that entity's
// users, accounts and service agreements; rights in the business group
// overview context reach all of the group's entities). It bounds what the
// rights of that context allow and grants nothing: the rights themselves
// come from the assignment (Check, CanDecide). Job roles and account groups
// name no entity and are business-group-wide; an account group is judged by
// the accounts it holds.
type Scope struct {
	BusinessGroupID string
	LegalEntityID   string // the context: "" is the business group overview
}

// Overview reports whether s is the business group overview context.
func (s Scope) Overview() bool { return s.LegalEntityID == "" }

// reaches is the one rule: a record of s's business group belonging to
// entity ("" for the group level) is reached from the overview, and from
// an entity context only when it is that entity's.
func (s Scope) reaches(businessGroupID, entity string) bool {
	return businessGroupID == s.BusinessGroupID && (s.Overview() || entity == s.LegalEntityID)
}

// ReachesUser: a user of the group level (LegalEntityID "") only from the
// overview; an entity's user from the overview or that entity's context.
func (s Scope) ReachesUser(u User) bool { return s.reaches(u.BusinessGroupID, u.LegalEntityID) }

// ReachesAccount: an account from the overview or its entity's context.
func (s Scope) ReachesAccount(a Account) bool { return s.reaches(a.BusinessGroupID, a.LegalEntityID) }

// ReachesServiceAgreement: an agreement from the overview or its entity's
// context.
func (s Scope) ReachesServiceAgreement(a ServiceAgreement) bool {
	return s.reaches(a.BusinessGroupID, a.LegalEntityID)
}

// ReachesEntity reports whether s may act in, or create users of, the
// context entityID of its own business group ("" is the group level, which
// only the overview reaches). The caller checks entityID names an entity of
// the group.
func (s Scope) ReachesEntity(entityID string) bool { return s.reaches(s.BusinessGroupID, entityID) }

// Targets is what an operation or a request touches, read as it is now.
type Targets struct {
	Users    []User
	Accounts []Account
	// Entities are contexts named: a new user's entity, an assignment's
	// context ("" is the group level).
	Entities []string
}

// ReachError names the first target a scope does not reach.
type ReachError struct {
	Kind  string // "user", "account" or "legal entity"
	ID    string // "" for the group level
	Scope Scope
}

func (e *ReachError) Error() string {
	what := fmt.Sprintf("%s %q", e.Kind, e.ID)
	if e.Kind == "legal entity" && e.ID == "" {
		what = "the business group overview"
	}
	if e.Scope.Overview() {
		return fmt.Sprintf("%s is outside the business group", what)
	}
	return fmt.Sprintf("%s is outside the context of legal entity %q", what, e.Scope.LegalEntityID)
}

// Unwrap lets errors.Is(err, ErrForbidden) match.
func (e *ReachError) Unwrap() error { return ErrForbidden }

// Reach is nil when s reaches every target, else a *ReachError naming the
// first it does not (users, then accounts, then entities).
func (s Scope) Reach(t Targets) error {
	for _, u := range t.Users {
		if !s.ReachesUser(u) {
			return &ReachError{Kind: "user", ID: u.ID, Scope: s}
		}
	}
	for _, a := range t.Accounts {
		if !s.ReachesAccount(a) {
			return &ReachError{Kind: "account", ID: a.ID, Scope: s}
		}
	}
	for _, e := range t.Entities {
		if !s.ReachesEntity(e) {
			return &ReachError{Kind: "legal entity", ID: e, Scope: s}
		}
	}
	return nil
}

// EditAccounts is an account group's new account IDs when an editor in
// scope s asks for requested while the group holds cur. The editor sees
// only the members s reaches, so the members it does not reach are kept
// untouched whatever requested says; the edit is judged on what it adds
// and removes, and adding an account s does not reach is a *ReachError.
// The IDs come back sorted and deduplicated.
func (s Scope) EditAccounts(cur, requested []Account) ([]string, error) {
	in := make(map[string]bool, len(cur))
	ids := make([]string, 0, len(cur)+len(requested))
	for _, a := range cur {
		in[a.ID] = true
		if !s.ReachesAccount(a) {
			ids = append(ids, a.ID)
		}
	}
	for _, a := range requested {
		if !in[a.ID] && !s.ReachesAccount(a) {
			return nil, &ReachError{Kind: "account", ID: a.ID, Scope: s}
		}
		ids = append(ids, a.ID)
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

// AccountsChanged lists the IDs in after but not in before (added) and in
// before but not in after (removed), each sorted: what an account group
// edit touches.
func AccountsChanged(before, after []string) (added, removed []string) {
	diff := func(a, b []string) []string {
		out := []string{}
		for _, id := range a {
			if !slices.Contains(b, id) && !slices.Contains(out, id) {
				out = append(out, id)
			}
		}
		slices.Sort(out)
		return out
	}
	return diff(after, before), diff(before, after)
}

// VisibleAccountIDs is the part of ids (an account group's members, with
// their records in accounts) that s reaches: what an editor in s is shown.
// From the overview it is ids; from an entity context an ID without a
// record in accounts is left out.
func (s Scope) VisibleAccountIDs(ids []string, accounts map[string]Account) []string {
	if s.Overview() {
		return slices.Clone(ids)
	}
	out := []string{}
	for _, id := range ids {
		if a, ok := accounts[id]; ok && s.ReachesAccount(a) {
			out = append(out, id)
		}
	}
	return out
}

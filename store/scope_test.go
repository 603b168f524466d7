package store

import (
	"errors"
	"slices"
	"testing"
)

// TestScopeReaches is the whole (context × record) table of finding 4: the
// overview reaches every record of its business group, an entity context
// only its entity's users, accounts and service agreements, and no context
// anything of another business group.
func TestScopeReaches(t *testing.T) {
	const bg, other = "bg1", "bg2"
	contexts := map[string]Scope{
		"overview": {BusinessGroupID: bg},
		"E1":       {BusinessGroupID: bg, LegalEntityID: "e1"},
		"E2":       {BusinessGroupID: bg, LegalEntityID: "e2"},
	}
	// Where each record sits: its business group and entity ("" the group level).
	records := []struct {
		name   string
		bg, le string
		// reachedFrom lists the contexts that reach it.
		reachedFrom []string
	}{
		{"group level", bg, "", []string{"overview"}},
		{"entity E1", bg, "e1", []string{"overview", "E1"}},
		{"entity E2", bg, "e2", []string{"overview", "E2"}},
		{"entity E3 (no context here)", bg, "e3", []string{"overview"}},
		{"another business group's level", other, "", nil},
		{"another business group's entity named e1", other, "e1", nil},
	}
	for _, r := range records {
		for cname, s := range contexts {
			want := slices.Contains(r.reachedFrom, cname)
			u := User{ID: "u", BusinessGroupID: r.bg, LegalEntityID: r.le}
			if got := s.ReachesUser(u); got != want {
				t.Errorf("%s reaches user of %s = %v, want %v", cname, r.name, got, want)
			}
			if err := s.Reach(Targets{Users: []User{u}}); (err == nil) != want {
				t.Errorf("%s Reach(user of %s) = %v, want reached %v", cname, r.name, err, want)
			}
			if r.le == "" {
				continue // accounts and agreements always belong to an entity
			}
			a := Account{ID: "a", BusinessGroupID: r.bg, LegalEntityID: r.le}
			if got := s.ReachesAccount(a); got != want {
				t.Errorf("%s reaches account of %s = %v, want %v", cname, r.name, got, want)
			}
			if err := s.Reach(Targets{Accounts: []Account{a}}); (err == nil) != want {
				t.Errorf("%s Reach(account of %s) = %v, want reached %v", cname, r.name, err, want)
			}
			if got := s.ReachesServiceAgreement(ServiceAgreement{BusinessGroupID: r.bg, LegalEntityID: r.le}); got != want {
				t.Errorf("%s reaches agreement of %s = %v, want %v", cname, r.name, got, want)
			}
		}
	}
	// Entities as contexts of the scope's own group (an assignment's, a new
	// user's): the group level only from the overview.
	for _, c := range []struct {
		ctx, entity string
		want        bool
	}{
		{"overview", "", true}, {"overview", "e1", true}, {"overview", "e2", true},
		{"E1", "", false}, {"E1", "e1", true}, {"E1", "e2", false},
		{"E2", "", false}, {"E2", "e1", false}, {"E2", "e2", true},
	} {
		s := contexts[c.ctx]
		if got := s.ReachesEntity(c.entity); got != c.want {
			t.Errorf("%s reaches entity %q = %v, want %v", c.ctx, c.entity, got, c.want)
		}
		if err := s.Reach(Targets{Entities: []string{c.entity}}); (err == nil) != c.want {
			t.Errorf("%s Reach(entity %q) = %v, want reached %v", c.ctx, c.entity, err, c.want)
		}
	}
	if !contexts["overview"].Overview() || contexts["E1"].Overview() {
		t.Error("Overview() is wrong")
	}
}

// TestScopeReachNamesFirst: Reach names the first target out of reach, as
// a *ReachError that is ErrForbidden, and passes when all are reached.
func TestScopeReachNamesFirst(t *testing.T) {
	s := Scope{BusinessGroupID: "bg1", LegalEntityID: "e1"}
	in := User{ID: "u1", BusinessGroupID: "bg1", LegalEntityID: "e1"}
	out := User{ID: "u2", BusinessGroupID: "bg1", LegalEntityID: "e2"}
	acc := Account{ID: "a2", BusinessGroupID: "bg1", LegalEntityID: "e2"}
	tests := []struct {
		name     string
		t        Targets
		kind, id string
	}{
		{"nothing", Targets{}, "", ""},
		{"all in reach", Targets{Users: []User{in}, Accounts: []Account{{ID: "a1", BusinessGroupID: "bg1", LegalEntityID: "e1"}}, Entities: []string{"e1"}}, "", ""},
		{"second user", Targets{Users: []User{in, out}}, "user", "u2"},
		{"users before accounts", Targets{Users: []User{out}, Accounts: []Account{acc}}, "user", "u2"},
		{"account", Targets{Users: []User{in}, Accounts: []Account{acc}}, "account", "a2"},
		{"group level", Targets{Entities: []string{""}}, "legal entity", ""},
	}
	for _, tt := range tests {
		err := s.Reach(tt.t)
		if tt.kind == "" {
			if err != nil {
				t.Errorf("%s: Reach = %v, want nil", tt.name, err)
			}
			continue
		}
		var re *ReachError
		if !errors.As(err, &re) || re.Kind != tt.kind || re.ID != tt.id || !errors.Is(err, ErrForbidden) {
			t.Errorf("%s: Reach = %v, want %s %q out of reach", tt.name, err, tt.kind, tt.id)
		}
	}
	if got, want := (&ReachError{Kind: "legal entity", Scope: s}).Error(), `the business group overview is outside the context of legal entity "e1"`; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
}

// TestScopeEditAccounts: an edit is judged on what it adds and removes;
// the members the editor's context does not reach are kept whatever the
// editor sent, and adding one is refused.
func TestScopeEditAccounts(t *testing.T) {
	acc := func(id, le string) Account { return Account{ID: id, BusinessGroupID: "bg1", LegalEntityID: le} }
	a1, b1, c2, d2 := acc("a1", "e1"), acc("b1", "e1"), acc("c2", "e2"), acc("d2", "e2")
	e1 := Scope{BusinessGroupID: "bg1", LegalEntityID: "e1"}
	ov := Scope{BusinessGroupID: "bg1"}
	tests := []struct {
		name     string
		s        Scope
		cur, req []Account
		want     []string
		refused  string // the account refused
	}{
		{"add own", e1, []Account{a1, c2}, []Account{a1, b1}, []string{"a1", "b1", "c2"}, ""},
		{"remove own keeps other's", e1, []Account{a1, c2}, nil, []string{"c2"}, ""},
		{"other's sent back untouched", e1, []Account{a1, c2}, []Account{a1, c2}, []string{"a1", "c2"}, ""},
		{"add other's", e1, []Account{a1}, []Account{a1, d2}, nil, "d2"},
		{"add other's next to a kept one", e1, []Account{c2}, []Account{c2, d2}, nil, "d2"},
		{"duplicates", e1, nil, []Account{b1, a1, b1}, []string{"a1", "b1"}, ""},
		{"overview adds and removes any", ov, []Account{a1, c2}, []Account{d2}, []string{"d2"}, ""},
		{"empty", e1, nil, nil, []string{}, ""},
	}
	for _, tt := range tests {
		got, err := tt.s.EditAccounts(tt.cur, tt.req)
		if tt.refused != "" {
			var re *ReachError
			if !errors.As(err, &re) || re.ID != tt.refused {
				t.Errorf("%s: EditAccounts = %v, %v; want %s refused", tt.name, got, err, tt.refused)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("%s: EditAccounts = %v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
}

func TestAccountsChanged(t *testing.T) {
	for _, c := range []struct {
		before, after  []string
		added, removed []string
	}{
		{nil, nil, []string{}, []string{}},
		{[]string{"a"}, []string{"a"}, []string{}, []string{}},
		{nil, []string{"b", "a", "b"}, []string{"a", "b"}, []string{}},
		{[]string{"a", "c"}, []string{"b", "c"}, []string{"b"}, []string{"a"}},
	} {
		added, removed := AccountsChanged(c.before, c.after)
		if !slices.Equal(added, c.added) || !slices.Equal(removed, c.removed) {
			t.Errorf("AccountsChanged(%v, %v) = %v, %v; want %v, %v", c.before, c.after, added, removed, c.added, c.removed)
		}
	}
}

func TestVisibleAccountIDs(t *testing.T) {
	recs := map[string]Account{
		"a1": {ID: "a1", BusinessGroupID: "bg1", LegalEntityID: "e1"},
		"c2": {ID: "c2", BusinessGroupID: "bg1", LegalEntityID: "e2"},
	}
	ids := []string{"a1", "c2", "gone"}
	if got := (Scope{BusinessGroupID: "bg1"}).VisibleAccountIDs(ids, recs); !slices.Equal(got, ids) {
		t.Errorf("overview sees %v, want %v", got, ids)
	}
	if got := (Scope{BusinessGroupID: "bg1", LegalEntityID: "e1"}).VisibleAccountIDs(ids, recs); !slices.Equal(got, []string{"a1"}) {
		t.Errorf("E1 sees %v, want [a1]", got)
	}
	if got := (Scope{BusinessGroupID: "bg1", LegalEntityID: "e3"}).VisibleAccountIDs(ids, recs); got == nil || len(got) != 0 {
		t.Errorf("E3 sees %v, want []", got)
	}
}

package store

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// standingFixture is a grant that stands: an active accounting software
// user of bg_a, its consent to cli_v for both data scopes, a role granting
// both, an account group of bg_a and one of its accounts.
func standingFixture(now time.Time) (Grant, Access) {
	both := []string{ScopeOpenID, ScopeAccountsRead, ScopeStatementsRead, ScopeOfflineAccess}
	g := Grant{RequestID: "cns_1", ClientID: "cli_v", UserID: "usr_1", Scopes: both, ExpiresAt: now.Add(time.Hour)}
	a := Access{
		Consent:    Consent{ID: "cns_1", UserID: "usr_1", ClientID: "cli_v", Scopes: both, GrantedAt: now.Add(-time.Hour)},
		User:       User{ID: "usr_1", BusinessGroupID: "bg_a", AccountingSoftware: true, Status: UserActive},
		Assignment: Assignment{ID: "asg_1", BusinessGroupID: "bg_a", UserID: "usr_1", JobRoleID: "role_1", AccountGroupID: "ag_1"},
		Role: JobRole{ID: "role_1", BusinessGroupID: "bg_a", Grants: Grants{
			{Permission: PermAccountSummary, Rights: Rights(RightView)},
			{Permission: PermManageStatements, Rights: Rights(RightView)},
		}},
		Group:   AccountGroup{ID: "ag_1", BusinessGroupID: "bg_a"},
		Account: Account{ID: "acc_1", BusinessGroupID: "bg_a"},
	}
	return g, a
}

// TestJudgeGrant: every reason a grant no longer stands, what a standing
// one may do, and that a brute-force lockout is no reason (finding 1).
func TestJudgeGrant(t *testing.T) {
	now := time.Date(2025, 3, 14, 15, 0, 0, 0, time.UTC)
	onlyAccounts := Grants{{Permission: PermAccountSummary, Rights: Rights(RightView)}}
	for _, c := range []struct {
		name   string
		edit   func(g *Grant, a *Access)
		strict StrictScopes
		err    error
		// for a standing grant:
		scopes, withdrawn []string
		group, account    bool
	}{
		{name: "stands", scopes: []string{ScopeAccountsRead, ScopeStatementsRead}, group: true, account: true},
		{name: "stands strictly", strict: true, scopes: []string{ScopeAccountsRead, ScopeStatementsRead}, group: true, account: true},
		{name: "locked by failed sign-ins", edit: func(_ *Grant, a *Access) { a.User.FailedAttempts, a.User.LockedUntil = 5, now.Add(15*time.Minute) },
			strict: true, scopes: []string{ScopeAccountsRead, ScopeStatementsRead}, group: true, account: true},

		{name: "user missing", edit: func(_ *Grant, a *Access) { a.User = User{} }, err: ErrGrantUserGone},
		{name: "user deleted", edit: func(_ *Grant, a *Access) { a.User.Status, a.User.DeletedAt = UserDeleted, now }, err: ErrGrantUserDeleted},
		{name: "user locked by an administrator", edit: func(_ *Grant, a *Access) { a.User.Status = UserLocked }, err: ErrGrantUserLocked},
		{name: "user locked by an administrator and by failures", edit: func(_ *Grant, a *Access) {
			a.User.Status, a.User.LockedUntil = UserLocked, now.Add(time.Minute)
		}, err: ErrGrantUserLocked},
		{name: "user pending approval", edit: func(_ *Grant, a *Access) { a.User.Status = UserPendingApproval }, err: ErrGrantUserNotActive},
		{name: "user awaiting first sign-in", edit: func(_ *Grant, a *Access) { a.User.Status = UserAwaitingSignIn }, err: ErrGrantUserNotActive},
		{name: "user of unknown status", edit: func(_ *Grant, a *Access) { a.User.Status = "SUSPENDED" }, err: ErrGrantUserNotActive},
		{name: "deleted user with a revoked consent: the user first", edit: func(_ *Grant, a *Access) {
			a.User.Status, a.Consent.RevokedAt = UserDeleted, now
		}, err: ErrGrantUserDeleted},

		{name: "consent missing", edit: func(_ *Grant, a *Access) { a.Consent = Consent{} }, err: ErrGrantConsentGone},
		{name: "consent of another user", edit: func(_ *Grant, a *Access) { a.Consent.UserID = "usr_2" }, err: ErrGrantConsentNotTheGrant},
		{name: "consent of another client", edit: func(_ *Grant, a *Access) { a.Consent.ClientID = "cli_w" }, err: ErrGrantConsentNotTheGrant},
		{name: "grant naming another client", edit: func(g *Grant, _ *Access) { g.ClientID = "cli_w" }, err: ErrGrantConsentNotTheGrant},
		{name: "grant naming another consent", edit: func(g *Grant, _ *Access) { g.RequestID = "cns_2" }, err: ErrGrantConsentNotTheGrant},
		{name: "user read is not the grant's", edit: func(_ *Grant, a *Access) { a.User.ID = "usr_2" }, err: ErrGrantConsentNotTheGrant},
		{name: "consent revoked", edit: func(_ *Grant, a *Access) { a.Consent.RevokedAt = now.Add(-time.Second) }, err: ErrGrantConsentRevoked},
		{name: "consent revoked and expired", edit: func(_ *Grant, a *Access) {
			a.Consent.RevokedAt, a.Consent.ExpiresAt = now.Add(-time.Second), now.Add(-time.Second)
		}, err: ErrGrantConsentRevoked},
		{name: "consent expired", edit: func(_ *Grant, a *Access) { a.Consent.ExpiresAt = now }, err: ErrGrantConsentExpired},
		{name: "consent expiring later", edit: func(_ *Grant, a *Access) { a.Consent.ExpiresAt = now.Add(time.Second) },
			scopes: []string{ScopeAccountsRead, ScopeStatementsRead}, group: true, account: true},

		{name: "ordinary user with a vendor", edit: func(_ *Grant, a *Access) { a.User.AccountingSoftware = false }, err: ErrGrantNotSoftwareUser},
		{name: "ordinary user with a first-party client", edit: func(g *Grant, a *Access) { a.User.AccountingSoftware, g.FirstParty = false, true },
			scopes: []string{ScopeAccountsRead, ScopeStatementsRead}, group: true, account: true},

		{name: "no assignment", edit: func(_ *Grant, a *Access) {
			a.Assignment, a.Role, a.Group, a.Account = Assignment{}, JobRole{}, AccountGroup{}, Account{}
		},
			withdrawn: []string{ScopeAccountsRead, ScopeStatementsRead}},
		{name: "no assignment, strictly", withdrawn: []string{ScopeAccountsRead, ScopeStatementsRead}, edit: func(_ *Grant, a *Access) {
			a.Assignment, a.Role, a.Group, a.Account = Assignment{}, JobRole{}, AccountGroup{}, Account{}
		},
			strict: true, err: ErrGrantScopeWithdrawn},
		{name: "role of another business group", edit: func(_ *Grant, a *Access) { a.Role.BusinessGroupID = "bg_b" },
			withdrawn: []string{ScopeAccountsRead, ScopeStatementsRead}, group: true, account: true},
		{name: "role lost Manage statements", edit: func(_ *Grant, a *Access) { a.Role.Grants = onlyAccounts },
			scopes: []string{ScopeAccountsRead}, withdrawn: []string{ScopeStatementsRead}, group: true, account: true},
		{name: "role lost Manage statements, strictly", edit: func(_ *Grant, a *Access) { a.Role.Grants = onlyAccounts }, strict: true, err: ErrGrantScopeWithdrawn,
			withdrawn: []string{ScopeStatementsRead}},
		{name: "role lost Manage statements, grant and consent never had it", edit: func(g *Grant, a *Access) {
			a.Role.Grants, g.Scopes, a.Consent.Scopes = onlyAccounts, []string{ScopeAccountsRead}, []string{ScopeAccountsRead}
		}, strict: true, scopes: []string{ScopeAccountsRead}, group: true, account: true},
		{name: "role of more rights: the read-only ceiling", edit: func(_ *Grant, a *Access) {
			a.Role.Grants = Grants{{Permission: PermManageUsers, Rights: Rights(RightView, RightEdit)}, {Permission: PermAccountSummary, Rights: Rights(RightView, RightEdit)}}
		}, scopes: []string{ScopeAccountsRead}, withdrawn: []string{ScopeStatementsRead}, group: true, account: true},
		{name: "role grants no data scope", edit: func(_ *Grant, a *Access) {
			a.Role.Grants = Grants{{Permission: PermManageUsers, Rights: Rights(RightView)}}
		}, withdrawn: []string{ScopeAccountsRead, ScopeStatementsRead}, group: true, account: true},
		{name: "token narrower than the consent", edit: func(g *Grant, _ *Access) { g.Scopes = []string{ScopeStatementsRead} },
			scopes: []string{ScopeStatementsRead}, group: true, account: true},
		{name: "token of openid only", edit: func(g *Grant, _ *Access) { g.Scopes = []string{ScopeOpenID} }, group: true, account: true},
		{name: "token wider than the consent", edit: func(g *Grant, a *Access) { a.Consent.Scopes = []string{ScopeAccountsRead} },
			scopes: []string{ScopeAccountsRead}, group: true, account: true},

		{name: "no account group", edit: func(_ *Grant, a *Access) { a.Group, a.Account = AccountGroup{}, Account{} },
			scopes: []string{ScopeAccountsRead, ScopeStatementsRead}},
		{name: "account group of another business group", edit: func(_ *Grant, a *Access) { a.Group.BusinessGroupID = "bg_b" },
			scopes: []string{ScopeAccountsRead, ScopeStatementsRead}},
		{name: "account of another business group", edit: func(_ *Grant, a *Access) { a.Account.BusinessGroupID = "bg_b" },
			scopes: []string{ScopeAccountsRead, ScopeStatementsRead}, group: true},
		{name: "account not in the group (not read)", edit: func(_ *Grant, a *Access) { a.Account = Account{} },
			scopes: []string{ScopeAccountsRead, ScopeStatementsRead}, group: true},
		{name: "account without a group", edit: func(_ *Grant, a *Access) { a.Group = AccountGroup{} },
			scopes: []string{ScopeAccountsRead, ScopeStatementsRead}},
	} {
		t.Run(c.name, func(t *testing.T) {
			g, a := standingFixture(now)
			if c.edit != nil {
				c.edit(&g, &a)
			}
			p, err := JudgeGrant(g, a, now, c.strict)
			if c.err != nil {
				if !errors.Is(err, c.err) || !errors.Is(err, ErrGrantEnded) {
					t.Fatalf("err = %v, want %v", err, c.err)
				}
				if errors.Is(err, ErrGrantScopeWithdrawn) && !strings.HasSuffix(err.Error(), "allows "+strings.Join(c.withdrawn, " ")) {
					t.Fatalf("err %q does not name %v", err, c.withdrawn)
				}
				if p.User.ID != "" || p.Scopes != nil || p.Group != nil || p.Account != nil {
					t.Fatalf("a refused grant came with a principal: %+v", p)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v, want a principal", err)
			}
			if !slices.Equal(p.Scopes, c.scopes) || !slices.Equal(p.Withdrawn, c.withdrawn) {
				t.Fatalf("scopes %v withdrawn %v, want %v and %v", p.Scopes, p.Withdrawn, c.scopes, c.withdrawn)
			}
			if (p.Group != nil) != c.group || (p.Account != nil) != c.account {
				t.Fatalf("group %v account %v, want %v and %v", p.Group, p.Account, c.group, c.account)
			}
			if p.User.ID != a.User.ID || p.Consent.ID != a.Consent.ID || p.BusinessGroupID() != "bg_a" {
				t.Fatalf("principal %+v", p)
			}
		})
	}
}

// TestJudgeGrantLeastPrivilege crosses every user status (with and without
// a lockout), consent state, role and group, token scopes and client kind:
// a grant stands only for an active user with its own standing consent, and
// a standing one never holds a scope outside grant ∩ consent ∩ role, nor an
// account group or account of another business group.
func TestJudgeGrantLeastPrivilege(t *testing.T) {
	now := time.Date(2025, 3, 14, 15, 0, 0, 0, time.UTC)
	users := []func(*User){
		func(*User) {},
		func(u *User) { u.LockedUntil = now.Add(time.Minute) },
		func(u *User) { u.Status = UserLocked },
		func(u *User) { u.Status = UserDeleted },
		func(u *User) { u.Status = UserAwaitingSignIn },
		func(u *User) { u.Status = UserPendingApproval },
		func(u *User) { u.AccountingSoftware = false },
		func(u *User) { *u = User{} },
	}
	consents := []func(*Consent){
		func(*Consent) {},
		func(c *Consent) { c.RevokedAt = now },
		func(c *Consent) { c.ExpiresAt = now.Add(-time.Second) },
		func(c *Consent) { c.UserID = "usr_2" },
		func(c *Consent) { c.ClientID = "cli_w" },
		func(c *Consent) { c.Scopes = []string{ScopeAccountsRead} },
		func(c *Consent) { *c = Consent{} },
	}
	roles := []Grants{
		nil,
		{{Permission: PermAccountSummary, Rights: Rights(RightView)}},
		{{Permission: PermManageStatements, Rights: Rights(RightView, RightEdit)}},
		{{Permission: PermAccountSummary, Rights: Rights(RightView)}, {Permission: PermManageStatements, Rights: Rights(RightView)}},
	}
	tokens := [][]string{{ScopeOpenID}, {ScopeAccountsRead}, {ScopeStatementsRead}, {ScopeAccountsRead, ScopeStatementsRead}}
	for ui, uf := range users {
		for ci, cf := range consents {
			for ri, grants := range roles {
				for _, roleBG := range []string{"bg_a", "bg_b", ""} { // "": no assignment
					for _, groupBG := range []string{"bg_a", "bg_b", ""} {
						for _, scopes := range tokens {
							for _, firstParty := range []bool{false, true} {
								for _, strict := range []StrictScopes{false, true} {
									g, a := standingFixture(now)
									uf(&a.User)
									cf(&a.Consent)
									a.Role.Grants, a.Role.BusinessGroupID = grants, roleBG
									if roleBG == "" {
										a.Role = JobRole{}
									}
									a.Group.BusinessGroupID, a.Account.BusinessGroupID = groupBG, groupBG
									if groupBG == "" {
										a.Group, a.Account = AccountGroup{}, Account{}
									}
									g.Scopes, g.FirstParty = scopes, firstParty
									p, err := JudgeGrant(g, a, now, strict)
									u, c := a.User, a.Consent
									standsUser := u.ID != "" && u.Status == UserActive && (firstParty || u.AccountingSoftware)
									standsConsent := c.ID == g.RequestID && c.UserID == u.ID && c.ClientID == g.ClientID && c.Active(now)
									if err != nil {
										if !errors.Is(err, ErrGrantEnded) {
											t.Fatalf("u%d c%d r%d: err %v does not wrap ErrGrantEnded", ui, ci, ri, err)
										}
										if standsUser && standsConsent && !errors.Is(err, ErrGrantScopeWithdrawn) {
											t.Fatalf("u%d c%d r%d %s/%s %v: refused: %v", ui, ci, ri, roleBG, groupBG, scopes, err)
										}
										continue
									}
									if !standsUser || !standsConsent {
										t.Fatalf("u%d c%d r%d: stands for user %+v consent %+v", ui, ci, ri, u, c)
									}
									var allowed []string
									if roleBG == "bg_a" {
										allowed = AllowedScopes(grants)
									}
									for _, sc := range p.Scopes {
										if !slices.Contains(scopes, sc) || !slices.Contains(c.Scopes, sc) || !slices.Contains(allowed, sc) {
											t.Fatalf("u%d c%d r%d %s %v: holds %s", ui, ci, ri, roleBG, scopes, sc)
										}
									}
									if strict && len(p.Withdrawn) > 0 {
										t.Fatalf("strict grant stands with %v withdrawn", p.Withdrawn)
									}
									if (p.Group != nil || p.Account != nil) != (groupBG == "bg_a") {
										t.Fatalf("group of %q: principal group %v account %v", groupBG, p.Group, p.Account)
									}
								}
							}
						}
					}
				}
			}
		}
	}
}

// TestJudgeUser: the user part alone, as the authorization and userinfo
// endpoints use it.
func TestJudgeUser(t *testing.T) {
	for _, c := range []struct {
		u    User
		want error
	}{
		{User{ID: "u", Status: UserActive}, nil},
		{User{ID: "u", Status: UserActive, FailedAttempts: 5, LockedUntil: time.Now().Add(time.Hour)}, nil},
		{User{}, ErrGrantUserGone},
		{User{ID: "u", Status: UserDeleted}, ErrGrantUserDeleted},
		{User{ID: "u", Status: UserLocked}, ErrGrantUserLocked},
		{User{ID: "u", Status: UserAwaitingSignIn}, ErrGrantUserNotActive},
		{User{ID: "u", Status: UserPendingApproval}, ErrGrantUserNotActive},
	} {
		if err := JudgeUser(c.u); !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
			t.Errorf("%s locked until %v: %v, want %v", c.u.Status, c.u.LockedUntil, err, c.want)
		}
	}
}

// TestJudgeGrantReadsOnlyTheStanding: JudgeGrant decides the same on a
// user's standing (User.Standing, all that GetTokenGrant and
// ReadTokenAccess read of the user) as on the whole user, for every status,
// either kind of user, another business group's user and one locked by
// failed sign-ins: a field JudgeGrant comes to read must be added to the
// standing, or those reads would judge on its zero value.
func TestJudgeGrantReadsOnlyTheStanding(t *testing.T) {
	now := time.Date(2025, 3, 14, 15, 0, 0, 0, time.UTC)
	var users []User
	for _, st := range []UserStatus{UserActive, UserLocked, UserDeleted, UserPendingApproval, UserAwaitingSignIn} {
		for _, as := range []bool{true, false} {
			for _, bg := range []string{"bg_a", "bg_b"} {
				users = append(users, User{ID: "usr_1", BusinessGroupID: bg, LegalEntityID: "le_1", LoginID: "avery",
					DisplayName: "Avery", Email: "avery@example.com", AccountingSoftware: as, Status: st,
					MustChangePassword: st == UserAwaitingSignIn, SecurityQuestion: "first_school", FailedAttempts: 5,
					LastFailedAt: now.Add(-time.Minute), LockedUntil: now.Add(time.Minute), CreatedAt: now.Add(-time.Hour),
					UpdatedAt: now, Version: 3})
			}
		}
	}
	for _, u := range users {
		for _, firstParty := range []bool{false, true} {
			for _, strict := range []StrictScopes{false, true} {
				g, a := standingFixture(now)
				g.FirstParty = firstParty
				a.User = u
				whole, wholeErr := JudgeGrant(g, a, now, strict)
				a.User = u.Standing()
				part, partErr := JudgeGrant(g, a, now, strict)
				name := string(u.Status) + "/" + u.BusinessGroupID
				if fmt.Sprint(partErr) != fmt.Sprint(wholeErr) {
					t.Errorf("%s (software %v, first party %v): whole user %v, standing %v", name, u.AccountingSoftware, firstParty, wholeErr, partErr)
					continue
				}
				if !slices.Equal(whole.Scopes, part.Scopes) || !slices.Equal(whole.Withdrawn, part.Withdrawn) ||
					(whole.Group == nil) != (part.Group == nil) || (whole.Account == nil) != (part.Account == nil) {
					t.Errorf("%s (software %v, first party %v): whole user %+v, standing %+v", name, u.AccountingSoftware, firstParty, whole, part)
				}
			}
		}
	}
}

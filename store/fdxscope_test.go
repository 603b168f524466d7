package store

import (
	"slices"
	"testing"
	"time"
)

// TestFDXScopesFollowTheJobRole is issue 13 §2: FDX's scopes are accepted
// beside ours and map to the same job-role rights — the account clusters
// (basic, detailed, transactions) and the holder's contact to View on
// Account summary, statements to View on Manage statements.
func TestFDXScopesFollowTheJobRole(t *testing.T) {
	summary := Grants{{Permission: PermAccountSummary, Rights: Rights(RightView)}}
	statements := Grants{{Permission: PermManageStatements, Rights: Rights(RightView)}}
	summaryScopes := []string{ScopeAccountsRead, ScopeFDXAccountBasic, ScopeFDXAccountDetailed, ScopeFDXTransactions, ScopeFDXCustomerContact}
	statementScopes := []string{ScopeStatementsRead, ScopeFDXStatements}
	tests := []struct {
		name string
		g    Grants
		want []string
	}{
		{"both", AccountingSoftwareReadOnlyGrants(), append(slices.Clone(summaryScopes), statementScopes...)},
		{"account summary", summary, summaryScopes},
		{"manage statements", statements, statementScopes},
		{"edit only", Grants{{Permission: PermManageStatements, Rights: Rights(RightEdit)}}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := AllowedScopes(tc.g)
			slices.Sort(got)
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("AllowedScopes = %v, want %v", got, want)
			}
		})
	}
	for _, sc := range append(summaryScopes, statementScopes...) {
		if !IsDataScope(sc) {
			t.Errorf("%s is not a data scope", sc)
		}
	}
	for _, sc := range []string{ScopeOpenID, ScopeOfflineAccess, ScopeAdmin, "fdx:investments:read"} {
		if IsDataScope(sc) {
			t.Errorf("%s is a data scope", sc)
		}
	}

	// JudgeGrant: the token's FDX scopes stand while the role allows them;
	// a role change withdraws them like ours.
	now := time.Date(2025, 3, 12, 15, 0, 0, 0, time.UTC)
	u := User{ID: "u", BusinessGroupID: "bg", Status: UserActive, AccountingSoftware: true}
	scopes := []string{ScopeFDXTransactions, ScopeFDXStatements, ScopeFDXCustomerContact}
	c := Consent{ID: "c", UserID: "u", ClientID: "cl", Scopes: scopes, GrantedAt: now.Add(-time.Hour)}
	g := Grant{RequestID: "c", ClientID: "cl", UserID: "u", Scopes: scopes}
	a := Access{Consent: c, User: u, Role: JobRole{ID: "r", BusinessGroupID: "bg", Grants: AccountingSoftwareReadOnlyGrants()}}
	p, err := JudgeGrant(g, a, now, false)
	if got := slices.Sorted(slices.Values(p.Scopes)); err != nil || !slices.Equal(got, slices.Sorted(slices.Values(scopes))) {
		t.Fatalf("JudgeGrant = %v, %v", p.Scopes, err)
	}
	a.Role.Grants = statements
	p, err = JudgeGrant(g, a, now, false)
	if err != nil || !slices.Equal(p.Scopes, []string{ScopeFDXStatements}) || len(p.Withdrawn) != 2 {
		t.Fatalf("after the role lost Account summary: scopes %v withdrawn %v (%v)", p.Scopes, p.Withdrawn, err)
	}
	if _, err := JudgeGrant(g, a, now, true); err == nil {
		t.Fatal("strict: a grant with withdrawn FDX scopes still stands")
	}
}

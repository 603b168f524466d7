package dataapi_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/store"
)

// TestScopeCombinations crosses what the token grants with what the job role
// allows now, on every endpoint: a call needs its scope in both.
func TestScopeCombinations(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	endpoints := []struct {
		path  string
		scope string // "any": either data scope
	}{
		{"/customers/current", "any"},
		{"/accounts", store.ScopeAccountsRead},
		{"/accounts/" + e.f.chq, store.ScopeAccountsRead},
		{"/accounts/" + e.f.chq + "/transactions", store.ScopeAccountsRead},
		{"/accounts/" + e.f.chq + "/transactions/sync", store.ScopeAccountsRead},
		{"/accounts/" + e.f.chq + "/statements", store.ScopeStatementsRead},
		{"/accounts/" + e.f.chq + "/statements/" + e.f.stmtJan, store.ScopeStatementsRead},
	}
	tokenScopes := [][]string{
		{"openid"},
		{store.ScopeAccountsRead},
		{store.ScopeStatementsRead},
		{store.ScopeAccountsRead, store.ScopeStatementsRead},
	}
	roles := []struct {
		id      string
		allowed []string
	}{
		{e.f.role, []string{store.ScopeAccountsRead, store.ScopeStatementsRead}},
		{e.f.roleNoStmt, []string{store.ScopeAccountsRead}},
	}
	for _, role := range roles {
		must(e.st.PutAssignment(ctx, store.Assignment{BusinessGroupID: e.f.bgAcme, UserID: e.f.user, JobRoleID: role.id, AccountGroupID: e.f.group}))
		for _, scopes := range tokenScopes {
			tok := e.v.issue(e.f.consent, scopes, t0.Add(time.Hour))
			for _, ep := range endpoints {
				name := fmt.Sprintf("role=%s/token=%s%s", role.id, strings.Join(scopes, "+"), ep.path)
				t.Run(name, func(t *testing.T) {
					r := e.get(t, tok, base+ep.path, "Accept", "application/json")
					allowed := contains(scopes, ep.scope) && contains(role.allowed, ep.scope)
					if ep.scope == "any" {
						allowed = contains(scopes, store.ScopeAccountsRead) && contains(role.allowed, store.ScopeAccountsRead) ||
							contains(scopes, store.ScopeStatementsRead) && contains(role.allowed, store.ScopeStatementsRead)
					}
					if allowed {
						wantStatus(t, r, 200)
						return
					}
					wantProblem(t, r, 403, "403")
					if h := r.header.Get("WWW-Authenticate"); !strings.Contains(h, `error="insufficient_scope"`) || ep.scope != "any" && !strings.Contains(h, ep.scope) {
						t.Fatalf("WWW-Authenticate %q", h)
					}
				})
			}
		}
	}
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// TestIsolation: what lies outside the user's account group answers exactly
// like what does not exist, and an administrator's change applies to the
// very next request.
func TestIsolation(t *testing.T) {
	opts := envOptions{}
	ctx := context.Background()

	t.Run("outside the account group is indistinguishable from missing", func(t *testing.T) {
		e := newEnv(t, opts)
		tok := e.token(t)
		for _, suffix := range []string{"", "/transactions", "/transactions/sync", "/statements", "/statements/" + e.f.stmtJan} {
			var bodies []string
			for _, id := range []string{e.f.foreign, e.f.out, "acc_doesnotexist"} {
				r := e.get(t, tok, base+"/accounts/"+id+suffix)
				p := wantProblem(t, r, 404, "701")
				bodies = append(bodies, fmt.Sprintf("%s|%s|%s|%s", p.Type, p.Title, p.Detail, p.DebugMessage))
			}
			if bodies[0] != bodies[1] || bodies[1] != bodies[2] {
				t.Fatalf("%s: answers differ: %q", suffix, bodies)
			}
		}
		for _, ids := range []string{e.f.foreign, e.f.out, e.f.chq + ",acc_doesnotexist"} {
			wantProblem(t, e.get(t, tok, base+"/accounts?accountIds="+ids), 404, "701")
		}
		// The foreign account listed in the group never shows in the list.
		r := e.get(t, tok, base+"/accounts?resultType=details")
		if strings.Contains(string(r.body), e.f.foreign) || strings.Contains(string(r.body), e.f.out) {
			t.Fatalf("list leaks: %s", r.body)
		}
		// Another business group's user sees nothing of acme.
		other := newConsent(t, e.st, e.f.otherUser, e.f.client)
		otok := e.v.issue(other.ID, nil, t0.Add(time.Hour))
		wantProblem(t, e.get(t, otok, base+"/accounts/"+e.f.chq), 403, "403") // no assignment: no scope
	})

	t.Run("account removed from the group between two requests", func(t *testing.T) {
		e := newEnv(t, opts)
		tok := e.token(t)
		r := e.get(t, tok, base+"/accounts/"+e.f.chq+"/transactions?limit=5")
		wantStatus(t, r, 200)
		var p txPage
		r.json(t, &p)
		must(e.st.UpdateAccountGroup(ctx, e.f.group, func(g store.AccountGroup) (store.AccountGroup, error) {
			g.AccountIDs = []string{e.f.loan, e.f.loc, e.f.sav}
			return g, nil
		}))
		wantProblem(t, e.get(t, tok, base+"/accounts/"+e.f.chq), 404, "701")
		wantProblem(t, e.get(t, tok, base+"/accounts/"+e.f.chq+"/transactions?limit=5&pageKey="+url.QueryEscape(p.Page.NextPageKey)), 404, "701")
		wantProblem(t, e.get(t, tok, base+"/accounts/"+e.f.chq+"/statements/"+e.f.stmtJan), 404, "701")
		if r := e.get(t, tok, base+"/accounts"); strings.Contains(string(r.body), e.f.chq) {
			t.Fatalf("removed account still listed: %s", r.body)
		}
	})

	t.Run("user deleted between two requests", func(t *testing.T) {
		e := newEnv(t, opts)
		tok := e.token(t)
		wantStatus(t, e.get(t, tok, base+"/accounts"), 200)
		must(e.st.UpdateUser(ctx, e.f.user, func(u store.User) (store.User, error) {
			u.Status, u.DeletedAt = store.UserDeleted, t0
			return u, nil
		}))
		for _, path := range []string{"/accounts", "/customers/current", "/accounts/" + e.f.chq + "/transactions"} {
			r := e.get(t, tok, base+path)
			wantProblem(t, r, 401, "603")
			if !strings.Contains(r.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
				t.Fatalf("WWW-Authenticate %q", r.header.Get("WWW-Authenticate"))
			}
		}
	})

	t.Run("user locked between two requests", func(t *testing.T) {
		e := newEnv(t, opts)
		tok := e.token(t)
		wantStatus(t, e.get(t, tok, base+"/accounts"), 200)
		must(e.st.UpdateUser(ctx, e.f.user, func(u store.User) (store.User, error) { u.Status = store.UserLocked; return u, nil }))
		// The vendor is told why (store.JudgeGrant's reason).
		if p := wantProblem(t, e.get(t, tok, base+"/accounts"), 401, "603"); !strings.Contains(p.Detail, "locked by an administrator") {
			t.Fatalf("detail %q does not say why", p.Detail)
		}
	})

	t.Run("user locked out of sign-in by failures between two requests", func(t *testing.T) {
		e := newEnv(t, opts)
		tok := e.token(t)
		must(e.st.UpdateUser(ctx, e.f.user, func(u store.User) (store.User, error) {
			u.FailedAttempts, u.LockedUntil = 5, t0.Add(15*time.Minute)
			return u, nil
		}))
		wantStatus(t, e.get(t, tok, base+"/accounts"), 200) // issue 10, finding 1
	})

	t.Run("role loses Manage statements between two requests", func(t *testing.T) {
		e := newEnv(t, opts)
		tok := e.token(t)
		wantStatus(t, e.get(t, tok, base+"/accounts/"+e.f.chq+"/statements"), 200)
		must(e.st.UpdateJobRole(ctx, e.f.role, func(r store.JobRole) (store.JobRole, error) {
			r.Grants = store.Grants{{Permission: store.PermAccountSummary, Rights: store.Rights(store.RightView)}}
			return r, nil
		}))
		wantProblem(t, e.get(t, tok, base+"/accounts/"+e.f.chq+"/statements"), 403, "403")
		wantProblem(t, e.get(t, tok, base+"/accounts/"+e.f.chq+"/statements/"+e.f.stmtJan), 403, "403")
		wantStatus(t, e.get(t, tok, base+"/accounts/"+e.f.chq+"/transactions"), 200)
	})

	t.Run("role changed to one with more rights grants no more than the read-only ceiling", func(t *testing.T) {
		e := newEnv(t, opts)
		tok := e.token(t)
		must(e.st.UpdateJobRole(ctx, e.f.role, func(r store.JobRole) (store.JobRole, error) {
			r.Grants = store.Grants{{Permission: store.PermManageUsers, Rights: store.Rights(store.RightView)}}
			return r, nil
		}))
		wantProblem(t, e.get(t, tok, base+"/accounts"), 403, "403")
	})

	t.Run("assignment removed", func(t *testing.T) {
		e := newEnv(t, opts)
		tok := e.token(t)
		a := must(e.st.UserAssignment(ctx, e.f.user, ""))
		if err := e.st.DeleteAssignment(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		wantProblem(t, e.get(t, tok, base+"/accounts"), 403, "403")
		wantProblem(t, e.get(t, tok, base+"/customers/current"), 403, "403") // finding 8
	})

	t.Run("consent revoked", func(t *testing.T) {
		e := newEnv(t, opts)
		// A verifier that still accepts the token (as a cached JWT would):
		// the API's own consent check must refuse it.
		tok := e.token(t)
		wantStatus(t, e.get(t, tok, base+"/accounts"), 200)
		if err := e.st.RevokeConsent(ctx, e.f.consent, t0); err != nil {
			t.Fatal(err)
		}
		r := e.get(t, tok, base+"/accounts")
		wantProblem(t, r, 401, "603")
	})

	t.Run("consent expired", func(t *testing.T) {
		e := newEnv(t, opts)
		// One standing consent per user and client: the fixture's goes.
		if err := e.st.RevokeConsent(ctx, e.f.consent, t0.Add(-72*time.Hour)); err != nil {
			t.Fatal(err)
		}
		c := must(e.st.CreateConsent(ctx, store.Consent{UserID: e.f.user, ClientID: e.f.client, Scopes: []string{store.ScopeAccountsRead},
			GrantedAt: t0.Add(-48 * time.Hour), ExpiresAt: t0.Add(-time.Hour)}))
		tok := e.v.issue(c.ID, nil, t0.Add(time.Hour))
		wantProblem(t, e.get(t, tok, base+"/accounts"), 401, "603")
	})

	t.Run("grant naming another client than its consent", func(t *testing.T) {
		e := newEnv(t, opts)
		must(e.st.CreateClient(ctx, store.Client{ID: "cli_other", Name: "Other", RedirectURIs: []string{"https://o.example/cb"}}))
		e.v.add("forged", tokenInfo{consentID: e.f.consent, clientID: "cli_other"})
		wantProblem(t, e.get(t, "forged", base+"/accounts"), 401, "603")
	})

	t.Run("touches the consent", func(t *testing.T) {
		e := newEnv(t, opts)
		wantStatus(t, e.get(t, e.token(t), base+"/accounts"), 200)
		c := must(e.st.GetConsent(ctx, e.f.consent))
		if c.LastUsedAt.IsZero() {
			t.Fatal("LastUsedAt not set")
		}
	})
}

func TestAuthentication(t *testing.T) {
	e := newEnv(t, envOptions{})
	tok := e.token(t)
	tests := []struct {
		name   string
		path   string
		hdr    []string
		errKey string // expected error= in WWW-Authenticate ("" none)
	}{
		{"no token", "/accounts", nil, ""},
		{"unknown token", "/accounts", []string{"Authorization", "Bearer nope"}, "invalid_token"},
		{"basic scheme", "/accounts", []string{"Authorization", "Basic dXNlcjpwYXNz"}, ""},
		{"empty bearer", "/accounts", []string{"Authorization", "Bearer "}, "invalid_token"},
		{"bad characters", "/accounts", []string{"Authorization", "Bearer a b\"c"}, "invalid_token"},
		{"huge token", "/accounts", []string{"Authorization", "Bearer " + strings.Repeat("a", 10000)}, "invalid_token"},
		{"two headers", "/accounts", []string{"Authorization", "Bearer " + tok, "Authorization", "Bearer " + tok}, "invalid_token"},
		{"token in query", "/accounts?access_token=" + tok, nil, "invalid_request"},
		{"token in query and header", "/accounts?access_token=" + tok, []string{"Authorization", "Bearer " + tok}, "invalid_request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.get(t, "", base+tc.path, tc.hdr...)
			wantProblem(t, r, 401, "603")
			h := r.header.Get("WWW-Authenticate")
			if !strings.HasPrefix(h, "Bearer ") {
				t.Fatalf("WWW-Authenticate %q", h)
			}
			if tc.errKey != "" && !strings.Contains(h, `error="`+tc.errKey+`"`) || tc.errKey == "" && strings.Contains(h, "error=") {
				t.Fatalf("WWW-Authenticate %q, want error=%q", h, tc.errKey)
			}
			if strings.Contains(string(r.body), tok) {
				t.Fatal("token echoed")
			}
		})
	}
	t.Run("expired token", func(t *testing.T) {
		old := e.v.issue(e.f.consent, nil, t0.Add(-time.Second))
		wantProblem(t, e.get(t, old, base+"/accounts"), 401, "603")
	})
	t.Run("client credentials token", func(t *testing.T) {
		e.v.add("cc", tokenInfo{consentID: "none"})
		wantProblem(t, e.get(t, "cc", base+"/accounts"), 401, "603")
	})
	t.Run("openapi needs no token", func(t *testing.T) {
		wantStatus(t, e.get(t, "", base+"/openapi.json"), 200)
	})
}

func TestBadInput(t *testing.T) {
	e := newEnv(t, envOptions{})
	tok := e.token(t)
	ctx := context.Background()
	// Real keys and cursors, to tamper with and to misuse.
	var p txPage
	e.get(t, tok, base+"/accounts/"+e.f.chq+"/transactions?limit=2").json(t, &p)
	key := p.Page.NextPageKey
	var s syncOut
	e.get(t, tok, base+"/accounts/"+e.f.chq+"/transactions/sync?limit=2").json(t, &s)
	cursor := s.NextCursor
	var sa syncOut
	e.get(t, tok, base+"/accounts/"+e.f.sav+"/transactions/sync").json(t, &sa)
	var acc struct{ Page pageOut }
	e.get(t, tok, base+"/accounts?limit=1").json(t, &acc)
	tamper := func(s string) string {
		b := []byte(s)
		b[3] ^= 1
		return string(b)
	}
	_ = ctx
	tx := base + "/accounts/" + e.f.chq + "/transactions"
	tests := []struct {
		name   string
		path   string
		status int
		code   string
		params []string // names the problem must list
	}{
		{"unknown parameters", tx + "?foo=1&bar=2", 400, "401", []string{"bar", "foo"}},
		{"unknown parameter on summary", base + "/accounts/" + e.f.chq + "?x=1", 400, "401", []string{"x"}},
		{"unknown parameter on customer", base + "/customers/current?x=1", 400, "401", []string{"x"}},
		{"limit zero", tx + "?limit=0", 400, "401", []string{"limit"}},
		{"limit 1e9", tx + "?limit=1e9", 400, "401", []string{"limit"}},
		{"limit huge", tx + "?limit=1000000000", 400, "401", []string{"limit"}},
		{"limit negative", tx + "?limit=-5", 400, "401", []string{"limit"}},
		{"limit 1001", tx + "?limit=1001", 400, "401", []string{"limit"}},
		{"limit empty", tx + "?limit=", 400, "401", []string{"limit"}},
		{"limit twice", tx + "?limit=1&limit=2", 400, "401", []string{"limit"}},
		{"bad date", tx + "?startDate=2025-13-01", 400, "702", []string{"startDate"}},
		{"date with time", tx + "?startDate=2025-01-01T00:00:00Z", 400, "702", []string{"startDate"}},
		{"short date", tx + "?endDate=2025-1-1", 400, "702", []string{"endDate"}},
		{"reversed dates", tx + "?startDate=2025-02-01&endDate=2025-01-01", 400, "703", []string{"endDate"}},
		{"ancient start", tx + "?startDate=1900-01-01", 400, "703", []string{"startDate"}},
		{"far future start", tx + "?startDate=2999-01-01", 400, "703", []string{"startDate"}},
		{"startDate and startTime", tx + "?startDate=2025-01-01&startTime=2025-01-01", 400, "401", []string{"startTime"}},
		{"bad status", tx + "?status=cleared", 400, "401", []string{"status"}},
		{"several problems", tx + "?limit=0&status=x&zzz=1", 400, "401", []string{"limit", "status", "zzz"}},
		{"tampered page key", tx + "?pageKey=" + url.QueryEscape(tamper(key)), 400, "401", []string{"pageKey"}},
		{"garbage page key", tx + "?pageKey=abc", 400, "401", []string{"pageKey"}},
		{"page key of another account", base + "/accounts/" + e.f.sav + "/transactions?pageKey=" + url.QueryEscape(key), 400, "401", []string{"pageKey"}},
		{"page key for another query", tx + "?status=all&pageKey=" + url.QueryEscape(key), 400, "401", []string{"pageKey"}},
		{"accounts key as transactions key", tx + "?pageKey=" + url.QueryEscape(acc.Page.NextPageKey), 400, "401", []string{"pageKey"}},
		{"sync cursor as page key", tx + "?pageKey=" + url.QueryEscape(cursor), 400, "401", []string{"pageKey"}},
		{"pageKey and offset", tx + "?pageKey=" + url.QueryEscape(key) + "&offset=" + url.QueryEscape(key), 400, "401", []string{"offset"}},
		{"tampered cursor", tx + "/sync?cursor=" + url.QueryEscape(tamper(cursor)), 400, "401", []string{"cursor"}},
		{"cursor of another account", tx + "/sync?cursor=" + url.QueryEscape(sa.NextCursor), 400, "401", []string{"cursor"}},
		{"page key as cursor", tx + "/sync?cursor=" + url.QueryEscape(key), 400, "401", []string{"cursor"}},
		{"huge cursor", tx + "/sync?cursor=" + strings.Repeat("A", 5000), 400, "401", []string{"cursor"}},
		{"sync unknown parameter", tx + "/sync?since=2025-01-01", 400, "401", []string{"since"}},
		{"bad resultType", base + "/accounts?resultType=full", 400, "401", []string{"resultType"}},
		{"bad accountIds", base + "/accounts?accountIds=,,", 400, "401", []string{"accountIds"}},
		{"too many accountIds", base + "/accounts?accountIds=" + manyIDs(150), 400, "401", []string{"accountIds"}},
		{"accounts key for another query", base + "/accounts?resultType=details&pageKey=" + url.QueryEscape(acc.Page.NextPageKey), 400, "401", []string{"pageKey"}},
		{"statement bad dates", base + "/accounts/" + e.f.chq + "/statements?startDate=x", 400, "702", []string{"startDate"}},
		{"statement page key tampered", base + "/accounts/" + e.f.chq + "/statements?pageKey=" + url.QueryEscape(tamper(key)), 400, "401", []string{"pageKey"}},
		{"statement document parameter", base + "/accounts/" + e.f.chq + "/statements/" + e.f.stmtJan + "?fmt=pdf", 400, "401", []string{"fmt"}},
		{"malformed query", tx + "?limit=%zz", 400, "401", nil},
		{"very long account ID", base + "/accounts/" + strings.Repeat("a", 300), 404, "701", nil},
		{"encoded account ID", base + "/accounts/acc_chq%00", 404, "701", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.get(t, tok, tc.path)
			pr := wantProblem(t, r, tc.status, tc.code)
			var names []string
			for _, pe := range pr.Errors {
				names = append(names, pe.Name)
			}
			for _, want := range tc.params {
				if !contains(names, want) {
					t.Fatalf("errors %v lack %q: %s", names, want, r.body)
				}
			}
		})
	}
	t.Run("huge header", func(t *testing.T) {
		r := e.get(t, tok, base+"/accounts", "X-Junk", strings.Repeat("j", 200_000))
		if r.status >= 500 {
			t.Fatalf("status %d", r.status)
		}
	})
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, envOptions{rateLimit: 3})
	tok := e.token(t)
	for i := 0; i < 3; i++ {
		r := e.get(t, tok, base+"/accounts")
		wantStatus(t, r, 200)
		if r.header.Get("RateLimit-Limit") != "3" || r.header.Get("RateLimit-Remaining") != fmt.Sprint(2-i) || r.header.Get("RateLimit-Reset") == "" {
			t.Fatalf("headers %v", r.header)
		}
	}
	r := e.get(t, tok, base+"/accounts")
	wantProblem(t, r, 429, "1207")
	if r.header.Get("Retry-After") != "20" {
		t.Fatalf("Retry-After %q, want 20 (one token per 20 s)", r.header.Get("Retry-After"))
	}
	// Another client has its own bucket.
	ctx := context.Background()
	must(e.st.CreateClient(ctx, store.Client{ID: "cli_b", Name: "B", RedirectURIs: []string{"https://b.example/cb"}}))
	cb := newConsent(t, e.st, e.f.user, "cli_b")
	wantStatus(t, e.get(t, e.v.issue(cb.ID, nil, t0.Add(time.Hour)), base+"/accounts"), 200)
	// Twenty seconds later one token has come back.
	e.setNow(t0.Add(20 * time.Second))
	wantStatus(t, e.get(t, tok, base+"/accounts"), 200)
	wantStatus(t, e.get(t, tok, base+"/accounts"), 429)
}

func manyIDs(n int) string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("acc_%d", i)
	}
	return strings.Join(ids, ",")
}

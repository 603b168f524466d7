package ops_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bankfeed/bankfeed/ops"
	"github.com/bankfeed/bankfeed/store"
)

// TestOpsOnboarding is issue 10 §3 through the operator API: a business
// group is created with its built-in Administrator job role, and
// POST /ops/v1/business-groups/{id}/administrators makes its first
// administrators, each with a temporary password answered once and never
// logged or audited; the administrator can administer only after its first
// sign-in. Every refusal writes nothing.
func TestOpsOnboarding(t *testing.T) {
	var logs bytes.Buffer
	e := newEnv(t, func(c *ops.Config) {
		c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	ctx := t.Context()
	op := e.operator

	bg := e.must(http.StatusCreated, op, http.MethodPost, "/ops/v1/business-groups", map[string]any{"name": "Onboarded Inc."}).Str("id")
	roles, _, err := e.st.ListJobRoles(ctx, bg, store.Page{})
	if err != nil || len(roles) != 1 || roles[0].Name != "Administrator" {
		t.Fatalf("job roles of a new business group = %+v (%v); want the built-in Administrator", roles, err)
	}
	role := roles[0]
	if d := cmp.Diff(store.AdminGrants().Normalize(), role.Grants.Normalize()); d != "" {
		t.Errorf("Administrator grants (-want +got):\n%s", d)
	}

	path := "/ops/v1/business-groups/" + bg + "/administrators"
	first := e.must(http.StatusCreated, op, http.MethodPost, path, map[string]any{"loginId": " onboard.first ", "displayName": "Ada First", "email": "ada@onboarded.example"})
	temp := first.Str("temporaryPassword")
	userID := first.Str("user.id")
	if len(temp) < 12 || userID == "" || first.Str("user.loginId") != "onboard.first" || first.Str("user.status") != "AWAITING_FIRST_SIGN_IN" ||
		first.Get("user.mustChangePassword") != true || first.Get("user.accountingSoftware") != false || first.Str("jobRoleId") != role.ID {
		t.Fatalf("added administrator = %s", first.Raw)
	}
	u, err := e.st.GetUser(ctx, userID)
	if err != nil || !store.VerifySecret(u.PasswordHash, temp) || u.BusinessGroupID != bg {
		t.Fatalf("stored administrator %+v (%v): the temporary password does not verify", u, err)
	}
	if a, err := e.st.UserAssignment(ctx, userID, ""); err != nil || a.JobRoleID != role.ID || a.AccountGroupID != first.Str("accountGroupId") {
		t.Errorf("assignment %+v (%v)", a, err)
	}
	second := e.must(http.StatusCreated, op, http.MethodPost, path, map[string]any{"loginId": "onboard.second", "displayName": "Ben Second"})
	if second.Str("jobRoleId") != role.ID || second.Str("temporaryPassword") == temp {
		t.Errorf("second administrator = %s", second.Raw)
	}

	// Before first sign-in the administrator cannot administer; after it
	// (the sign-in pages' change, done here on the store), it holds the
	// article's lists.
	tok := e.v.Add(store.Grant{RequestID: store.NewID("req"), ClientID: "online-banking", UserID: userID, Scopes: []string{store.ScopeAdmin}, FirstParty: true})
	if r := e.call(tok, http.MethodGet, "/admin/v1/users", nil); r.Status != http.StatusForbidden {
		t.Errorf("administrator before first sign-in: %d %s; want 403", r.Status, r.Raw)
	}
	if _, err := e.st.UpdateUser(ctx, userID, func(u store.User) (store.User, error) {
		u.Status, u.MustChangePassword = store.UserActive, false
		return u, nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := e.must(http.StatusOK, tok, http.MethodGet, "/admin/v1/users", nil).Items(); len(got) != 2 {
		t.Errorf("the administrator lists %d users; want its business's two", len(got))
	}
	e.must(http.StatusOK, tok, http.MethodGet, "/admin/v1/job-roles", nil)

	// Audited as the operator's, without the password; never logged.
	evs, _, err := e.st.ListAudit(ctx, store.AuditFilter{BusinessGroupID: &bg}, store.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	added := 0
	for _, ev := range evs {
		raw := string(ev.Before) + string(ev.After)
		if strings.Contains(raw, temp) || strings.Contains(raw, second.Str("temporaryPassword")) || strings.Contains(raw, "argon2") {
			t.Errorf("audit event %s holds a password or hash: %s", ev.Action, raw)
		}
		if ev.Action == "business_group.administrator_added" {
			added++
			if ev.ActorID != "core-banking" || ev.TargetType != "user" {
				t.Errorf("audit event %+v", ev)
			}
		}
	}
	if added != 2 {
		t.Errorf("%d administrator_added events; want 2", added)
	}
	if strings.Contains(logs.String(), temp) {
		t.Error("the temporary password reached the log")
	}

	// A business group created before the built-ins (bg1) gets them from
	// its first administrator.
	legacy := e.must(http.StatusCreated, op, http.MethodPost, "/ops/v1/business-groups/"+e.bg1+"/administrators", map[string]any{"loginId": "legacy.admin", "displayName": "Lee Gacy"})
	r, err := e.st.GetJobRole(ctx, legacy.Str("jobRoleId"))
	if err != nil || r.Name != "Administrator" || r.BusinessGroupID != e.bg1 {
		t.Errorf("legacy group's administrator role %+v (%v)", r, err)
	}
	// Only what was made is audited: bg1 had an Administrators group already.
	for action, want := range map[string]int{"job_role.created": 1, "account_group.created": 0, "business_group.administrator_added": 1} {
		evs, _, err := e.st.ListAudit(ctx, store.AuditFilter{BusinessGroupID: &e.bg1, Action: &action}, store.Page{})
		if err != nil || len(evs) != want {
			t.Errorf("%d %s events in bg1 (%v); want %d", len(evs), action, err, want)
		}
	}

	// Refusals, none writing anything: bg2 has no built-ins and no users.
	if _, err := e.st.CreateUser(ctx, store.User{BusinessGroupID: e.bg1, LoginID: "taken.elsewhere", DisplayName: "x", Status: store.UserActive}); err != nil {
		t.Fatal(err)
	}
	p2 := "/ops/v1/business-groups/" + e.bg2 + "/administrators"
	var details []string
	for _, tc := range []struct {
		name   string
		path   string
		body   any
		status int
		fields []string
	}{
		{"unknown business group", "/ops/v1/business-groups/bg_nope/administrators", map[string]any{"loginId": "x.admin", "displayName": "X"}, http.StatusNotFound, nil},
		{"every field invalid", p2, map[string]any{"loginId": "-a", "displayName": "  ", "email": "nope"}, http.StatusUnprocessableEntity, []string{"loginId", "displayName", "email"}},
		{"no body fields", p2, map[string]any{}, http.StatusUnprocessableEntity, []string{"loginId", "displayName"}},
		{"unknown field", p2, map[string]any{"loginId": "x.admin", "displayName": "X", "accountingSoftware": true}, http.StatusBadRequest, []string{"accountingSoftware"}},
		{"login ID of another business", p2, map[string]any{"loginId": "Taken.Elsewhere", "displayName": "X"}, http.StatusConflict, nil},
		{"login ID of another business's administrator", p2, map[string]any{"loginId": "ONBOARD.first", "displayName": "X"}, http.StatusConflict, nil},
		{"login ID taken in the same business", "/ops/v1/business-groups/" + e.bg1 + "/administrators", map[string]any{"loginId": "taken.elsewhere", "displayName": "X"}, http.StatusConflict, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := e.call(op, http.MethodPost, tc.path, tc.body)
			if got.Status != tc.status || got.Get("temporaryPassword") != nil {
				t.Fatalf("%d %s; want %d without a password", got.Status, got.Raw, tc.status)
			}
			var fields []string
			errs, _ := got.Body["errors"].([]any)
			for _, fe := range errs {
				fields = append(fields, fe.(map[string]any)["field"].(string))
			}
			if strings.Join(fields, " ") != strings.Join(tc.fields, " ") {
				t.Errorf("invalid fields %v; want %v", fields, tc.fields)
			}
			if tc.status == http.StatusConflict {
				details = append(details, strings.ReplaceAll(strings.ToLower(got.Str("detail")), strings.ToLower(tc.body.(map[string]any)["loginId"].(string)), "ID"))
			}
		})
	}
	// One neutral answer: it does not tell whose the login ID is.
	for _, d := range details {
		if d != details[0] || strings.Contains(d, "business group") {
			t.Errorf("conflict details %q; want one neutral wording", details)
			break
		}
	}
	if us, _, err := e.st.ListUsers(ctx, store.UserFilter{BusinessGroupID: e.bg2, IncludeDeleted: true}, store.Page{}); err != nil || len(us) != 0 {
		t.Errorf("refusals wrote users %+v (%v)", us, err)
	}
	if roles, _, err := e.st.ListJobRoles(ctx, e.bg2, store.Page{}); err != nil || len(roles) != 0 {
		t.Errorf("refusals wrote job roles %+v (%v)", roles, err)
	}

	// Only the operator: a business administrator's token is refused.
	if r := e.call(tok, http.MethodPost, path, map[string]any{"loginId": "self.made", "displayName": "Self"}); r.Status != http.StatusForbidden {
		t.Errorf("administrator's token on the operator API = %d", r.Status)
	}
}

package admin_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/store"
)

func TestTokens(t *testing.T) {
	e := newEnv(t)
	a := e.newUser(e.bg1, "admin-a", store.AdminGrants())
	ctx := t.Context()
	asUser, err := e.st.CreateUser(ctx, store.User{BusinessGroupID: e.bg1, LoginID: "qbo", DisplayName: "QBO", AccountingSoftware: true, Status: store.UserActive})
	if err != nil {
		t.Fatal(err)
	}
	tok := func(g store.Grant) string { return e.v.Add(g) }
	// An active user with no assignment holds no right at all.
	bare, err := e.st.CreateUser(ctx, store.User{BusinessGroupID: e.bg1, LoginID: "bare", DisplayName: "Bare", Status: store.UserActive})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, token, path string
		status            int
		typ               string
	}{
		{"anonymous admin", "", "/admin/v1/users", 401, "unauthorized"},
		{"anonymous ops", "", "/ops/v1/business-groups", 401, "unauthorized"},
		{"unknown token", "nope", "/admin/v1/users", 401, "unauthorized"},
		{"token of a user that does not exist", tok(store.Grant{ClientID: "online-banking", UserID: "usr_gone", Scopes: []string{"admin"}, FirstParty: true}), "/admin/v1/users", 401, "unauthorized"},
		{"user without an assignment", tok(store.Grant{ClientID: "online-banking", UserID: bare.ID, Scopes: []string{"admin"}, FirstParty: true}), "/admin/v1/users", 403, "missing-right"},
		{"user without an assignment, in an entity's context", tok(store.Grant{ClientID: "online-banking", UserID: bare.ID, Scopes: []string{"admin"}, FirstParty: true}), "/admin/v1/users?context=" + e.le1, 403, "missing-right"},
		{"accounting software user", tok(store.Grant{ClientID: "online-banking", UserID: asUser.ID, Scopes: []string{"admin"}, FirstParty: true}), "/admin/v1/users", 403, "accounting-software-user"},
		{"vendor client", tok(store.Grant{ClientID: "vendor", UserID: a.ID, Scopes: []string{"admin"}}), "/admin/v1/users", 403, "not-first-party"},
		{"no admin scope", tok(store.Grant{ClientID: "online-banking", UserID: a.ID, Scopes: []string{"accounts.read"}, FirstParty: true}), "/admin/v1/users", 403, "insufficient-scope"},
		{"operator on admin", e.operator, "/admin/v1/users", 403, "insufficient-scope"},
		{"user token on ops", tok(store.Grant{ClientID: "online-banking", UserID: a.ID, Scopes: []string{"operator"}, FirstParty: true}), "/ops/v1/business-groups", 403, "not-operator"},
		{"admin on ops", a.Token, "/ops/v1/business-groups", 403, "insufficient-scope"},
		{"admin ok", a.Token, "/admin/v1/users", 200, ""},
		{"operator ok", e.operator, "/ops/v1/business-groups", 200, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.call(c.token, http.MethodGet, c.path, nil)
			if r.Status != c.status || (c.typ != "" && r.Str("type") != "urn:bankfeed:problem:"+c.typ) {
				t.Fatalf("= %d %s, want %d %s", r.Status, r.Raw, c.status, c.typ)
			}
			if c.status == 401 && !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Fatalf("401 without WWW-Authenticate: %v", r.Header)
			}
			if r.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("Cache-Control = %q", r.Header.Get("Cache-Control"))
			}
		})
	}
}

// TestOtherBusinessGroup: an administrator of bg2 tries every endpoint
// with bg1's IDs and always gets 404, and nothing is submitted.
func TestOtherBusinessGroup(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	a := e.newUser(e.bg1, "admin-a", store.AdminGrants())
	b := e.newUser(e.bg1, "admin-b", store.AdminGrants())
	c := e.newUser(e.bg2, "admin-c", store.AdminGrants())
	role, _ := e.st.CreateJobRole(ctx, store.JobRole{BusinessGroupID: e.bg1, Name: "RO", Grants: store.AccountingSoftwareReadOnlyGrants()})
	asg, _ := e.st.UserAssignment(ctx, a.ID, "")
	apr := e.must(http.StatusAccepted, a.Token, http.MethodPost, "/admin/v1/job-roles", map[string]any{"name": "X", "grants": grantsRO()}).Str("id")
	ntf := e.notifications(a)[0]["id"].(string)
	cl, _ := e.st.CreateClient(ctx, store.Client{ID: "vendor-x", Name: "Vendor X"})
	cn, err := e.st.CreateConsent(ctx, store.Consent{ID: store.NewID("cns"), UserID: b.ID, ClientID: cl.ID, Scopes: []string{"accounts.read"}, GrantedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	c2 := e.newUser(e.bg2, "admin-c2", store.AdminGrants())
	_ = c2
	cGroup, _, _ := e.st.ListAccountGroups(ctx, e.bg2, store.Page{})
	cRole := c.RoleID

	calls := []struct {
		method, path string
		body         any
		hdr          []string
	}{
		{"GET", "/admin/v1/users/" + a.ID, nil, nil},
		{"PATCH", "/admin/v1/users/" + a.ID, map[string]any{"accountingSoftware": true}, nil},
		{"DELETE", "/admin/v1/users/" + a.ID, nil, nil},
		{"POST", "/admin/v1/users/" + a.ID + "/lock", nil, nil},
		{"POST", "/admin/v1/users/" + a.ID + "/unlock", nil, nil},
		{"POST", "/admin/v1/users/" + a.ID + "/reset-password", nil, nil},
		{"GET", "/admin/v1/job-roles/" + role.ID, nil, nil},
		{"PATCH", "/admin/v1/job-roles/" + role.ID, map[string]any{"description": "x"}, nil},
		{"DELETE", "/admin/v1/job-roles/" + role.ID, nil, nil},
		{"GET", "/admin/v1/account-groups/" + e.adminGroup1, nil, nil},
		{"PATCH", "/admin/v1/account-groups/" + e.adminGroup1, map[string]any{"name": "x"}, nil},
		{"DELETE", "/admin/v1/account-groups/" + e.adminGroup1, nil, nil},
		{"POST", "/admin/v1/account-groups/" + e.adminGroup1 + "/accounts", map[string]any{"accountId": e.acc3}, nil},
		{"DELETE", "/admin/v1/account-groups/" + e.adminGroup1 + "/accounts/" + e.acc1, nil, nil},
		{"POST", "/admin/v1/account-groups", map[string]any{"name": "steal", "accountIds": []string{e.acc1}}, nil},
		{"POST", "/admin/v1/account-groups/" + cGroup[0].ID + "/accounts", map[string]any{"accountId": e.acc1}, nil},
		{"GET", "/admin/v1/assignments/" + asg.ID, nil, nil},
		{"POST", "/admin/v1/assignments", map[string]any{"userId": a.ID, "jobRoleId": cRole, "accountGroupId": cGroup[0].ID}, nil},
		{"POST", "/admin/v1/assignments", map[string]any{"userId": c.ID, "jobRoleId": role.ID, "accountGroupId": cGroup[0].ID}, nil},
		{"POST", "/admin/v1/assignments", map[string]any{"userId": c.ID, "jobRoleId": cRole, "accountGroupId": e.adminGroup1}, nil},
		{"POST", "/admin/v1/assignments", map[string]any{"userId": c.ID, "jobRoleId": cRole, "accountGroupId": cGroup[0].ID, "legalEntityId": e.le1}, nil},
		{"GET", "/admin/v1/approvals/" + apr, nil, nil},
		{"POST", "/admin/v1/approvals/" + apr + "/approve", nil, nil},
		{"POST", "/admin/v1/approvals/" + apr + "/reject", map[string]any{"reason": "x"}, nil},
		{"POST", "/admin/v1/approvals/" + apr + "/cancel", nil, nil},
		{"POST", "/admin/v1/notifications/" + ntf + "/read", nil, nil},
		{"DELETE", "/admin/v1/connections/" + cn.ID, nil, nil},
		{"GET", "/admin/v1/users", nil, []string{"X-Legal-Entity-ID", e.le1}},
		{"GET", "/admin/v1/users?context=" + e.le1, nil, nil},
	}
	for _, call := range calls {
		r := e.call(c.Token, call.method, call.path, call.body, call.hdr...)
		if r.Status != http.StatusNotFound {
			t.Errorf("%s %s = %d %s, want 404", call.method, call.path, r.Status, r.Raw)
		}
	}
	// bg2's lists hold none of bg1's records.
	for _, path := range []string{"/admin/v1/users", "/admin/v1/job-roles", "/admin/v1/account-groups", "/admin/v1/assignments",
		"/admin/v1/approvals", "/admin/v1/connections", "/admin/v1/accounts"} {
		r := e.must(http.StatusOK, c.Token, http.MethodGet, path, nil)
		for _, bad := range []string{a.ID, b.ID, role.ID, e.adminGroup1, asg.ID, apr, cn.ID, e.acc1, e.bg1} {
			if strings.Contains(string(r.Raw), bad) {
				t.Errorf("%s shows bg1's %s", path, bad)
			}
		}
	}
	// bg2's audit holds only C's own refused attempts (which echo the IDs C typed).
	for _, ev := range e.must(http.StatusOK, c.Token, http.MethodGet, "/admin/v1/audit?limit=1000", nil).Items() {
		if ev["actorId"] != c.ID || !strings.HasSuffix(ev["action"].(string), ".refused") {
			t.Errorf("bg2 audit shows %v", ev)
		}
	}
	// Nothing got submitted in bg2 by the attempts.
	if rs, _, _ := e.st.ListApprovals(ctx, store.ApprovalFilter{BusinessGroupID: e.bg2}, store.Page{}); len(rs) != 0 {
		t.Errorf("attempts created %d requests", len(rs))
	}
	// And bg1's request is untouched.
	if r, _ := e.st.GetApproval(ctx, apr); r.Status != store.ApprovalPending {
		t.Errorf("bg1 request = %s", r.Status)
	}
}

func TestAccountingSoftwareCeiling(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	a := e.newUser(e.bg1, "admin-a", store.AdminGrants())
	asUser, _ := e.st.CreateUser(ctx, store.User{BusinessGroupID: e.bg1, LoginID: "qbo", DisplayName: "QBO", AccountingSoftware: true, Status: store.UserActive})
	ro, _ := e.st.CreateJobRole(ctx, store.JobRole{BusinessGroupID: e.bg1, Name: "RO", Grants: store.AccountingSoftwareReadOnlyGrants()})
	if _, err := e.st.PutAssignment(ctx, store.Assignment{BusinessGroupID: e.bg1, UserID: asUser.ID, JobRoleID: ro.ID, AccountGroupID: e.adminGroup1}); err != nil {
		t.Fatal(err)
	}
	deleteAndCreate := "delete the user and create it again without"
	cases := []struct {
		name, method, path string
		body               any
		want               string
	}{
		{"remove the box", "PATCH", "/admin/v1/users/" + asUser.ID, map[string]any{"accountingSoftware": false}, deleteAndCreate},
		{"add Execute through the role", "PATCH", "/admin/v1/job-roles/" + ro.ID, map[string]any{"grants": append(grantsRO(),
			map[string]any{"permission": "transfers", "rights": []string{"Execute"}})}, deleteAndCreate},
		{"add Sign through the role", "PATCH", "/admin/v1/job-roles/" + ro.ID, map[string]any{"grants": append(grantsRO(),
			map[string]any{"permission": "wire_payments", "rights": []string{"Sign"}})}, deleteAndCreate},
		{"add Edit on statements", "PATCH", "/admin/v1/job-roles/" + ro.ID, map[string]any{"grants": []map[string]any{
			{"permission": "manage_statements", "rights": []string{"View", "Edit"}}}}, "only the View right"},
		{"assign an admin role", "POST", "/admin/v1/assignments", map[string]any{"userId": asUser.ID, "jobRoleId": a.RoleID, "accountGroupId": e.adminGroup1},
			"cannot be given to the accounting software user"},
		{"AS role without statements", "POST", "/admin/v1/job-roles", map[string]any{"name": "Half", "accountingSoftware": true,
			"grants": []map[string]any{{"permission": "account_summary", "rights": []string{"View"}}}}, "must include \"Manage statements\""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.call(a.Token, c.method, c.path, c.body)
			if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Str("detail"), c.want) {
				t.Fatalf("= %d %s, want 422 containing %q", r.Status, r.Raw, c.want)
			}
		})
	}
	// Refusals changed nothing and are audited.
	if got, _ := e.st.GetJobRole(ctx, ro.ID); got.Version != ro.Version {
		t.Error("refused edit changed the role")
	}
	if rs, _, _ := e.st.ListApprovals(ctx, store.ApprovalFilter{BusinessGroupID: e.bg1}, store.Page{}); len(rs) != 0 {
		t.Errorf("refusals created %d requests", len(rs))
	}
	audit := e.must(http.StatusOK, a.Token, http.MethodGet, "/admin/v1/audit", nil).Items()
	refused := 0
	for _, ev := range audit {
		if strings.HasSuffix(ev["action"].(string), ".refused") {
			refused++
		}
	}
	if refused != len(cases) {
		t.Errorf("%d refusals audited, want %d", refused, len(cases))
	}
}

func TestBadInput(t *testing.T) {
	e := newEnv(t)
	a := e.newUser(e.bg1, "admin-a", store.AdminGrants())
	b := e.newUser(e.bg1, "admin-b", store.AdminGrants())
	e.approve(b, e.must(http.StatusAccepted, a.Token, http.MethodPost, "/admin/v1/job-roles", map[string]any{"name": "Taken", "grants": grantsRO()}).Str("id"))
	cases := []struct {
		name, method, path string
		body               any
		status             int
		detail             string
	}{
		{"malformed JSON", "POST", "/admin/v1/job-roles", `{"name": "x",`, 400, "malformed JSON"},
		{"not an object", "POST", "/admin/v1/job-roles", `[1,2]`, 400, "must be"},
		{"unknown field", "POST", "/admin/v1/job-roles", `{"name":"x","grants":[],"colour":"red"}`, 400, `unknown field "colour"`},
		{"two values", "POST", "/admin/v1/job-roles", `{"name":"x","grants":[]} {}`, 400, "more than one"},
		{"empty body", "POST", "/admin/v1/job-roles", "", 400, "body is required"},
		{"oversize", "POST", "/admin/v1/job-roles", `{"name":"` + strings.Repeat("x", 20000) + `"}`, 413, "larger than"},
		{"unknown right", "POST", "/admin/v1/job-roles", map[string]any{"name": "x", "grants": []map[string]any{{"permission": "account_summary", "rights": []string{"Fly"}}}}, 422, "unknown right"},
		{"unknown permission", "POST", "/admin/v1/job-roles", map[string]any{"name": "x", "grants": []map[string]any{{"permission": "teleport", "rights": []string{"View"}}}}, 422, "unknown permission"},
		{"self-approved not held", "POST", "/admin/v1/job-roles", map[string]any{"name": "x", "grants": []map[string]any{{"permission": "manage_job_roles", "rights": []string{"View"}, "selfApproved": []string{"Create"}}}}, 422, "among the rights held"},
		{"duplicate role name", "POST", "/admin/v1/job-roles", map[string]any{"name": "taken", "grants": grantsRO()}, 409, "already exists"},
		{"missing name", "POST", "/admin/v1/job-roles", map[string]any{"grants": grantsRO()}, 422, "name"},
		{"duplicate login", "POST", "/admin/v1/users", map[string]any{"loginId": "admin-b", "displayName": "B"}, 409, "already taken"},
		{"bad login", "POST", "/admin/v1/users", map[string]any{"loginId": "a b", "displayName": "B"}, 422, "loginId"},
		{"unknown user", "GET", "/admin/v1/users/usr_nope", nil, 404, "usr_nope"},
		{"unknown role", "PATCH", "/admin/v1/job-roles/role_nope", map[string]any{"name": "x"}, 404, "role_nope"},
		{"unknown account", "POST", "/admin/v1/account-groups", map[string]any{"name": "G", "accountIds": []string{"acc_nope"}}, 404, "acc_nope"},
		{"unknown approval", "POST", "/admin/v1/approvals/apr_nope/approve", nil, 404, "apr_nope"},
		{"unknown route", "GET", "/admin/v1/nothing", nil, 404, "no route"},
		{"the bare prefix", "GET", "/admin/v1", nil, 404, "no route"},
		{"bad limit", "GET", "/admin/v1/users?limit=0", nil, 400, "limit"},
		{"bad status filter", "GET", "/admin/v1/approvals?status=maybe", nil, 400, "status"},
		{"bad since", "GET", "/admin/v1/audit?since=yesterday", nil, 400, "since"},
		{"wrong type", "POST", "/admin/v1/users", `{"loginId": 5, "displayName": "x"}`, 400, "loginId"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.call(a.Token, c.method, c.path, c.body)
			if r.Status != c.status || !strings.Contains(r.Str("detail"), c.detail) || r.Str("title") == "" || r.Get("status") != float64(c.status) {
				t.Fatalf("= %d %s, want %d with %q", r.Status, r.Raw, c.status, c.detail)
			}
		})
	}
	for _, path := range []string{"/ops/v1", "/ops/v1/nothing"} {
		if r := e.call(e.operator, http.MethodGet, path, nil); r.Status != http.StatusNotFound || r.Str("type") != "urn:bankfeed:problem:not-found" {
			t.Errorf("GET %s = %d %s", path, r.Status, r.Raw)
		}
	}
	// Wrong media type.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, e.ts.URL+"/admin/v1/job-roles", strings.NewReader("name=x"))
	req.Header.Set("Authorization", "Bearer "+a.Token)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := e.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnsupportedMediaType {
		t.Fatalf("form body = %d", res.StatusCode)
	}
	// The invalid-field problem lists the fields.
	r := e.call(a.Token, http.MethodPost, "/admin/v1/users", map[string]any{"loginId": "", "displayName": ""})
	if errs, _ := r.Get("errors").([]any); len(errs) != 2 {
		t.Fatalf("errors = %s", r.Raw)
	}
}

func TestConnections(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	a := e.newUser(e.bg1, "admin-a", store.AdminGrants())
	asUser, _ := e.st.CreateUser(ctx, store.User{BusinessGroupID: e.bg1, LoginID: "qbo", DisplayName: "QBO", AccountingSoftware: true, Status: store.UserActive})
	cl, err := e.st.CreateClient(ctx, store.Client{ID: "quickbooks", Name: "QuickBooks Online"})
	if err != nil {
		t.Fatal(err)
	}
	used := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	cn, err := e.st.CreateConsent(ctx, store.Consent{ID: store.NewID("cns"), UserID: asUser.ID, ClientID: cl.ID,
		Scopes: []string{"accounts.read", "statements.read"}, GrantedAt: used.Add(-time.Hour), LastUsedAt: used})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.CreateToken(ctx, store.TokenRecord{Kind: store.TokenAccess, Signature: "sig1", RequestID: cn.ID, ClientID: cl.ID,
		Subject: asUser.ID, Active: true, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	items := e.must(http.StatusOK, a.Token, http.MethodGet, "/admin/v1/connections", nil).Items()
	if len(items) != 1 || items[0]["vendor"] != "QuickBooks Online" || items[0]["loginId"] != "qbo" || items[0]["active"] != true ||
		items[0]["lastUsedAt"] != "2025-03-01T12:00:00Z" || len(items[0]["scopes"].([]any)) != 2 {
		t.Fatalf("connections = %v", items)
	}
	e.must(http.StatusNoContent, a.Token, http.MethodDelete, "/admin/v1/connections/"+cn.ID, nil)
	if tr, _ := e.st.GetToken(ctx, store.TokenAccess, "sig1"); tr.Active {
		t.Fatal("token still active after revocation")
	}
	if got, _ := e.st.GetConsent(ctx, cn.ID); got.RevokedAt.IsZero() {
		t.Fatal("consent not revoked")
	}
	if r := e.call(a.Token, http.MethodDelete, "/admin/v1/connections/"+cn.ID, nil); r.Status != http.StatusConflict {
		t.Fatalf("second revoke = %d", r.Status)
	}
	if items := e.must(http.StatusOK, a.Token, http.MethodGet, "/admin/v1/connections?active=true", nil).Items(); len(items) != 0 {
		t.Fatalf("active connections after revoke = %v", items)
	}
}

func TestPermissionsCatalogue(t *testing.T) {
	e := newEnv(t)
	a := e.newUser(e.bg1, "admin-a", nil)
	r := e.must(http.StatusOK, a.Token, http.MethodGet, "/admin/v1/permissions", nil)
	if r.Str("permissions.0.name") != "account_summary" || r.Str("permissions.0.title.fr") != "Sommaire des comptes" ||
		r.Str("rights.0.title.fr") != "Consulter" || r.Str("permissions.0.accountingSoftwareRights.0") != "View" {
		t.Fatalf("catalogue = %s", r.Raw)
	}
	if ps, _ := r.Get("permissions").([]any); len(ps) != len(store.Permissions()) {
		t.Fatalf("catalogue has %d permissions", len(ps))
	}
	// A user without any right is refused a list, naming the right.
	if r := e.call(a.Token, http.MethodGet, "/admin/v1/users", nil); r.Status != 403 || r.Str("missing.title") != "Manage users in service agreements" {
		t.Fatalf("= %d %s", r.Status, r.Raw)
	}
}

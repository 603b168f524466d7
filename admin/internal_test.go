package admin_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/bankfeed/bankfeed/internal/apihttp"
	"github.com/bankfeed/bankfeed/internal/problemtest"
	"github.com/bankfeed/bankfeed/internal/syncbuf"

	"github.com/bankfeed/bankfeed/admin"
	"github.com/bankfeed/bankfeed/store"
)

func withLog(b *syncbuf.Buffer) func(*admin.Config) {
	return func(c *admin.Config) { c.Logger = slog.New(slog.NewTextHandler(b, nil)) }
}

// internalError checks r is the generic 500 problem: RFC 9457 fields, the
// path as instance, and nothing of the cause (SQL, driver, Go errors).
func internalError(t *testing.T, r resp, path string) {
	t.Helper()
	if r.Status != http.StatusInternalServerError || r.Header.Get("Content-Type") != "application/problem+json" ||
		r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("%s = %d (%s, %s) %s; want a 500 problem", path, r.Status, r.Header.Get("Content-Type"), r.Header.Get("Cache-Control"), r.Raw)
	}
	var p map[string]any
	if err := json.Unmarshal(r.Raw, &p); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"type": apihttp.ProblemTypeBase + "internal", "title": "Internal Server Error", "status": float64(500),
		"detail": "an unexpected error occurred; it has been logged", "instance": path}
	if len(p) != len(want) {
		t.Errorf("%s: problem has members %v, want exactly %v", path, p, want)
	}
	for k, v := range want {
		if p[k] != v {
			t.Errorf("%s: problem %s = %v, want %v", path, k, p[k], v)
		}
	}
	for _, leak := range problemtest.Leaked(r.Raw, path, "sql", "database", "closed", "gormstore", "pgx", "json:", "admin:", "payload") {
		t.Errorf("%s: the 500 reveals %q: %s", path, leak, r.Raw)
	}
}

// TestStoreFailure: with the database gone, every route answers the 503
// unavailable problem with Retry-After (not a 401 or a 500: issue 11,
// finding 3) and the cause goes to the log only.
func TestStoreFailure(t *testing.T) {
	var log syncbuf.Buffer
	e := newEnv(t, withLog(&log))
	a := e.newUser(e.bg1, "admin", store.AdminGrants())
	if err := e.st.Close(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		token, method, path string
		body                any
		logged              string
	}{
		{e.operator, http.MethodGet, "/ops/v1/accounts/" + e.acc1, nil, "get account: gormstore: get account"},
		{e.operator, http.MethodGet, "/ops/v1/business-groups", nil, "ops: list business groups"},
		{e.operator, http.MethodPost, "/ops/v1/business-groups", map[string]any{"name": "New"}, "gormstore: begin"},
		{e.operator, http.MethodPut, "/ops/v1/accounts/" + e.acc1 + "/balance", map[string]any{"ledger": "1.00"}, "get account: gormstore: get account"},
		{a.Token, http.MethodGet, "/admin/v1/users", nil, "admin: get caller"},
		{a.Token, http.MethodPost, "/admin/v1/job-roles", map[string]any{"name": "x", "grants": grantsRO()}, "admin: get caller"},
	} {
		r := e.send(c.token, c.method, c.path, c.body)
		unavailableError(t, r, c.path)
		if l := log.String(); !strings.Contains(l, "path="+c.path) || !strings.Contains(l, c.logged) {
			t.Errorf("%s %s: the log lacks the cause %q:\n%s", c.method, c.path, c.logged, l)
		}
	}
}

// TestCorruptRequest: a stored request whose payload does not decode, or
// whose kind is unknown, cannot be applied: a 500 (our data is wrong, not
// the checker's input), logged, and the request stays pending with nothing
// applied.
func TestCorruptRequest(t *testing.T) {
	var log syncbuf.Buffer
	e := newEnv(t, withLog(&log))
	ctx := t.Context()
	a := e.newUser(e.bg1, "maker", store.AdminGrants())
	b := e.newUser(e.bg1, "checker", store.AdminGrants())
	role := e.seedRole("Target role", store.AccountingSoftwareReadOnlyGrants())
	grp := e.seedAccountGroup("Target group")
	rolesBefore, groupsBefore := e.countRoles(""), len(e.groups())
	usersBefore, _, err := e.st.ListUsers(ctx, store.UserFilter{BusinessGroupID: e.bg1}, store.Page{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		kind    store.ApprovalKind
		target  string
		version int64
		payload string
		logged  string
	}{
		{store.KindCreateUser, "", 0, `{"loginId": 7}`, "admin: payload"},
		{store.KindCreateJobRole, "", 0, `{"grants": "all"}`, "admin: payload"},
		{store.KindEditJobRole, role.ID, role.Version, `["name"]`, "admin: payload"},
		{store.KindCreateAccountGroup, "", 0, `{"accountIds": "acc"}`, "admin: payload"},
		{store.KindEditAccountGroup, grp.ID, grp.Version, `{"name": {}}`, "admin: payload"},
		{store.KindAssign, "", 0, `{"userId": true}`, "admin: payload"},
		{"job_role.frobnicate", role.ID, role.Version, `{}`, `admin: unknown request kind \"job_role.frobnicate\"`},
	} {
		perm, right := c.kind.ApprovalPermission()
		if perm == "" {
			perm, right = store.PermManageJobRoles, store.RightEdit
		}
		req, err := e.st.CreateApproval(ctx, store.ApprovalRequest{BusinessGroupID: e.bg1, Kind: c.kind, Permission: perm, Right: right,
			TargetID: c.target, TargetVersion: c.version, Payload: json.RawMessage(c.payload), InitiatorID: a.ID, Status: store.ApprovalPending})
		if err != nil {
			t.Fatal(err)
		}
		path := "/admin/v1/approvals/" + req.ID + "/approve"
		internalError(t, e.send(b.Token, http.MethodPost, path, nil), path)
		e.pending(req.ID)
		if l := log.String(); !strings.Contains(l, "path="+path) || !strings.Contains(l, c.logged) {
			t.Errorf("%s: the log lacks %q:\n%s", c.kind, c.logged, l)
		}
	}
	usersAfter, _, err := e.st.ListUsers(ctx, store.UserFilter{BusinessGroupID: e.bg1}, store.Page{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if e.countRoles("") != rolesBefore || len(e.groups()) != groupsBefore || len(usersAfter) != len(usersBefore) {
		t.Errorf("a corrupt request changed something: roles %d→%d, groups %d→%d, users %d→%d",
			rolesBefore, e.countRoles(""), groupsBefore, len(e.groups()), len(usersBefore), len(usersAfter))
	}
	if got := e.role(role.ID); got.Version != role.Version || got.Name != role.Name {
		t.Errorf("role = %+v", got)
	}
	if _, err := e.st.UserAssignment(ctx, a.ID, ""); err != nil {
		t.Errorf("maker's own assignment: %v", err)
	}
	approved, _, err := e.st.ListAudit(ctx, store.AuditFilter{BusinessGroupID: &e.bg1, Action: ptr("approval.approved")}, store.Page{Limit: 100})
	if err != nil || len(approved) != 0 {
		t.Errorf("approvals audited: %v, %v", approved, err)
	}
}

func (e *env) groups() []store.AccountGroup {
	e.t.Helper()
	gs, _, err := e.st.ListAccountGroups(e.t.Context(), e.bg1, store.Page{Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	return gs
}

package admin_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/admin"
	"github.com/bankfeed/bankfeed/internal/apihttp/apitest"
	"github.com/bankfeed/bankfeed/internal/apihttp/openapitest"
	"github.com/bankfeed/bankfeed/ops"
	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/store/gormstore"
	"github.com/bankfeed/bankfeed/store/gormstore/gormtest"
)

type env struct {
	t   *testing.T
	st  *gormstore.Store
	v   *apitest.Verifier
	ts  *httptest.Server
	now time.Time
	// echo is the router the server is mounted on (its Routes are the
	// APIs' table of contents).
	echo *echo.Echo
	srv  *admin.Server // the operations the JSON API and the console share

	bg1, bg2    string
	le1, le2    string
	acc1, acc2  string // bg1
	acc3        string // bg2
	operator    string // token
	adminGroup1 string // an empty account group of bg1 used for administrators
}

func newEnv(t *testing.T, opts ...func(*admin.Config)) *env {
	t.Helper()
	ctx := t.Context()
	st := gormtest.OpenStore(t, "admin_test")
	e := &env{t: t, st: st, v: apitest.NewVerifier(), now: time.Date(2025, 3, 14, 15, 0, 0, 0, time.UTC)}
	cfg := admin.Config{Store: st, Verifier: e.v, Logger: slog.New(slog.DiscardHandler), MaxBody: 8 << 10}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := admin.New(cfg)
	if err != nil {
		t.Fatalf("admin.New: %v", err)
	}
	// /ops/v1 beside it, as serve mounts them: what the bank's operators
	// feed is what the businesses administer.
	opsSrv, err := ops.New(ops.Config{Store: st, Verifier: cfg.Verifier, Logger: cfg.Logger, Now: cfg.Now, MaxBody: cfg.MaxBody})
	if err != nil {
		t.Fatalf("ops.New: %v", err)
	}
	ech := echo.New()
	srv.Mount(ech)
	opsSrv.Mount(ech)
	e.echo, e.srv = ech, srv
	// Every exchange is checked against the OpenAPI documents.
	e.ts = httptest.NewServer(openapitest.Wrap(t, ech))
	t.Cleanup(e.ts.Close)

	e.bg1, e.le1 = e.seedGroup("bg1")
	e.bg2, e.le2 = e.seedGroup("bg2")
	e.acc1 = e.seedAccount(e.bg1, e.le1, "00012-003-1000001")
	e.acc2 = e.seedAccount(e.bg1, e.le1, "00012-003-1000002")
	e.acc3 = e.seedAccount(e.bg2, e.le2, "00012-003-2000001")
	e.operator = e.v.Add(store.Grant{ClientID: "core-banking", Scopes: []string{store.ScopeOperator}, FirstParty: true})
	g, err := st.CreateAccountGroup(ctx, store.AccountGroup{BusinessGroupID: e.bg1, Name: "Administrators"})
	if err != nil {
		t.Fatalf("seed group: %v", err)
	}
	e.adminGroup1 = g.ID
	return e
}

func (e *env) seedGroup(name string) (bg, le string) {
	e.t.Helper()
	return apitest.SeedGroup(e.t, e.st, name)
}

func (e *env) seedAccount(bg, le, number string) string {
	e.t.Helper()
	return apitest.SeedAccount(e.t, e.st, bg, le, number)
}

// person is a seeded user with a token.
type person struct {
	ID, Token, RoleID string
}

// newUser seeds an active ordinary user of bg holding grants (in the
// overview context) and returns an admin-scoped first-party token.
func (e *env) newUser(bg, login string, grants store.Grants) person {
	e.t.Helper()
	ctx := e.t.Context()
	u, err := e.st.CreateUser(ctx, store.User{BusinessGroupID: bg, LoginID: login, DisplayName: login, Status: store.UserActive})
	if err != nil {
		e.t.Fatalf("seed user: %v", err)
	}
	r, err := e.st.CreateJobRole(ctx, store.JobRole{BusinessGroupID: bg, Name: "role of " + login, Grants: grants})
	if err != nil {
		e.t.Fatalf("seed role: %v", err)
	}
	grp := e.adminGroup1
	if bg != e.bg1 {
		gs, _, err := e.st.ListAccountGroups(ctx, bg, store.Page{})
		if err != nil {
			e.t.Fatal(err)
		}
		if len(gs) == 0 {
			g, err := e.st.CreateAccountGroup(ctx, store.AccountGroup{BusinessGroupID: bg, Name: "Administrators"})
			if err != nil {
				e.t.Fatal(err)
			}
			gs = append(gs, g)
		}
		grp = gs[0].ID
	}
	if _, err := e.st.PutAssignment(ctx, store.Assignment{BusinessGroupID: bg, UserID: u.ID, JobRoleID: r.ID, AccountGroupID: grp}); err != nil {
		e.t.Fatalf("seed assignment: %v", err)
	}
	tok := e.v.Add(store.Grant{RequestID: store.NewID("req"), ClientID: "online-banking", UserID: u.ID, Scopes: []string{store.ScopeAdmin}, FirstParty: true})
	return person{ID: u.ID, Token: tok, RoleID: r.ID}
}

// resp is a decoded response.
type resp = apitest.Resp

// call sends a request; body may be nil, a string (sent raw) or a value
// (JSON-encoded). An error status without problem+json, or any 500, fails
// the test.
func (e *env) call(token, method, path string, body any, hdr ...string) resp {
	e.t.Helper()
	return e.client().Call(token, method, path, body, hdr...)
}

// send is call for tests that expect a 500.
func (e *env) send(token, method, path string, body any, hdr ...string) resp {
	e.t.Helper()
	return e.client().Send(token, method, path, body, hdr...)
}

// must calls and fails the test unless the status is want.
func (e *env) must(want int, token, method, path string, body any, hdr ...string) resp {
	e.t.Helper()
	return e.client().Must(want, token, method, path, body, hdr...)
}

// client sends the test's requests to its server.
func (e *env) client() apitest.Client {
	return apitest.Client{T: e.t, HTTP: e.ts.Client(), Base: e.ts.URL}
}

// approve has checker approve request id and returns the decision.
func (e *env) approve(checker person, id string) resp {
	e.t.Helper()
	return e.must(http.StatusOK, checker.Token, http.MethodPost, "/admin/v1/approvals/"+id+"/approve", nil)
}

func (e *env) notifications(p person) []map[string]any {
	e.t.Helper()
	return e.must(http.StatusOK, p.Token, http.MethodGet, "/admin/v1/notifications", nil).Items()
}

func hasNotification(ns []map[string]any, kind, requestID, textPart string) bool {
	for _, n := range ns {
		if n["kind"] == kind && n["requestId"] == requestID && strings.Contains(fmt.Sprint(n["text"]), textPart) {
			return true
		}
	}
	return false
}

func grantsRO() []map[string]any {
	return []map[string]any{
		{"permission": "account_summary", "rights": []string{"View"}},
		{"permission": "manage_statements", "rights": []string{"View"}},
	}
}

// connections is what seedConnections made for one user: a live consent
// with a token, and an older consent revoked at revokedAt.
type connections struct {
	live, old store.Consent
	revokedAt time.Time
	kind      store.TokenKind
	signature string
}

// seedConnections gives userID a live connection to clientID (a consent and
// a token of kind under signature) and one revoked before it, as a user
// who reconnected has.
func (e *env) seedConnections(userID, clientID string, kind store.TokenKind, signature string) connections {
	e.t.Helper()
	ctx := e.t.Context()
	granted := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	c := connections{revokedAt: granted.Add(-24 * time.Hour), kind: kind, signature: signature}
	// The older consent first, revoked before the live one is granted: a
	// user and a client have one standing consent at most.
	var err error
	if c.old, err = e.st.CreateConsent(ctx, store.Consent{ID: store.NewID("cns"), UserID: userID, ClientID: clientID,
		Scopes: []string{"accounts.read"}, GrantedAt: granted.Add(-48 * time.Hour)}); err != nil {
		e.t.Fatal(err)
	}
	if err := e.st.RevokeConsent(ctx, c.old.ID, c.revokedAt); err != nil {
		e.t.Fatal(err)
	}
	if c.live, err = e.st.CreateConsent(ctx, store.Consent{ID: store.NewID("cns"), UserID: userID, ClientID: clientID,
		Scopes: []string{"accounts.read"}, GrantedAt: granted}); err != nil {
		e.t.Fatal(err)
	}
	if err := e.st.CreateToken(ctx, store.TokenRecord{Kind: kind, Signature: signature, RequestID: c.live.ID, ClientID: clientID,
		Subject: userID, Active: true, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		e.t.Fatal(err)
	}
	return c
}

// checkCut fails unless the live connection is revoked, its token
// inactive, and the older consent still revoked at its own time.
func (e *env) checkCut(c connections, after string) {
	e.t.Helper()
	ctx := e.t.Context()
	if got, err := e.st.GetConsent(ctx, c.live.ID); err != nil || got.RevokedAt.IsZero() {
		e.t.Fatalf("consent after %s = %+v, %v; want revoked", after, got, err)
	}
	if tr, err := e.st.GetToken(ctx, c.kind, c.signature); err != nil || tr.Active {
		e.t.Fatalf("token after %s = %+v, %v; want inactive", after, tr, err)
	}
	if got, err := e.st.GetConsent(ctx, c.old.ID); err != nil || !got.RevokedAt.Equal(c.revokedAt) {
		e.t.Fatalf("the earlier revoked consent = %+v, %v; want revoked at %s still", got, err, c.revokedAt)
	}
}

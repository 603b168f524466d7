package ops_test

import (
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/admin"
	"github.com/bankfeed/bankfeed/internal/apihttp/apitest"
	"github.com/bankfeed/bankfeed/internal/apihttp/openapitest"
	"github.com/bankfeed/bankfeed/ops"
	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/store/gormstore"
	"github.com/bankfeed/bankfeed/store/gormstore/gormtest"
)

// env is /ops/v1 on a real database behind a real HTTP server, with
// /admin/v1 beside it as serve mounts them: what an operator creates is
// what a business's administrator then administers.
type env struct {
	t  *testing.T
	st *gormstore.Store
	v  *apitest.Verifier
	ts *httptest.Server

	bg1, bg2   string
	le1, le2   string
	acc1, acc2 string // bg1
	acc3       string // bg2
	operator   string // token
}

func newEnv(t *testing.T, opts ...func(*ops.Config)) *env {
	t.Helper()
	st := gormtest.OpenStore(t, "ops_test")
	e := &env{t: t, st: st, v: apitest.NewVerifier()}
	cfg := ops.Config{Store: st, Verifier: e.v, Logger: slog.New(slog.DiscardHandler), MaxBody: 8 << 10}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := ops.New(cfg)
	if err != nil {
		t.Fatalf("ops.New: %v", err)
	}
	adm, err := admin.New(admin.Config{Store: st, Verifier: e.v, Logger: cfg.Logger, Now: cfg.Now, MaxBody: cfg.MaxBody})
	if err != nil {
		t.Fatalf("admin.New: %v", err)
	}
	ech := echo.New()
	srv.Mount(ech)
	adm.Mount(ech)
	// Every exchange is checked against the OpenAPI documents.
	e.ts = httptest.NewServer(openapitest.Wrap(t, ech))
	t.Cleanup(e.ts.Close)

	e.bg1, e.le1 = e.seedGroup("bg1")
	e.bg2, e.le2 = e.seedGroup("bg2")
	e.acc1 = e.seedAccount(e.bg1, e.le1, "00012-003-1000001")
	e.acc2 = e.seedAccount(e.bg1, e.le1, "00012-003-1000002")
	e.acc3 = e.seedAccount(e.bg2, e.le2, "00012-003-2000001")
	e.operator = e.v.Add(store.Grant{ClientID: "core-banking", Scopes: []string{store.ScopeOperator}, FirstParty: true})
	// bg1 has an Administrators account group already (a business group
	// from before the built-ins).
	if _, err := st.CreateAccountGroup(t.Context(), store.AccountGroup{BusinessGroupID: e.bg1, Name: "Administrators"}); err != nil {
		t.Fatalf("seed group: %v", err)
	}
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

type resp = apitest.Resp

// call sends a request (apitest.Client.Call); any 500 fails the test.
func (e *env) call(token, method, path string, body any, hdr ...string) resp {
	e.t.Helper()
	return e.client().Call(token, method, path, body, hdr...)
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

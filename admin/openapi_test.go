package admin_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/bankfeed/bankfeed/admin/openapi"
	"github.com/bankfeed/bankfeed/internal/apihttp/openapitest"
	"github.com/bankfeed/bankfeed/ops"
	"github.com/bankfeed/bankfeed/store"
)

// TestOpenAPIDocuments: both documents are served as JSON without a token,
// are exactly the embedded YAML's, and are valid OpenAPI 3.1.
func TestOpenAPIDocuments(t *testing.T) {
	e := newEnv(t)
	for _, d := range []struct {
		path string
		want func() ([]byte, error)
	}{{"/admin/v1/openapi.json", openapi.Admin}, {"/ops/v1/openapi.json", ops.OpenAPI}} {
		t.Run(d.path, func(t *testing.T) {
			r := e.must(http.StatusOK, "", http.MethodGet, d.path, nil)
			if ct := r.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control = %q", cc)
			}
			want, err := d.want()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(r.Raw, want) {
				t.Errorf("served document differs from the embedded one")
			}
			loader := openapi3.NewLoader()
			doc, err := loader.LoadFromData(r.Raw)
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			if !doc.IsOpenAPI31OrLater() || !strings.HasPrefix(doc.OpenAPI, "3.1.") {
				t.Errorf("openapi = %q, want 3.1.x", doc.OpenAPI)
			}
			if err := doc.Validate(loader.Context); err != nil {
				t.Errorf("validate: %v", err)
			}
		})
	}
}

var echoParam = regexp.MustCompile(`:([A-Za-z]+)`)

// TestOpenAPIRoutes: every route echo has under /admin/v1 and /ops/v1
// (but the catch-alls) is an operation of its document, and every
// operation is a route.
func TestOpenAPIRoutes(t *testing.T) {
	e := newEnv(t)
	specs, err := openapitest.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range specs {
		prefix := s.Prefix
		t.Run(prefix, func(t *testing.T) {
			var routes, ops []string
			for _, r := range e.echo.Routes() {
				if !strings.HasPrefix(r.Path, prefix+"/") || r.Path == prefix+"/*" || r.Method == "echo_route_not_found" {
					continue
				}
				p := echoParam.ReplaceAllString(strings.TrimPrefix(r.Path, prefix), "{$1}")
				routes = append(routes, r.Method+" "+p)
			}
			for path, item := range s.Doc.Paths.Map() {
				for method := range item.Operations() {
					ops = append(ops, method+" "+path)
				}
			}
			slices.Sort(routes)
			slices.Sort(ops)
			routes = slices.Compact(routes)
			full := func(r string) string { m, p, _ := strings.Cut(r, " "); return m + " " + prefix + p }
			for _, r := range routes {
				if !slices.Contains(ops, r) {
					t.Errorf("route %s has no operation in %s", full(r), s.Name)
				}
			}
			for _, o := range ops {
				if !slices.Contains(routes, o) {
					t.Errorf("%s's operation %s is no route", s.Name, full(o))
				}
			}
			if len(routes) < 10 {
				t.Fatalf("only %d routes found: %v", len(routes), routes)
			}
		})
	}
}

// exchange is a request and its response as the server gave them, for
// openapitest's Check.
type exchange struct {
	method, path string
	reqBody      []byte
	status       int
	header       http.Header
	body         []byte
}

func (x exchange) check(t *testing.T) error {
	t.Helper()
	specs, err := openapitest.Load()
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(x.method, x.path, bytes.NewReader(x.reqBody))
	r.Header.Set("Authorization", "Bearer token")
	if len(x.reqBody) > 0 {
		r.Header.Set("Content-Type", "application/json")
	}
	return specs.For(r.URL.Path).Check(r, x.reqBody, x.status, x.header, x.body)
}

// mutate returns body with fn applied to its decoded JSON object.
func mutate(t *testing.T, body []byte, fn func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	fn(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func rename(from, to string) func(map[string]any) {
	return func(m map[string]any) { m[to] = m[from]; delete(m, from) }
}

func set(k string, v any) func(map[string]any) { return func(m map[string]any) { m[k] = v } }

// TestOpenAPIRejectsWrongResponses: the documents are exact enough that a
// real handler's response, changed in one way, is refused by the
// validation every test's exchanges go through — a document accepting
// anything would validate nothing.
func TestOpenAPIRejectsWrongResponses(t *testing.T) {
	e := newEnv(t)
	a := e.newUser(e.bg1, "openapi", store.AdminGrants())
	op := e.operator
	user := e.must(http.StatusOK, a.Token, http.MethodGet, "/admin/v1/users/"+a.ID, nil)
	users := e.must(http.StatusOK, a.Token, http.MethodGet, "/admin/v1/users?limit=1", nil)
	lock := e.must(http.StatusAccepted, a.Token, http.MethodPost, "/admin/v1/users/"+e.newUser(e.bg1, "target", nil).ID+"/lock", nil)
	missing := e.must(http.StatusNotFound, a.Token, http.MethodGet, "/admin/v1/users/usr_nope", nil)
	refused := e.must(http.StatusForbidden, e.newUser(e.bg1, "viewer", nil).Token, http.MethodGet, "/admin/v1/users", nil)
	e.must(http.StatusOK, op, http.MethodPut, "/ops/v1/accounts/"+e.acc1+"/balance", map[string]any{"ledger": "12.50"})
	balance := e.must(http.StatusOK, op, http.MethodGet, "/ops/v1/accounts/"+e.acc1+"/balance", nil)
	create := []byte(`{"loginId": "new.user", "displayName": "New User"}`)
	checker := e.newUser(e.bg1, "checker", store.AdminGrants())
	created := e.approve(checker, e.submit(a, http.MethodPost, "/admin/v1/users", map[string]any{"loginId": "made.user", "displayName": "Made"}))
	rejectPath := "/admin/v1/approvals/" + e.submit(a, http.MethodPost, "/admin/v1/users", map[string]any{"loginId": "other.user", "displayName": "Other"}) + "/reject"
	rejected := e.must(http.StatusOK, checker.Token, http.MethodPost, rejectPath, map[string]any{"reason": "no"})
	approvePath := "/admin/v1/approvals/" + created.Str("approval.id") + "/approve"
	wrongMethod := e.must(http.StatusMethodNotAllowed, a.Token, http.MethodPut, "/admin/v1/users", nil)
	noAllow := wrongMethod.Header.Clone()
	noAllow.Del("Allow")

	ok := []exchange{
		{http.MethodGet, "/admin/v1/users/" + a.ID, nil, user.Status, user.Header, user.Raw},
		{http.MethodGet, "/admin/v1/users?limit=1", nil, users.Status, users.Header, users.Raw},
		{http.MethodPost, "/admin/v1/users/x/lock", nil, lock.Status, lock.Header, lock.Raw},
		{http.MethodGet, "/admin/v1/users/usr_nope", nil, missing.Status, missing.Header, missing.Raw},
		{http.MethodGet, "/ops/v1/accounts/" + e.acc1 + "/balance", nil, balance.Status, balance.Header, balance.Raw},
		{http.MethodPost, "/admin/v1/users", create, http.StatusAccepted, lock.Header, lock.Raw},
		{http.MethodPut, "/admin/v1/users", nil, wrongMethod.Status, wrongMethod.Header, wrongMethod.Raw},
		{http.MethodGet, "/admin/v1/users", nil, refused.Status, refused.Header, refused.Raw},
		{http.MethodPost, approvePath, nil, created.Status, created.Header, created.Raw},
		{http.MethodPost, rejectPath, []byte(`{"reason": "no"}`), rejected.Status, rejected.Header, rejected.Raw},
	}
	for _, x := range ok {
		if err := x.check(t); err != nil {
			t.Fatalf("the real exchange %s %s is refused: %v", x.method, x.path, err)
		}
	}
	noCache := user.Header.Clone()
	noCache.Del("Cache-Control")
	ub, lb, mb, bb := user.Raw, lock.Raw, missing.Raw, balance.Raw
	cases := []struct {
		name string
		x    exchange
	}{
		{"a field renamed", exchange{http.MethodGet, "/admin/v1/users/" + a.ID, nil, 200, user.Header, mutate(t, ub, rename("loginId", "loginID"))}},
		{"an unknown field", exchange{http.MethodGet, "/admin/v1/users/" + a.ID, nil, 200, user.Header, mutate(t, ub, set("passwordHash", "x"))}},
		{"a required field missing", exchange{http.MethodGet, "/admin/v1/users/" + a.ID, nil, 200, user.Header, mutate(t, ub, func(m map[string]any) { delete(m, "version") })}},
		{"a status outside the enum", exchange{http.MethodGet, "/admin/v1/users/" + a.ID, nil, 200, user.Header, mutate(t, ub, set("status", "ASLEEP"))}},
		{"a timestamp not RFC 3339", exchange{http.MethodGet, "/admin/v1/users/" + a.ID, nil, 200, user.Header, mutate(t, ub, set("createdAt", "yesterday"))}},
		{"a timestamp not in UTC", exchange{http.MethodGet, "/admin/v1/users/" + a.ID, nil, 200, user.Header, mutate(t, ub, set("createdAt", "2025-03-14T11:00:00-04:00"))}},
		{"a boolean as a string", exchange{http.MethodGet, "/admin/v1/users/" + a.ID, nil, 200, user.Header, mutate(t, ub, set("accountingSoftware", "false"))}},
		{"an undocumented status", exchange{http.MethodGet, "/admin/v1/users/" + a.ID, nil, 201, user.Header, ub}},
		{"no Cache-Control", exchange{http.MethodGet, "/admin/v1/users/" + a.ID, nil, 200, noCache, ub}},
		{"a page's next renamed", exchange{http.MethodGet, "/admin/v1/users?limit=1", nil, 200, users.Header, mutate(t, users.Raw, rename("next", "nextPage"))}},
		{"a page longer than its limit", exchange{http.MethodGet, "/admin/v1/users?limit=1", nil, 200, users.Header, mutate(t, users.Raw, func(m map[string]any) {
			m["items"] = append(m["items"].([]any), m["items"].([]any)[0])
		})}},
		{"a page without items", exchange{http.MethodGet, "/admin/v1/users?limit=1", nil, 200, users.Header, mutate(t, users.Raw, rename("items", "users"))}},
		{"a submission not pending", exchange{http.MethodPost, "/admin/v1/users/x/lock", nil, 202, lock.Header, mutate(t, lb, set("status", "APPROVED"))}},
		{"a payload not of its kind", exchange{http.MethodPost, "/admin/v1/users/x/lock", nil, 202, lock.Header, mutate(t, lb, set("kind", "job_role.delete"))}},
		{"an approval of an unknown kind", exchange{http.MethodPost, "/admin/v1/users/x/lock", nil, 202, lock.Header, mutate(t, lb, set("kind", "user.promote"))}},
		{"a 404 problem typed conflict", exchange{http.MethodGet, "/admin/v1/users/usr_nope", nil, 404, missing.Header, mutate(t, mb, set("type", "urn:bankfeed:problem:conflict"))}},
		{"a problem of another path", exchange{http.MethodGet, "/admin/v1/users/usr_nope", nil, 404, missing.Header, mutate(t, mb, set("instance", "/admin/v1/users"))}},
		{"a problem without title", exchange{http.MethodGet, "/admin/v1/users/usr_nope", nil, 404, missing.Header, mutate(t, mb, func(m map[string]any) { delete(m, "title") })}},
		{"a missing right not named", exchange{http.MethodGet, "/admin/v1/users", nil, 403, refused.Header, mutate(t, refused.Raw, func(m map[string]any) { delete(m, "missing") })}},
		{"a missing right named as another 403", exchange{http.MethodGet, "/admin/v1/users", nil, 403, refused.Header, mutate(t, refused.Raw, set("type", "urn:bankfeed:problem:not-first-party"))}},
		{"an approved creation without its password", exchange{http.MethodPost, approvePath, nil, 200, created.Header, mutate(t, created.Raw, func(m map[string]any) { delete(m, "temporaryPassword") })}},
		{"an approved creation without its user", exchange{http.MethodPost, approvePath, nil, 200, created.Header, mutate(t, created.Raw, func(m map[string]any) { delete(m, "result") })}},
		{"an approval answered as rejected", exchange{http.MethodPost, approvePath, nil, 200, created.Header, mutate(t, created.Raw, func(m map[string]any) {
			m["approval"].(map[string]any)["status"] = "REJECTED"
		})}},
		{"a result not of the kind's shape", exchange{http.MethodPost, approvePath, nil, 200, created.Header, mutate(t, created.Raw, func(m map[string]any) {
			u := m["result"].(map[string]any)
			m["result"] = map[string]any{"id": u["id"], "name": "x", "accountIds": []string{}, "createdAt": u["createdAt"], "updatedAt": u["updatedAt"], "version": u["version"]}
		})}},
		{"a rejection with a password", exchange{http.MethodPost, rejectPath, []byte(`{"reason": "no"}`), 200, rejected.Header, mutate(t, rejected.Raw, set("temporaryPassword", "0123456789abcdef"))}},
		{"money as a number", exchange{http.MethodGet, "/ops/v1/accounts/" + e.acc1 + "/balance", nil, 200, balance.Header, mutate(t, bb, set("ledger", 12.5))}},
		{"an undocumented operation", exchange{http.MethodGet, "/admin/v1/secrets", nil, 200, user.Header, ub}},
		{"a 405 without Allow", exchange{http.MethodPut, "/admin/v1/users", nil, 405, noAllow, wrongMethod.Raw}},
		{"a 405 allowing another method", exchange{http.MethodPut, "/admin/v1/users", nil, 405, func() http.Header {
			h := wrongMethod.Header.Clone()
			h.Set("Allow", "GET, POST, DELETE")
			return h
		}(), wrongMethod.Raw}},
		{"a 405 typed not-found", exchange{http.MethodPut, "/admin/v1/users", nil, 405, wrongMethod.Header, mutate(t, wrongMethod.Raw, set("type", "urn:bankfeed:problem:not-found"))}},
		{"an undocumented method", exchange{http.MethodPut, "/ops/v1/accounts/" + e.acc1, nil, 200, balance.Header, bb}},
		{"an accepted request the document refuses", exchange{http.MethodPost, "/admin/v1/users", []byte(`{"loginID": "new.user", "displayName": "New User"}`), 202, lock.Header, lb}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.x.check(t)
			if err == nil {
				t.Fatalf("%s %s → %d accepted: %s", c.x.method, c.x.path, c.x.status, c.x.body)
			}
			t.Logf("refused as expected: %v", err)
		})
	}
}

// TestOpenAPIConventions: what every operation of both documents must say,
// so an operation added later documents the answers every handler can
// give: a unique operationId; 400 (a query or path that is not text); with
// a token, 401, 403, 500 and 503 (the token is read from the database);
// with a body, 413, 415 and 422 (decode's answers); Cache-Control on
// every response; problem+json on every error.
func TestOpenAPIConventions(t *testing.T) {
	specs, err := openapitest.Load()
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, s := range specs {
		for path, item := range s.Doc.Paths.Map() {
			for method, op := range item.Operations() {
				where := s.Name + " " + method + " " + path
				if op.OperationID == "" {
					t.Errorf("%s: no operationId", where)
				} else if prev, dup := ids[s.Name+op.OperationID]; dup {
					t.Errorf("%s: operationId %q also names %s", where, op.OperationID, prev)
				}
				ids[s.Name+op.OperationID] = where
				want := []string{"400"} // any query or path may be refused for its text
				if op.Security == nil || len(*op.Security) > 0 {
					want = append(want, "401", "403", "503")
				}
				if op.RequestBody != nil {
					want = append(want, "413", "415", "422")
				}
				want = append(want, "500")
				for _, code := range want {
					if op.Responses.Value(code) == nil {
						t.Errorf("%s: no %s response", where, code)
					}
				}
				for code, r := range op.Responses.Map() {
					if r.Value.Headers["Cache-Control"] == nil {
						t.Errorf("%s %s: no Cache-Control header", where, code)
					}
					if code >= "400" && r.Value.Content.Get("application/problem+json") == nil {
						t.Errorf("%s %s: not application/problem+json", where, code)
					}
				}
			}
		}
	}
	if len(ids) < 60 {
		t.Fatalf("only %d operations checked", len(ids))
	}
}

// recordingTB is a testing.TB whose errors are recorded, not reported.
type recordingTB struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// TestOpenAPIWrapFailsTheTest: the wrapper every test server goes through
// fails its test on a response the document refuses, naming the operation,
// and passes other paths through untouched.
func TestOpenAPIWrapFailsTheTest(t *testing.T) {
	rec := &recordingTB{TB: t}
	h := openapitest.Wrap(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id": "x"}`)) // no Cache-Control, most of a user missing
	}))
	ts := httptest.NewServer(h)
	defer ts.Close()
	for _, path := range []string{"/admin/v1/users/x", "/elsewhere"} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, ts.URL+path, nil)
		req.Header.Set("Authorization", "Bearer token")
		res, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || string(body) != `{"id": "x"}` {
			t.Errorf("%s through the wrapper = %d %s, want the handler's answer", path, res.StatusCode, body)
		}
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.errs) != 1 || !strings.Contains(rec.errs[0], "getUser (GET /admin/v1/users/x) → 200") ||
		!strings.Contains(rec.errs[0], "Cache-Control") {
		t.Fatalf("errors = %q, want one naming getUser and the missing Cache-Control", rec.errs)
	}
}

package main

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/internal/syncbuf"

	"github.com/bankfeed/bankfeed/store/gormstore/gormtest"
)

// textServer is the real handler on a fresh store (SQLite, or PostgreSQL
// when BANKFEED_TEST_POSTGRES_DSN is set: the answers must not differ).
func textServer(t *testing.T) (*httptest.Server, *syncbuf.Buffer) {
	t.Helper()
	var logs syncbuf.Buffer
	h, err := newHandler(t.Context(), testConfig(t), deps{Store: gormtest.OpenStore(t, "cmd_text"),
		Logger: slog.New(slog.NewTextHandler(&logs, nil)), Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts, &logs
}

type textCase struct {
	name        string
	method      string
	path        string // raw: escapes as sent
	contentType string
	body        string
	wantStatus  int
	wantShape   string // oauth, problem, fdx, page
	wantField   string // named in the answer ("" for pages)
}

func doText(t *testing.T, ts *httptest.Server, tc textCase) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), tc.method, ts.URL+tc.path, strings.NewReader(tc.body))
	if err != nil {
		t.Fatal(err)
	}
	if tc.contentType != "" {
		req.Header.Set("Content-Type", tc.contentType)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

func checkText(t *testing.T, tc textCase, res *http.Response, body []byte) {
	t.Helper()
	if res.StatusCode != tc.wantStatus {
		t.Fatalf("%s %s = %d, want %d: %s", tc.method, tc.path, res.StatusCode, tc.wantStatus, body)
	}
	ct := res.Header.Get("Content-Type")
	switch tc.wantShape {
	case "oauth":
		var e map[string]string
		if !strings.HasPrefix(ct, "application/json") || json.Unmarshal(body, &e) != nil {
			t.Fatalf("want an RFC 6749 JSON error, got %s: %s", ct, body)
		}
		if e["error"] != "invalid_request" || !strings.Contains(e["error_description"], tc.wantField) {
			t.Errorf("error = %q (%q), want invalid_request naming %s", e["error"], e["error_description"], tc.wantField)
		}
		if res.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("Cache-Control = %q", res.Header.Get("Cache-Control"))
		}
	case "problem", "fdx":
		if ct != "application/problem+json" {
			t.Fatalf("Content-Type = %q, want problem+json: %s", ct, body)
		}
		var p struct {
			Status int `json:"status"`
			Errors []struct {
				Field string `json:"field"`
				Name  string `json:"name"`
			} `json:"errors"`
		}
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatal(err)
		}
		if p.Status != tc.wantStatus || len(p.Errors) != 1 {
			t.Fatalf("problem = %s", body)
		}
		if got := p.Errors[0].Field + p.Errors[0].Name; got != tc.wantField {
			t.Errorf("problem names %q, want %q: %s", got, tc.wantField, body)
		}
	case "page":
		if !strings.HasPrefix(ct, "text/html") || !strings.Contains(string(body), "could not be understood") {
			t.Errorf("want the pages' bad-request page, got %s: %s", ct, body)
		}
	}
}

// TestBadTextRefusedAtTheEdge: every example of issue 11's finding 4 —
// NUL bytes and invalid UTF-8, a 500 on PostgreSQL (SQLSTATE 22021) and
// stored on SQLite — gets its endpoint's usual 400/422, naming the field,
// the same on both databases. Before the edge check these were 401s, 404s,
// a 200 login page and stored values.
func TestBadTextRefusedAtTheEdge(t *testing.T) {
	ts, logs := textServer(t)
	form, js := "application/x-www-form-urlencoded", "application/json"
	cases := []textCase{
		{"login challenge with NUL", "GET", "/login?login_challenge=a%00b", "", "", 400, "page", ""},
		{"login user_id with NUL", "POST", "/login", form, "login_challenge=x&user_id=al%00ice&password=p", 400, "page", ""},
		{"refresh token not UTF-8", "POST", "/oauth2/token", form, "grant_type=refresh_token&refresh_token=%FF.%FE", 400, "oauth", "refresh_token"},
		{"authorize client_id with NUL", "GET", "/oauth2/authorize?client_id=a%00&response_type=code", "", "", 400, "oauth", "client_id"},
		{"introspect token with NUL", "POST", "/oauth2/introspect", form, "token=%00", 400, "oauth", "token"},
		{"batch description with \\u0000", "POST", "/ops/v1/transactions", js,
			`{"accountId":"acc_1","transactions":[{"description":"ok"},{"description":"pay\u0000ment"}]}`, 422, "problem", "transactions[1].description"},
		{"business group name with \\u0000", "POST", "/ops/v1/business-groups", js, `{"name":"Acme\u0000","legalName":"Acme Inc."}`, 422, "problem", "name"},
		{"ops account ID with NUL", "GET", "/ops/v1/accounts/a%00b", "", "", 400, "problem", "id"},
		{"ops cursor not UTF-8", "GET", "/ops/v1/accounts?after=%FF%FE", "", "", 400, "problem", "after"},
		{"admin cursor not UTF-8", "GET", "/admin/v1/users?after=%FF%FE", "", "", 400, "problem", "after"},
		{"data API cursor not UTF-8", "GET", "/fdx/v6/accounts?offset=%FF%FE", "", "", 400, "fdx", "offset"},
		{"data API account ID with NUL", "GET", "/fdx/v6/accounts/a%00b/transactions", "", "", 400, "fdx", "accountId"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, body := doText(t, ts, tc)
			checkText(t, tc, res, body)
		})
	}
	if strings.Contains(logs.String(), "status=500") {
		t.Errorf("a 500 was logged:\n%s", logs)
	}
}

// TestBadTextTable is a fuzz-ish table: many bad strings in every place an
// endpoint family reads text never reach a handler or the database — each
// answer is its family's 400/422, never a 500 — while the same requests
// with valid text beyond ASCII pass the edge (whatever the handler says).
func TestBadTextTable(t *testing.T) {
	ts, logs := textServer(t)
	bads := []string{"\x00", "a\x00", "\xff", "\xfe\xff", "caf\xc3", "\xed\xa0\x80", "\xc0\xaf", "\xf4\x90\x80\x80", "é\x00"}
	type place struct {
		method, contentType string
		build               func(bad string) (path, body string)
		status              int
		shape, field        string
	}
	q := url.QueryEscape
	places := []place{
		{"GET", "", func(b string) (string, string) { return "/login?login_challenge=" + q(b), "" }, 400, "page", ""},
		{"POST", "application/x-www-form-urlencoded", func(b string) (string, string) {
			return "/login", "login_challenge=c&user_id=u&password=" + q(b)
		}, 400, "page", ""},
		{"POST", "application/x-www-form-urlencoded", func(b string) (string, string) {
			return "/oauth2/token", "grant_type=authorization_code&code=" + q(b)
		}, 400, "oauth", "code"},
		{"POST", "application/x-www-form-urlencoded", func(b string) (string, string) {
			return "/oauth2/revoke", "token=" + q(b)
		}, 400, "oauth", "token"},
		{"GET", "", func(b string) (string, string) { return "/ops/v1/business-groups/" + url.PathEscape(b), "" }, 400, "problem", "id"},
		{"GET", "", func(b string) (string, string) { return "/admin/v1/audit?action=" + q(b), "" }, 400, "problem", "action"},
		{"POST", "application/json", func(b string) (string, string) {
			s, _ := json.Marshal(b) // invalid UTF-8 becomes U+FFFD: only NULs stay bad
			return "/ops/v1/legal-entities", `{"businessGroupId":"bg_1","name":` + string(s) + `}`
		}, 422, "problem", "name"},
		{"GET", "", func(b string) (string, string) { return "/fdx/v6/accounts/" + url.PathEscape(b), "" }, 400, "fdx", "accountId"},
	}
	for _, p := range places {
		for _, bad := range bads {
			path, body := p.build(bad)
			if p.contentType == "application/json" && !strings.Contains(bad, "\x00") {
				continue // encoding/json sent U+FFFD: valid text
			}
			tc := textCase{name: path, method: p.method, path: path, contentType: p.contentType, body: body,
				wantStatus: p.status, wantShape: p.shape, wantField: p.field}
			res, rb := doText(t, ts, tc)
			checkText(t, tc, res, rb)
		}
		// The same place with valid text beyond ASCII is not refused by the edge.
		path, body := p.build("Café ☕ 𝄞")
		res, rb := doText(t, ts, textCase{method: p.method, path: path, contentType: p.contentType, body: body})
		if res.StatusCode >= 500 || strings.Contains(string(rb), "without NUL bytes") {
			t.Errorf("%s %s with valid text = %d: %s", p.method, path, res.StatusCode, rb)
		}
	}
	// Credentials: a Basic client ID with a NUL, a bearer token not UTF-8.
	for _, h := range []struct{ path, auth, shape, field string }{
		{"/oauth2/token", "Basic " + base64.StdEncoding.EncodeToString([]byte("demo\x00vendor:secret")), "oauth", "Authorization"},
		{"/oauth2/introspect", "Basic " + base64.StdEncoding.EncodeToString([]byte("demo-vendor:\xff")), "oauth", "Authorization"},
		{"/ops/v1/accounts", "Bearer tok.\xff\xfe", "problem", "Authorization"},
		{"/fdx/v6/accounts", "Bearer tok.\xff\xfe", "fdx", "Authorization"},
	} {
		method := "GET"
		if strings.HasPrefix(h.path, "/oauth2/") {
			method = "POST"
		}
		tc := textCase{method: method, path: h.path, contentType: "application/x-www-form-urlencoded", body: "grant_type=client_credentials&token=x",
			wantStatus: 400, wantShape: h.shape, wantField: h.field}
		req, _ := http.NewRequestWithContext(t.Context(), tc.method, ts.URL+tc.path, strings.NewReader(tc.body))
		req.Header.Set("Content-Type", tc.contentType)
		req.Header.Set("Authorization", h.auth)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		rb, _ := io.ReadAll(res.Body)
		res.Body.Close()
		checkText(t, tc, res, rb)
	}
	// Raw invalid UTF-8 in a JSON body (not an escape) is refused too.
	tc := textCase{method: "POST", path: "/ops/v1/business-groups", contentType: "application/json",
		body: "{\"name\":\"Acme\xff\"}", wantStatus: 422, wantShape: "problem", wantField: "body"}
	res, rb := doText(t, ts, tc)
	checkText(t, tc, res, rb)
	if strings.Contains(logs.String(), "status=500") {
		t.Errorf("a 500 was logged:\n%s", logs)
	}
}

// TestBadJSON: the JSON scan finds a \u0000 escape only where it is one —
// not after an escaped backslash — names the field holding it, and refuses
// raw bytes that are not UTF-8.
func TestBadJSON(t *testing.T) {
	tests := []struct {
		body      string
		wantField string // "" = accepted
	}{
		{`{"name":"ok"}`, ""},
		{`{"name":"a\\u0000"}`, ""}, // a backslash, then the text u0000
		{`{"name":"a\\\u0000"}`, "name"},
		{`{"name":"\u0000"}`, "name"},
		{`{"a":{"b":[1,"x","\u0000"]}}`, "a.b[2]"},
		{`{"k\u0000":1}`, "k\uFFFD"},
		{`{"name":"\u00000"}`, "name"},
		{`{"name":"\u0001"}`, ""},
		{`["\u0000"]`, "[0]"},
		{"{\"name\":\"caf\xc3\"}", "body"},
		{`{"name":"\u0000"`, ""}, // malformed: the handler's own 400
	}
	for _, tt := range tests {
		got, bad := badJSON([]byte(tt.body))
		if bad != (tt.wantField != "") || got != tt.wantField {
			t.Errorf("badJSON(%s) = %q, %v; want %q", tt.body, got, bad, tt.wantField)
		}
	}
}

// TestTextGuardHandsOnTheForm: a form body the guard parsed is the
// handler's PostForm at once (ParseForm does not read and parse it again),
// what ParseForm would have made of it, query values merged into Form as
// ParseForm merges them; the body stays readable. A malformed body, or a
// GET's, is left to ParseForm, which answers as without the guard.
func TestTextGuardHandsOnTheForm(t *testing.T) {
	type seen struct {
		preParsed     bool
		post, form    url.Values
		parseErr, raw string
	}
	var got seen
	e := echo.New()
	e.Any("/f", func(c echo.Context) error {
		r := c.Request()
		got = seen{preParsed: r.PostForm != nil}
		if err := r.ParseForm(); err != nil {
			got.parseErr = err.Error()
		}
		got.post, got.form = r.PostForm, r.Form
		b, _ := io.ReadAll(r.Body)
		got.raw = string(b)
		return c.NoContent(http.StatusNoContent)
	}, textGuard(nil))
	for _, tc := range []struct {
		method, query, body string
		preParsed           bool
	}{
		{"POST", "", "token=abc&token_type_hint=access_token&scope=a+b", true},
		{"POST", "x=1&token=q", "token=abc&token=def", true},
		{"PUT", "", "name=Caf%C3%A9", true},
		{"POST", "", "token=%zz&a=1", false},
		{"GET", "", "token=abc", false},
	} {
		req := httptest.NewRequest(tc.method, "/f?"+tc.query, strings.NewReader(tc.body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		e.ServeHTTP(httptest.NewRecorder(), req)

		plain := httptest.NewRequest(tc.method, "/f?"+tc.query, strings.NewReader(tc.body))
		plain.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		var wantErr string
		if err := plain.ParseForm(); err != nil {
			wantErr = err.Error()
		}
		if got.preParsed != tc.preParsed {
			t.Errorf("%s %q: form handed on %v, want %v", tc.method, tc.body, got.preParsed, tc.preParsed)
		}
		if got.parseErr != wantErr || !reflect.DeepEqual(got.post, plain.PostForm) || !reflect.DeepEqual(got.form, plain.Form) {
			t.Errorf("%s %q: PostForm %v Form %v (%q), ParseForm alone: %v %v (%q)", tc.method, tc.body, got.post, got.form, got.parseErr,
				plain.PostForm, plain.Form, wantErr)
		}
		if got.raw != tc.body && tc.preParsed {
			t.Errorf("%s %q: the handler read %q", tc.method, tc.body, got.raw)
		}
	}
}

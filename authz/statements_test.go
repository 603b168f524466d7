package authz_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/oauth2"

	"github.com/bankfeed/bankfeed/authz"
	"github.com/bankfeed/bankfeed/store/gormstore/gormtest"
)

// maxFlowStatements bounds the SQL statements (BEGIN and COMMIT not
// counted) of one full flow for a user already signed in, as
// authz/loadtest's flow scenario runs it: PAR, /oauth2/authorize, the
// consent page's GET and its Allow, the resume, the code exchange. A
// regression guard: every statement costs the flow a round trip to the
// database (issue 15). 55 on SQLite and 57 on PostgreSQL before the consent
// pages read the session with the user's assignment, role and group in one
// statement (PostgreSQL's two more are in the resume and the exchange), 45
// and 47 before the resume read the user with them, 43 and 45 before the
// exchange's two tokens checked their consent once, 42 and 44 before the
// resume took the replaced consents from ReplaceConsent instead of reading
// the user's consents back, 41 and 43 before the resume marked its flow
// done without reading it again (SetAuthFlowState), 40 and 42 before the
// code exchange took its PKCE and OpenID Connect sessions in one statement
// each and read its code once, 37 and 39 before ReplaceConsent revoked the
// consents it replaces with one UPDATE … RETURNING id, 36 and 38 before
// the sign-in page and the consent form moved the flow they had read
// without reading it again (UpdateReadAuthFlow), 34 and 36 before the
// consent pages read the flow with its client in one statement
// (GetAuthFlowClient), 32 and 34 before the authorization step took its
// pushed request in one statement (TakeLiveToken), 31 and 33 before the
// resume read its flow and marked it done in one (FinishAuthFlow). On
// PostgreSQL the exchange's consent share lock also stands for its tokens'
// consent check now (lockRecordConsent), one fewer. 30 on both since the
// consent's audit event takes its number in the statement that writes it on
// PostgreSQL (AppendAudit; SQLite's single writer keeps two statements).
// 26 on both since the resume writes its code with the PKCE and OpenID
// Connect sessions in one INSERT and the exchange its two tokens in one
// (tokenBatch, store.CreateTokens), and the exchange reads the grant's
// records with its code (store.GetTokenGrantRecords). 24 since a signed-in
// browser starts at the consent page, which moves the flow to consent
// itself, instead of at the sign-in page, which moved it and redirected
// (Config.SessionCookie): six requests, not seven. 22 on PostgreSQL since
// the resume revokes the replaced consent, ends its tokens and inserts the
// new one in one statement (ReplaceConsent). 21 and 23 since the code
// exchange takes its PKCE and OpenID Connect sessions together
// (store.TakeTokens). 20 on PostgreSQL since the resume reads its user's
// assignment, role and group with the statement that finishes its flow
// (store.FlowStore.FinishAuthFlow). 18 and 21 since the consent page and
// its form read the session and the flow in one statement
// (store.AccessStore.SessionAccessFlow). 17 on PostgreSQL since the code
// exchange stamps its consent used with the statement that locks it
// (store.TokenStore.ConsumeToken) instead of by one before its transaction.
// 16 on PostgreSQL since that statement also consumes the code. 15 on
// PostgreSQL since the statement that finishes the flow also takes the
// consent's advisory lock that the resume's ReplaceConsent took by a
// statement of its own. 14 and 20 since the consent form's Allow records
// the decision with the statement that finishes the flow
// (store.FlowStore.FinishReadAuthFlow) instead of by one before it. 12 on
// PostgreSQL, and the code exchange in no transaction, since the code's
// consumption writes the new tokens in its statement
// (store.TokenStore.ConsumeCodeCreating). 10 on PostgreSQL and 19 on
// SQLite, and no transaction in a flow on PostgreSQL, since the consent
// form's Allow finishes the flow, replaces the consent and writes the code
// in one statement (store.FlowStore.AllowReadAuthFlow), judged on the
// access the form read with the flow (SQLite: the same steps in one
// transaction, without reading the access again). 8 and 17 since a pushed
// request lives in its request_uri (pushedRequests): the PAR endpoint
// stores nothing and the authorization step takes nothing. 7 and 16 since
// a signed-in browser's flow is stored at consent, with the accounts its
// page lists, by the authorization request (Config.StartConsent,
// store.FlowStore.CreateAuthFlowAccounts) instead of stored at sign-in and
// then moved by the page. 6 on PostgreSQL since the Allow's statement also
// appends the grant's audit event (store.GrantAudit).
func maxFlowStatements() int {
	if os.Getenv(gormtest.PostgresEnv) != "" {
		return 6
	}
	return 16
}

// TestFullFlowStatements counts the statements of one full flow through the
// bank's real pages on the test's database (SQLite, and PostgreSQL with
// BANKFEED_TEST_POSTGRES_DSN): every statement of a traced request is a
// span holding its SQL text, so each request's statements are listed when
// the bound is passed. Then those of one refresh grant and of one
// introspection (one indexed read).
func TestFullFlowStatements(t *testing.T) {
	// As bankfeed serve wires it: a signed-in browser is answered with the
	// consent page by the authorization request itself.
	e, b, u, password := newEnvAsServed(t)

	mem := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(mem))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	var mu sync.Mutex
	requests := map[trace.SpanID]string{}
	var order []trace.SpanID
	e.echo.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			name := r.Method + " " + r.URL.Path
			ctx, sp := tp.Tracer("test").Start(r.Context(), name, trace.WithSpanKind(trace.SpanKindServer))
			defer sp.End()
			mu.Lock()
			requests[sp.SpanContext().SpanID()] = name
			order = append(order, sp.SpanContext().SpanID())
			mu.Unlock()
			c.SetRequest(r.WithContext(ctx))
			return next(c)
		}
	})

	// The first flow signs in (its statements are not counted).
	flow := func(signIn bool) tokenResult {
		t.Helper()
		verifier := oauth2.GenerateVerifier()
		q := e.authorizeParams(e.vendor.ID, oauth2.S256ChallengeFromVerifier(verifier))
		resp := e.postForm("/oauth2/par", q, e.vendor.ID, e.secret)
		var par struct {
			RequestURI string `json:"request_uri"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&par); err != nil || resp.StatusCode != http.StatusCreated {
			t.Fatalf("par: status %d, %v", resp.StatusCode, err)
		}
		loc := e.iss + "/oauth2/authorize?" + url.Values{"client_id": {e.vendor.ID}, "request_uri": {par.RequestURI}}.Encode()
		if signIn {
			loc = b.expectRedirect(b.do(http.MethodGet, loc, nil))
			f := parseForm(t, b.do(http.MethodGet, loc, nil), loc, "Sign in")
			f.fill("User ID", u.LoginID)
			f.fill("Password", password)
			loc = b.expectRedirect(f.submit(b, "Sign in"))
		}
		cb := b.toCallback(loc, "Allow")
		tr := e.token(url.Values{"grant_type": {"authorization_code"}, "code": {cb.Query().Get("code")},
			"redirect_uri": {redirectURI}, "code_verifier": {verifier}}, e.vendor.ID, e.secret)
		if tr.Status != http.StatusOK || tr.AccessToken == "" {
			t.Fatalf("token: %+v", tr)
		}
		return tr
	}
	flow(true)
	mem.Reset()
	mu.Lock()
	requests, order = map[trace.SpanID]string{}, nil
	mu.Unlock()
	tokens := flow(false)
	defer checkStatements(t, mem, "a refresh grant", maxRefreshStatements(), func() {
		if tr := e.refresh(tokens.RefreshToken); tr.Status != http.StatusOK {
			t.Fatalf("refresh: %+v", tr)
		}
	})
	defer checkStatements(t, mem, "an introspection", 1, func() {
		resp := e.postForm("/oauth2/introspect", url.Values{"token": {tokens.AccessToken}}, e.vendor.ID, e.secret)
		if !strings.Contains(readBody(resp), `"active":true`) {
			t.Fatal("introspection: token not active")
		}
	})

	// A statement's span may be the child of a span of authz's inside the
	// request's: walk up to the request.
	spans := mem.GetSpans()
	parent := map[trace.SpanID]trace.SpanID{}
	for _, sp := range spans {
		parent[sp.SpanContext.SpanID()] = sp.Parent.SpanID()
	}
	requestOf := func(id trace.SpanID) trace.SpanID {
		for range len(spans) {
			if _, ok := requests[id]; ok {
				return id
			}
			p, ok := parent[id]
			if !ok {
				return id
			}
			id = p
		}
		return id
	}
	perRequest := map[trace.SpanID][]string{}
	total := 0
	for _, sp := range spans {
		if sp.SpanKind != trace.SpanKindClient {
			continue
		}
		text := ""
		for _, a := range sp.Attributes {
			if a.Key == "db.query.text" {
				text = a.Value.AsString()
			}
		}
		if text == "" {
			continue
		}
		total++
		id := requestOf(sp.Parent.SpanID())
		perRequest[id] = append(perRequest[id], text)
	}
	var report strings.Builder
	for _, id := range order {
		fmt.Fprintf(&report, "%3d  %s\n", len(perRequest[id]), requests[id])
	}
	var unattributed []string
	for id, texts := range perRequest {
		if _, ok := requests[id]; !ok {
			unattributed = append(unattributed, texts...)
		}
	}
	t.Logf("%d statements in one flow:\n%s", total, report.String())
	if len(unattributed) > 0 {
		sort.Strings(unattributed)
		t.Errorf("%d statements outside the flow's requests: %q", len(unattributed), unattributed)
	}
	if total > maxFlowStatements() || testing.Verbose() {
		for _, id := range order {
			for _, s := range perRequest[id] {
				t.Logf("%s: %s", requests[id], s)
			}
		}
	}
	if total > maxFlowStatements() {
		t.Fatalf("one flow ran %d statements, at most %d expected", total, maxFlowStatements())
	}
}

// maxRefreshStatements bounds a refresh grant's statements (BEGIN and
// COMMIT not counted): the token read, consent, user and job role in one
// join, the rotation, the old access token's end, the consent's check (FOR
// SHARE on PostgreSQL) once for the two new tokens, their inserts.
// PostgreSQL first share-locks the consent of the rotated token, which
// then stands for the consent's check (7 on both; 8 on PostgreSQL when the
// check read it again under the lock already held). 8 and 9 when each new
// token checked the consent again. On PostgreSQL the rotation ends the old
// access token in its own statement (RotateRefreshToken): 6. 4 on
// PostgreSQL and 5 on SQLite since the refresh token is read with its
// grant's records (store.GetTokenGrantRecords) and the two new tokens are
// written by one INSERT (tokenBatch). 3 on PostgreSQL since the rotation
// takes the consent's share lock itself (tokenRotatePair). 2 on
// PostgreSQL, and no transaction, since the rotation writes the new tokens
// in its statement (store.TokenStore.RotateRefreshTokenCreating).
func maxRefreshStatements() int {
	if os.Getenv(gormtest.PostgresEnv) != "" {
		return 2
	}
	return 5
}

// checkStatements runs do alone and fails when it ran more than max
// statements, listing them.
func checkStatements(t *testing.T, mem *tracetest.InMemoryExporter, what string, max int, do func()) {
	t.Helper()
	texts := statementTexts(mem, do)
	t.Logf("%s: %d statements", what, len(texts))
	if len(texts) > max || testing.Verbose() {
		for _, x := range texts {
			t.Logf("%s: %s", what, x)
		}
	}
	if len(texts) > max {
		t.Errorf("%s ran %d statements, at most %d expected", what, len(texts), max)
	}
}

// statementTexts runs do alone and returns the SQL of the statements it
// ran, as traced.
func statementTexts(mem *tracetest.InMemoryExporter, do func()) []string {
	mem.Reset()
	do()
	var texts []string
	for _, sp := range mem.GetSpans() {
		for _, a := range sp.Attributes {
			if a.Key == "db.query.text" && sp.SpanKind == trace.SpanKindClient {
				texts = append(texts, a.Value.AsString())
			}
		}
	}
	return texts
}

// TestIntrospectionReadsAKnownRequestOnce: the first introspection of an
// access token reads its record with the sealed request; the next ones,
// with the request decoded already, read the record without it
// (store.TokenStore.GetTokenGrantState), one statement each, and answer
// the same, until the token is revoked.
func TestIntrospectionReadsAKnownRequestOnce(t *testing.T) {
	e := newEnv(t, envOpts{})
	mem := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(mem))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	e.echo.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			ctx, sp := tp.Tracer("test").Start(c.Request().Context(), c.Request().URL.Path, trace.WithSpanKind(trace.SpanKindServer))
			defer sp.End()
			c.SetRequest(c.Request().WithContext(ctx))
			return next(c)
		}
	})
	tok := e.exchange(e.vendor.ID, e.secret)
	introspect := func() (answer map[string]any, texts []string) {
		texts = statementTexts(mem, func() { _, answer = e.introspectAs(tok.AccessToken, nil, e.vendor.ID, e.secret, "") })
		return answer, texts
	}
	first, texts := introspect()
	if len(texts) != 1 || !strings.Contains(texts[0], "tk.request AS tk_request") || first["active"] != true {
		t.Fatalf("first introspection: %v, statements %q; want active, one statement reading the request", first, texts)
	}
	for range 2 {
		again, texts := introspect()
		if len(texts) != 1 || strings.Contains(texts[0], "tk.request AS") || !strings.Contains(texts[0], "tk_request") {
			t.Fatalf("introspection again: statements %q; want one reading the record without its request", texts)
		}
		if !reflect.DeepEqual(first, again) {
			t.Fatalf("answers differ:\n%v\n%v", first, again)
		}
	}
	resp := e.postForm("/oauth2/revoke", url.Values{"token": {tok.AccessToken}}, e.vendor.ID, e.secret)
	resp.Body.Close()
	if m, _ := introspect(); m["active"] != false {
		t.Fatalf("revoked token, its request decoded before: %v", m)
	}
}

// TestIntrospectionChangesNoDecodedRequest: introspection hands fosite the
// request this replica decoded once, shared rather than copied (issue 15);
// nothing it does may change it. Many introspections of one token at once
// (the race detector sees any write beside the reads) answer alike and
// leave the decoded request and session as they were.
func TestIntrospectionChangesNoDecodedRequest(t *testing.T) {
	e := newEnv(t, envOpts{})
	tok := e.exchange(e.vendor.ID, e.secret)
	_, first := e.introspectAs(tok.AccessToken, url.Values{"scope": {"accounts.read"}}, e.vendor.ID, e.secret, "")
	if first["active"] != true || first["sub"] != e.user.ID {
		t.Fatalf("first introspection: %v", first)
	}
	before, ok := authz.DecodedRequestSnapshot(e.srv, tok.AccessToken)
	if !ok {
		t.Fatal("the token's request was not kept decoded after its first introspection")
	}
	introspect := func() (map[string]any, error) {
		form := url.Values{"token": {tok.AccessToken}, "scope": {"accounts.read"}}
		req, err := http.NewRequest(http.MethodPost, e.iss+"/oauth2/introspect", strings.NewReader(form.Encode()))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(url.QueryEscape(e.vendor.ID), url.QueryEscape(e.secret))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		var m map[string]any
		return m, json.NewDecoder(resp.Body).Decode(&m)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 10 {
				m, err := introspect()
				if err != nil || !reflect.DeepEqual(m, first) {
					t.Errorf("introspection: %v, %v; want %v", m, err, first)
					return
				}
			}
		})
	}
	wg.Wait()
	after, _ := authz.DecodedRequestSnapshot(e.srv, tok.AccessToken)
	if !bytes.Equal(before, after) {
		t.Fatalf("introspection changed the decoded request:\nbefore %s\nafter  %s", before, after)
	}
}

package dataapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bankfeed/bankfeed/internal/admission"
	"github.com/bankfeed/bankfeed/internal/syncbuf"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/dataapi"
	"github.com/bankfeed/bankfeed/dataapi/export"
	"github.com/bankfeed/bankfeed/store"
	"github.com/bankfeed/bankfeed/store/gormstore"
	"github.com/bankfeed/bankfeed/store/gormstore/gormtest"
)

// t0 is the tests' clock: a Wednesday in Toronto business hours.
var t0 = time.Date(2025, 3, 12, 15, 0, 0, 0, time.UTC)

// tlog sends the server's log to the test's.
type tlog struct{ t testing.TB }

func (l tlog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// openStore opens a fresh, migrated store on the tests' clock (see gormtest).
func openStore(t testing.TB) *gormstore.Store { return openStoreAt(t, "") }

// openStoreAt is openStore on the database at dsn (gormtest.DSN's; "": a
// fresh one).
func openStoreAt(t testing.TB, dsn string) *gormstore.Store {
	t.Helper()
	return gormtest.Open(t, "dataapi_test", gormstore.Config{DSN: dsn, Now: func() time.Time { return t0 }})
}

// verifier is the test TokenVerifier: each token stands for a consent in
// the store, read on every call (so revocation and expiry are real), with
// optionally narrower scopes, as authz would issue.
type verifier struct {
	st     store.Store
	mu     sync.Mutex
	tokens map[string]tokenInfo
}

type tokenInfo struct {
	consentID string
	scopes    []string // nil: the consent's
	expires   time.Time
	clientID  string // non-empty: claim this client (a forged grant)
}

var errBadToken = fmt.Errorf("test: invalid token")

// VerifyWith is dataapi.TokenVerifier's, as authz.Server does it: the
// token's record is read by the API, with the records it re-checks.
func (v *verifier) VerifyWith(ctx context.Context, token string, read func(context.Context, string) (store.TokenRecord, error)) (store.Grant, error) {
	v.mu.Lock()
	ti, ok := v.tokens[token]
	v.mu.Unlock()
	if !ok {
		return store.Grant{}, errBadToken
	}
	rec, err := read(ctx, tokenSignature(token))
	if errors.Is(err, store.ErrNotFound) {
		return store.Grant{}, errBadToken
	} else if err != nil {
		return store.Grant{}, err
	}
	if !rec.Active {
		return store.Grant{}, errBadToken
	}
	return store.Grant{RequestID: rec.RequestID, ClientID: rec.ClientID, UserID: rec.Subject, Scopes: ti.scopes, ExpiresAt: ti.expires}, nil
}

func (v *verifier) issue(consentID string, scopes []string, expires time.Time) string {
	tok := "tok_" + store.RandomToken(24)
	v.add(tok, tokenInfo{consentID: consentID, scopes: scopes, expires: expires})
	return tok
}

// add registers a token and stores its record, as authz would, for
// recordVerifier: the consent's user and client (or the forged client),
// active, with the consent's scopes unless narrowed.
func (v *verifier) add(tok string, ti tokenInfo) {
	ctx := context.Background()
	c, _ := v.st.GetConsent(ctx, ti.consentID)
	if ti.scopes == nil {
		ti.scopes = c.Scopes
	}
	client := c.ClientID
	if ti.clientID != "" {
		client = ti.clientID
	}
	expires := ti.expires
	if expires.IsZero() {
		expires = t0.AddDate(10, 0, 0)
	}
	if err := v.st.CreateToken(ctx, store.TokenRecord{Kind: store.TokenAccess, Signature: tokenSignature(tok),
		RequestID: ti.consentID, ClientID: client, Subject: c.UserID, Active: true, RequestedAt: t0, ExpiresAt: expires}); err != nil {
		panic(fmt.Sprintf("test: store token record: %v", err))
	}
	v.mu.Lock()
	v.tokens[tok] = ti
	v.mu.Unlock()
}

func tokenSignature(tok string) string { return store.HashToken(tok) }

// env is a running API over a seeded store.
type env struct {
	t    testing.TB
	st   *gormstore.Store
	v    *verifier
	srv  *httptest.Server
	api  *dataapi.Server
	f    fixture
	now  atomic.Pointer[time.Time]
	spec *openapi3.T
	rt   routers.Router
	// responses counts the responses validated against the OpenAPI document.
	responses atomic.Int64
}

type envOptions struct {
	rateLimit     int
	maxExportDays int
	logs          *syncbuf.Buffer // also receives the server's log (level Warn and up)
	// strictTokens makes only the verifier's errBadToken a 401, as cmd
	// does with authz.ErrInvalidToken: a store failure is then a 5xx.
	strictTokens bool
	// store wraps the API's store (fault injection).
	store func(store.Store) store.Store
	// handler wraps the API's HTTP handler (e.g. a request deadline).
	handler func(http.Handler) http.Handler
	// dsn is the store's database (gormtest.DSN's); "": a fresh one.
	dsn string
	// admission is the API's Config.Admission; nil: a real gate of eight
	// slots, as serve builds on two CPUs, so that every test (isolation,
	// bad input, faults) goes through it.
	admission *admission.Gate
}

func newEnv(t testing.TB, opts envOptions) *env {
	t.Helper()
	e := &env{t: t, st: openStoreAt(t, opts.dsn)}
	now := t0
	e.now.Store(&now)
	e.v = &verifier{st: e.st, tokens: map[string]tokenInfo{}}
	e.f = seed(t, e.st)
	var logTo io.Writer = tlog{t}
	if opts.logs != nil {
		logTo = io.MultiWriter(logTo, opts.logs)
	}
	var st store.Store = e.st
	if opts.store != nil {
		st = opts.store(st)
	}
	var verifier dataapi.TokenVerifier = e.v
	var invalidToken func(error) bool
	if opts.strictTokens {
		invalidToken = func(err error) bool { return errors.Is(err, errBadToken) }
	}
	gate := opts.admission
	if gate == nil {
		gate = admission.New(8, admission.Queue{})
	}
	api, err := dataapi.New(dataapi.Config{
		Store: st, Verifier: verifier, Now: func() time.Time { return *e.now.Load() }, IsInvalidToken: invalidToken,
		RateLimitPerMinute: opts.rateLimit,
		MaxExportDays:      opts.maxExportDays,
		Logger:             slog.New(slog.NewTextHandler(logTo, &slog.HandlerOptions{Level: slog.LevelWarn})),
		PageKeySecret:      bytes.Repeat([]byte("k"), 32),
		Bank:               export.Bank{Name: "Bankfeed Test Bank", BIC: "BKFDCATT", RoutingID: "000012345"},
		QBOIntuBID:         "3000",
		Admission:          gate,
	})
	if err != nil {
		t.Fatalf("dataapi.New: %v", err)
	}
	e.api = api
	ec := echo.New()
	ec.HideBanner = true
	api.Mount(ec)
	var h http.Handler = ec
	if opts.handler != nil {
		h = opts.handler(ec)
	}
	e.srv = httptest.NewServer(h)
	t.Cleanup(e.srv.Close)
	e.spec, e.rt = loadSpec(t)
	return e
}

var (
	specOnce sync.Once
	specDoc  *openapi3.T
	specRt   routers.Router
	specErr  error
)

func loadSpec(t testing.TB) (*openapi3.T, routers.Router) {
	t.Helper()
	specOnce.Do(func() {
		b, err := dataapi.OpenAPI()
		if err != nil {
			specErr = err
			return
		}
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(b)
		if err != nil {
			specErr = fmt.Errorf("load: %w", err)
			return
		}
		if err := doc.Validate(loader.Context); err != nil {
			specErr = fmt.Errorf("validate: %w", err)
			return
		}
		// The router matches absolute URLs; serve the document's paths
		// from any host.
		doc.Servers = openapi3.Servers{{URL: "http://{host}/fdx/v6", Variables: map[string]*openapi3.ServerVariable{"host": {Default: "localhost"}}}}
		rt, err := gorillamux.NewRouter(doc)
		if err != nil {
			specErr = fmt.Errorf("router: %w", err)
			return
		}
		specDoc, specRt = doc, rt
	})
	if specErr != nil {
		t.Fatalf("OpenAPI document: %v", specErr)
	}
	return specDoc, specRt
}

func (e *env) setNow(t time.Time) { e.now.Store(&t) }

// resp is a response read in full.
type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// problem decodes an error: the RFC 9457 problem, or FDX's application/json
// shape (numeric code) that a client accepting only JSON gets, read as the
// problem it stands for.
func (r resp) problem(t testing.TB) problem {
	t.Helper()
	var p problem
	if strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		var f struct {
			Code         int    `json:"code"`
			Message      string `json:"message"`
			DebugMessage string `json:"debugMessage"`
			Errors       []struct {
				Name   string `json:"name"`
				In     string `json:"in"`
				Reason string `json:"reason"`
			} `json:"errors"`
		}
		r.json(t, &f)
		return problem{Type: "fdx", Title: f.Message, Status: r.status, Detail: f.DebugMessage, Code: strconv.Itoa(f.Code),
			Message: f.Message, DebugMessage: f.DebugMessage, Errors: f.Errors}
	}
	r.json(t, &p)
	return p
}

type problem struct {
	Type         string `json:"type"`
	Title        string `json:"title"`
	Status       int    `json:"status"`
	Detail       string `json:"detail"`
	Instance     string `json:"instance"`
	Code         string `json:"code"`
	Message      string `json:"message"`
	DebugMessage string `json:"debugMessage"`
	Errors       []struct {
		Name   string `json:"name"`
		In     string `json:"in"`
		Reason string `json:"reason"`
	} `json:"errors"`
}

// get calls GET path with token (empty: none).
func (e *env) get(t testing.TB, token, path string, hdr ...string) resp {
	t.Helper()
	return e.do(t, http.MethodGet, token, path, hdr...)
}

// do sends a request, reads the response and checks what every response
// must satisfy: the OpenAPI document, the common headers, exact money, and
// never a 500.
func (e *env) do(t testing.TB, method, token, path string, hdr ...string) resp {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, nil)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	r := resp{status: res.StatusCode, header: res.Header, body: body}
	if err := e.check(req, r); err != nil {
		t.Errorf("%s %s → %d: %v\nbody: %s", method, path, r.status, err, clip(body))
	}
	return r
}

func clip(b []byte) string {
	if len(b) > 2000 {
		return string(b[:2000]) + "…"
	}
	return string(b)
}

var moneyField = regexp.MustCompile(`"(amount|currentBalance|availableBalance|availableCredit|principalBalance|runningBalance|openingLedgerBalance|closingLedgerBalance|currentLedgerBalance|openingAvailableBalance|closingAvailableBalance|currentAvailableBalance|openingBalance|closingBalance|totalCredits|totalDebits)":([^,}\]]*)`)
var twoDecimals = regexp.MustCompile(`^-?[0-9]+\.[0-9]{2}$`)

func (e *env) check(req *http.Request, r resp) error {
	e.responses.Add(1)
	var errs []string
	if r.status >= 500 {
		errs = append(errs, "server error")
	}
	if id := r.header.Get("x-fapi-interaction-id"); id == "" {
		errs = append(errs, "no x-fapi-interaction-id")
	} else if want := req.Header.Get("x-fapi-interaction-id"); want != "" && validEcho(want) && id != want {
		errs = append(errs, fmt.Sprintf("x-fapi-interaction-id %q not echoed (got %q)", want, id))
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		errs = append(errs, fmt.Sprintf("Cache-Control %q", cc))
	}
	ct := r.header.Get("Content-Type")
	fdxError := r.status >= 400 && strings.HasPrefix(ct, "application/json")
	if r.status >= 400 && !strings.HasPrefix(ct, "application/problem+json") && !fdxError {
		errs = append(errs, "error without application/problem+json: "+ct)
	}
	if fdxError && !strings.Contains(req.Header.Get("Accept"), "application/json") {
		errs = append(errs, "an FDX application/json error to a client that did not ask for application/json")
	}
	if strings.Contains(ct, "json") && !strings.HasSuffix(req.URL.Path, "/openapi.json") {
		for _, m := range moneyField.FindAllSubmatch(r.body, -1) {
			if !twoDecimals.Match(bytes.TrimSpace(m[2])) {
				errs = append(errs, fmt.Sprintf("money %s = %s is not a number with two decimals", m[1], m[2]))
			}
		}
	}
	if err := e.validate(req, r); err != nil {
		errs = append(errs, "OpenAPI: "+err.Error())
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

func validEcho(s string) bool {
	return len(s) <= 64 && regexp.MustCompile(`^[A-Za-z0-9._-]+$`).MatchString(s)
}

// validate checks r against the OpenAPI document: the operation's response
// (status, headers, body schema), or, for requests no operation matches (a
// 405 or an unknown path), the Problem schema.
func (e *env) validate(req *http.Request, r resp) error {
	u := *req.URL
	u.Host = "localhost"
	u.Scheme = "http"
	vreq := req.Clone(context.Background())
	vreq.URL = &u
	vreq.Host = "localhost"
	route, params, err := e.rt.FindRoute(vreq)
	if err != nil {
		if r.status != http.StatusMethodNotAllowed && r.status != http.StatusNotFound {
			return fmt.Errorf("no operation for %s %s, yet status %d", req.Method, req.URL.Path, r.status)
		}
		var v any
		if err := json.Unmarshal(r.body, &v); err != nil {
			return err
		}
		schema := "Problem"
		if strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
			schema = "FdxError"
		}
		return e.spec.Components.Schemas[schema].Value.VisitJSON(v, openapi3.EnableJSONSchema2020())
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route},
		Status:                 r.status,
		Header:                 r.header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	in.SetBodyBytes(r.body)
	return openapi3filter.ValidateResponse(context.Background(), in)
}

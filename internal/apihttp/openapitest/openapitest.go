// Package openapitest checks HTTP exchanges with /admin/v1 and /ops/v1
// against their OpenAPI documents, for tests (admin's, ops's and the
// end-to-end ones in cmd): Wrap puts the check in front of a handler. Only
// test binaries import it; it brings kin-openapi.
package openapitest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/bankfeed/bankfeed/admin/openapi"
	"github.com/bankfeed/bankfeed/ops"
)

// Spec is one of the two documents, loaded for validation.
type Spec struct {
	Name   string // "admin.yaml" or "ops.yaml"
	Prefix string // the path it serves: "/admin/v1" or "/ops/v1"
	Doc    *openapi3.T
	rt     routers.Router
}

// Specs are both documents.
type Specs []*Spec

// Load parses, validates and routes both documents (once per binary).
var Load = sync.OnceValues(func() (Specs, error) {
	var out Specs
	for _, d := range []struct {
		name, prefix string
		json         func() ([]byte, error)
	}{{"admin.yaml", "/admin/v1", openapi.Admin}, {"ops.yaml", "/ops/v1", ops.OpenAPI}} {
		b, err := d.json()
		if err != nil {
			return nil, err
		}
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(b)
		if err != nil {
			return nil, fmt.Errorf("%s: load: %w", d.name, err)
		}
		if err := doc.Validate(loader.Context); err != nil {
			return nil, fmt.Errorf("%s: validate: %w", d.name, err)
		}
		// The router matches absolute URLs: serve the paths from one host,
		// which Check gives every request.
		doc.Servers = openapi3.Servers{{URL: "http://localhost" + d.prefix}}
		rt, err := gorillamux.NewRouter(doc)
		if err != nil {
			return nil, fmt.Errorf("%s: router: %w", d.name, err)
		}
		out = append(out, &Spec{Name: d.name, Prefix: d.prefix, Doc: doc, rt: rt})
	}
	return out, nil
})

// For is the document of path's API, or nil for other paths.
func (ss Specs) For(path string) *Spec {
	for _, s := range ss {
		if path == s.Prefix || strings.HasPrefix(path, s.Prefix+"/") {
			return s
		}
	}
	return nil
}

// Wrap checks every exchange with h whose path is of /admin/v1 or /ops/v1
// against its document and fails tb on any mismatch, naming the operation
// and kin-openapi's error. It fails tb at once if the documents do not load.
func Wrap(tb testing.TB, h http.Handler) http.Handler {
	tb.Helper()
	specs, err := Load()
	if err != nil {
		tb.Fatalf("OpenAPI documents: %v", err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := specs.For(r.URL.Path)
		if s == nil {
			h.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if err := s.Check(r, body, rec.Code, rec.Header(), rec.Body.Bytes()); err != nil {
			tb.Errorf("OpenAPI (%s): %v\nresponse body: %s", s.Name, err, clip(rec.Body.Bytes()))
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	})
}

func clip(b []byte) string {
	if len(b) > 2000 {
		return string(b[:2000]) + "…"
	}
	return string(b)
}

// Check validates one request (with its body) and its response against s:
//   - a request no operation matches must be answered 404, or 405 with
//     Allow (or refused for its text or token: 400, 401, 403; or fail:
//     500, 503), with the matching problem — checks run before routing;
//   - the response must be one the operation documents (status, headers,
//     body schema);
//   - a request the server accepted (2xx) must satisfy the operation's
//     parameters and body schema: the document may not be stricter than
//     the server. Refused requests are the tests' deliberate mistakes.
func (s *Spec) Check(r *http.Request, reqBody []byte, status int, hdr http.Header, body []byte) error {
	if err := checkInstance(r, hdr, body); err != nil {
		return err
	}
	ctx := context.Background()
	vreq := r.Clone(ctx)
	u := *r.URL
	u.Scheme, u.Host = "http", "localhost"
	vreq.URL, vreq.Host = &u, "localhost"
	vreq.Body = io.NopCloser(bytes.NewReader(reqBody))
	route, params, err := s.rt.FindRoute(vreq)
	if err != nil {
		var want string
		switch {
		case status == http.StatusBadRequest:
			want = "BadRequestProblem" // the edge's text check runs before routing
		case status == http.StatusNotFound:
			want = "NotFoundProblem"
		case status == http.StatusMethodNotAllowed && hdr.Get("Allow") != "":
			want = "MethodNotAllowedProblem"
		case status == http.StatusUnauthorized && hdr.Get("WWW-Authenticate") != "":
			want = "UnauthorizedProblem"
		case status == http.StatusForbidden:
			want = "ForbiddenProblem"
		case status == http.StatusInternalServerError:
			want = "InternalProblem"
		case status == http.StatusServiceUnavailable && hdr.Get("Retry-After") != "":
			want = "UnavailableProblem"
		default:
			return fmt.Errorf("%s %s has no operation in the document (%v), yet it was answered %d", r.Method, r.URL.Path, err, status)
		}
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			return fmt.Errorf("%s %s → %d: body is not JSON: %w", r.Method, r.URL.Path, status, err)
		}
		if err := s.Doc.Components.Schemas[want].Value.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
			return fmt.Errorf("%s %s → %d: not a %s: %w", r.Method, r.URL.Path, status, want, err)
		}
		if want == "MethodNotAllowedProblem" {
			if doc := s.methods(vreq); hdr.Get("Allow") != doc {
				return fmt.Errorf("%s %s → 405: Allow is %q, the document's methods %q", r.Method, r.URL.Path, hdr.Get("Allow"), doc)
			}
		}
		return nil
	}
	op := fmt.Sprintf("%s (%s %s) → %d", route.Operation.OperationID, r.Method, r.URL.RequestURI(), status)
	if err := checkPageSize(route.Operation, r, status, body); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	reqIn := &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route,
		Options: &openapi3filter.Options{MultiError: true, AuthenticationFunc: bearerPresent}}
	if status >= 200 && status < 300 {
		if err := openapi3filter.ValidateRequest(ctx, reqIn); err != nil {
			return fmt.Errorf("%s: the server accepted a request the document refuses: %w", op, err)
		}
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: reqIn,
		Status:                 status,
		Header:                 hdr,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(ctx, in); err != nil {
		return fmt.Errorf("%s: the response does not match the document: %w", op, err)
	}
	return nil
}

// methods is the methods the document has for r's path, as Allow names
// them.
func (s *Spec) methods(r *http.Request) string {
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		q := r.Clone(context.Background())
		q.Method = m
		if _, _, err := s.rt.FindRoute(q); err == nil {
			out = append(out, m)
		}
	}
	return strings.Join(out, ", ")
}

// checkInstance: a problem's instance is the request's path (RFC 9457
// §3.1.5, as the documents say), which no schema can state.
func checkInstance(r *http.Request, hdr http.Header, body []byte) error {
	if hdr.Get("Content-Type") != "application/problem+json" {
		return nil
	}
	var p struct {
		Instance string `json:"instance"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return fmt.Errorf("%s %s: the problem is not JSON: %w", r.Method, r.URL.Path, err)
	}
	if p.Instance != r.URL.Path {
		return fmt.Errorf("%s %s: the problem's instance is %q, not the request's path", r.Method, r.URL.Path, p.Instance)
	}
	return nil
}

// checkPageSize: a keyset page holds at most ?limit= items (default 100),
// which no schema can state.
func checkPageSize(op *openapi3.Operation, r *http.Request, status int, body []byte) error {
	if status != http.StatusOK || op.Parameters.GetByInAndName("query", "limit") == nil {
		return nil
	}
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("limit %q answered 200", v)
		}
		limit = n
	}
	var page struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		return fmt.Errorf("the page is not JSON: %w", err)
	}
	if len(page.Items) > limit {
		return fmt.Errorf("the page holds %d items, more than the limit %d", len(page.Items), limit)
	}
	return nil
}

// bearerPresent is the documents' security as a request can show it: an
// OAuth access token, as Bearer or DPoP (RFC 9449; whether it and its
// proof are good is the server's to say).
func bearerPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	h := in.RequestValidationInput.Request.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !(strings.EqualFold(scheme, "Bearer") || strings.EqualFold(scheme, "DPoP")) || tok == "" {
		return errors.New("no bearer token")
	}
	return nil
}

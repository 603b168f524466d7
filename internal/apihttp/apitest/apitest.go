// Package apitest is the test support of the JSON APIs of internal/apihttp
// (/admin/v1 and /ops/v1): real HTTP exchanges with a test server (Client),
// their decoded answers (Resp), the problem checks both make (ProblemIs), a
// token seam that hands out real store.Grant values (Verifier), and the
// seeds both start from (SeedGroup, SeedAccount). Only tests import it.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/bankfeed/bankfeed/internal/apihttp"
	"github.com/bankfeed/bankfeed/store"
)

// Verifier is the test seam for tokens: it hands out real store.Grant
// values for tokens the test registered (the end-to-end story runs with
// authz's real tokens in cmd/bankfeed).
type Verifier struct {
	mu     sync.Mutex
	grants map[string]store.Grant
}

// NewVerifier knows no token yet.
func NewVerifier() *Verifier { return &Verifier{grants: map[string]store.Grant{}} }

// Verify is the grant of token, or an error for one never added.
func (v *Verifier) Verify(_ context.Context, token string) (store.Grant, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	g, ok := v.grants[token]
	if !ok {
		return store.Grant{}, errors.New("unknown token")
	}
	return g, nil
}

// Add is a new token for g.
func (v *Verifier) Add(g store.Grant) string {
	v.mu.Lock()
	defer v.mu.Unlock()
	tok := store.RandomToken(16)
	v.grants[tok] = g
	return tok
}

// VerifyRequest is apihttp.TokenVerifier: the token of the Authorization
// header, looked up by Verify (the DPoP sender constraint is authz's,
// tested there and through the whole wiring in cmd/bankfeed).
func (v *Verifier) VerifyRequest(r *http.Request) (store.Grant, error) {
	return v.Verify(r.Context(), RequestToken(r))
}

// RequestToken is the token of r's Authorization header.
func RequestToken(r *http.Request) string {
	_, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	return strings.TrimSpace(token)
}

// Resp is a decoded response.
type Resp struct {
	Status int
	Header http.Header
	Raw    []byte
	Body   map[string]any
}

// Str is the string at path (Get), or "".
func (r Resp) Str(path string) string {
	v := r.Get(path)
	s, _ := v.(string)
	return s
}

// Get walks a dotted path ("approval.id", "items.0.id").
func (r Resp) Get(path string) any {
	var cur any = r.Body
	for _, part := range strings.Split(path, ".") {
		switch x := cur.(type) {
		case map[string]any:
			cur = x[part]
		case []any:
			var i int
			if _, err := fmt.Sscanf(part, "%d", &i); err != nil || i >= len(x) {
				return nil
			}
			cur = x[i]
		default:
			return nil
		}
	}
	return cur
}

// Items are a list answer's items.
func (r Resp) Items() []map[string]any {
	list, _ := r.Body["items"].([]any)
	out := make([]map[string]any, 0, len(list))
	for _, it := range list {
		m, _ := it.(map[string]any)
		out = append(out, m)
	}
	return out
}

// Client sends a test's requests to the server at Base with HTTP.
type Client struct {
	T    testing.TB
	HTTP *http.Client
	Base string
}

// Send sends a request to Base+path, with token as a bearer token unless
// empty; body may be nil, a string or []byte (sent raw) or a value
// (JSON-encoded); hdr are name, value pairs. An error status without
// problem+json fails the test.
func (cl Client) Send(token, method, path string, body any, hdr ...string) Resp {
	t := cl.T
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, cl.Base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := cl.HTTP.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := Resp{Status: res.StatusCode, Header: res.Header, Raw: raw}
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &out.Body)
	}
	if res.StatusCode >= 400 && res.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("%s %s: status %d with Content-Type %q, want application/problem+json", method, path, res.StatusCode, res.Header.Get("Content-Type"))
	}
	return out
}

// Call is Send for a request that must not fail the server: a 500 fails
// the test.
func (cl Client) Call(token, method, path string, body any, hdr ...string) Resp {
	cl.T.Helper()
	out := cl.Send(token, method, path, body, hdr...)
	if out.Status == http.StatusInternalServerError {
		cl.T.Errorf("%s %s: 500: %s", method, path, out.Raw)
	}
	return out
}

// Must is Call that fails the test unless the status is want.
func (cl Client) Must(want int, token, method, path string, body any, hdr ...string) Resp {
	cl.T.Helper()
	r := cl.Call(token, method, path, body, hdr...)
	if r.Status != want {
		cl.T.Fatalf("%s %s = %d, want %d: %s", method, path, r.Status, want, r.Raw)
	}
	return r
}

// ProblemIs checks r is the problem status/slug and, if field is set, that
// its errors name field.
func ProblemIs(t testing.TB, r Resp, status int, slug, field string) {
	t.Helper()
	if r.Status != status || r.Str("type") != apihttp.ProblemTypeBase+slug || r.Get("status") != float64(status) || r.Str("detail") == "" {
		t.Fatalf("= %d %s; want %d %s", r.Status, r.Raw, status, slug)
	}
	if field != "" && r.Str("errors.0.field") != field {
		t.Fatalf("errors = %v; want field %s", r.Get("errors"), field)
	}
}

// SeedGroup stores business group name with one legal entity, name-le.
func SeedGroup(t testing.TB, st store.Store, name string) (bg, le string) {
	t.Helper()
	ctx := t.Context()
	g, err := st.CreateBusinessGroup(ctx, store.BusinessGroup{ID: name, Name: name})
	if err != nil {
		t.Fatalf("seed business group: %v", err)
	}
	l, err := st.CreateLegalEntity(ctx, store.LegalEntity{ID: name + "-le", BusinessGroupID: g.ID, Name: name + " Inc."})
	if err != nil {
		t.Fatalf("seed legal entity: %v", err)
	}
	return g.ID, l.ID
}

// SeedAccount stores an open CAD chequing account of le numbered number.
func SeedAccount(t testing.TB, st store.Store, bg, le, number string) string {
	t.Helper()
	a, err := st.CreateAccount(t.Context(), store.Account{ID: store.NewID("acc"), BusinessGroupID: bg, LegalEntityID: le,
		Number: number, DisplayNumber: store.MaskAccountNumber(number), Type: store.AccountChecking, Currency: "CAD",
		Status: store.AccountOpen, OpenedOn: "2024-01-02"})
	if err != nil {
		t.Fatalf("seed account: %v", err)
	}
	return a.ID
}

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/dataapi"
	"github.com/bankfeed/bankfeed/internal/apihttp"
	"github.com/bankfeed/bankfeed/store"
)

// refuseFunc answers a request whose field (in "path", "query" or "body")
// holds a NUL byte or invalid UTF-8, in its endpoint's usual error shape.
type refuseFunc func(c echo.Context, field, in string) error

// textGuard refuses text no database column may hold — a NUL byte or
// invalid UTF-8 — in the path, the query, a form body or a JSON body
// (where "\u0000" decodes to a NUL inside valid UTF-8), before any handler
// runs (issue 11, finding 4). PostgreSQL would fail such a statement with
// SQLSTATE 22021 (a 500) and SQLite would store it; the store refuses it
// too (store.ErrInvalid), and this makes the answer each endpoint's usual
// error, naming the field: RFC 6749 invalid_request under /oauth2, the
// FDX problem under the data API, problem+json under /admin and /ops, the
// pages' bad-request page elsewhere.
func textGuard(pages refuseFunc) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			field, in, err := badText(c)
			if err != nil {
				return err
			}
			if in == "" {
				return next(c)
			}
			return refuserFor(c.Request().URL.Path, pages)(c, field, in)
		}
	}
}

// refuserFor picks the error shape by path prefix.
func refuserFor(path string, pages refuseFunc) refuseFunc {
	switch {
	case strings.HasPrefix(path, "/oauth2/"), path == "/userinfo", strings.HasPrefix(path, "/.well-known/"):
		return refuseOAuth
	case strings.HasPrefix(path, dataapi.BasePath+"/"), path == dataapi.BasePath:
		return dataapi.RefuseText
	case strings.HasPrefix(path, "/admin/"), strings.HasPrefix(path, "/ops/"):
		return apihttp.RefuseText
	case pages != nil:
		return pages
	}
	return func(c echo.Context, field, in string) error {
		return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("%s %s: must be UTF-8 text without NUL bytes", in, field))
	}
}

// refuseOAuth is RFC 6749's invalid_request (§5.2), not cached.
func refuseOAuth(c echo.Context, field, _ string) error {
	h := c.Response().Header()
	h.Set(echo.HeaderCacheControl, "no-store")
	h.Set("Pragma", "no-cache")
	return c.JSON(http.StatusBadRequest, map[string]string{
		"error":             "invalid_request",
		"error_description": "The request parameter " + field + " must be UTF-8 text without NUL bytes.",
	})
}

// fieldName is a name safe to echo back: a bad name's bad bytes replaced.
func fieldName(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// badText finds the first bad field of c's request (in "path", "header",
// "query" or "body"); in is "" if none. A
// body it reads is put back for the handler exactly as it came, read error
// included (e.g. the body limit's 413), so handlers see no difference.
func badText(c echo.Context) (field, in string, err error) {
	r := c.Request()
	for i, name := range c.ParamNames() {
		if vs := c.ParamValues(); i < len(vs) && !store.ValidText(vs[i]) {
			return name, "path", nil
		}
	}
	if !store.ValidText(r.URL.Path) {
		return "path", "path", nil
	}
	// Credentials are looked up too: a client ID (Basic) or a token.
	if !store.ValidText(r.Header.Get(echo.HeaderAuthorization)) {
		return "Authorization", "header", nil
	}
	if user, pass, ok := r.BasicAuth(); ok && (!store.ValidText(user) || !store.ValidText(pass)) {
		return "Authorization", "header", nil
	}
	if r.URL.RawQuery != "" {
		q, _ := url.ParseQuery(r.URL.RawQuery) // malformed pairs are the handler's to refuse
		if f, ok := badValues(q); ok {
			return f, "query", nil
		}
	}
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return "", "", nil
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
	isForm := mt == echo.MIMEApplicationForm
	isJSON := mt == echo.MIMEApplicationJSON || strings.HasSuffix(mt, "+json")
	if !isForm && !isJSON {
		return "", "", nil
	}
	body, rerr := io.ReadAll(r.Body)
	_ = r.Body.Close()
	var rest io.Reader = bytes.NewReader(body)
	if rerr != nil {
		rest = io.MultiReader(rest, errReader{rerr})
	}
	r.Body = io.NopCloser(rest)
	if rerr != nil {
		return "", "", nil // the handler meets the same error where it reads
	}
	if isForm {
		q, perr := url.ParseQuery(string(body))
		if f, ok := badValues(q); ok {
			return f, "body", nil
		}
		// The handler's ParseForm would read and parse the same bytes
		// again (2 % of an introspection's CPU, issue 15): it gets this
		// parse, for the methods whose body ParseForm reads. A malformed
		// body is left for ParseForm to refuse as it would have.
		if perr == nil && r.PostForm == nil && (r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch) {
			r.PostForm = q
		}
		return "", "", nil
	}
	if f, ok := badJSON(body); ok {
		return f, "body", nil
	}
	return "", "", nil
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// badValues returns the first (by name) parameter whose name or a value is
// not valid text.
func badValues(q url.Values) (string, bool) {
	names := make([]string, 0, len(q))
	for k := range q {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		if !store.ValidText(k) {
			return fieldName(k), true
		}
		for _, v := range q[k] {
			if !store.ValidText(v) {
				return k, true
			}
		}
	}
	return "", false
}

// badJSON reports a JSON body that is not UTF-8 or holds a \u0000 escape
// (a NUL once decoded), naming the field that holds it when the body
// decodes (e.g. "transactions[3].description").
func badJSON(body []byte) (string, bool) {
	if !utf8.Valid(body) {
		return "body", true
	}
	if !hasNULEscape(body) {
		return "", false
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return "", false // malformed JSON: the handler's usual 400
	}
	if f, ok := nulIn(v, ""); ok {
		return f, true
	}
	return "body", true
}

// hasNULEscape scans JSON text for \u0000 outside other escapes: in JSON a
// backslash only ever starts an escape, so skipping each escape whole is
// exact for well-formed input.
func hasNULEscape(b []byte) bool {
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' || i+1 >= len(b) {
			continue
		}
		if b[i+1] == 'u' && i+6 <= len(b) && string(b[i+2:i+6]) == "0000" {
			return true
		}
		i++ // the escaped character
	}
	return false
}

// nulIn finds the path of the first string (or key) in v holding a NUL.
func nulIn(v any, path string) (string, bool) {
	switch x := v.(type) {
	case string:
		return path, strings.IndexByte(x, 0) >= 0
	case []any:
		for i, e := range x {
			if f, ok := nulIn(e, path+"["+strconv.Itoa(i)+"]"); ok {
				return f, true
			}
		}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			if strings.IndexByte(k, 0) >= 0 {
				return fieldName(p), true
			}
			if f, ok := nulIn(x[k], p); ok {
				return f, true
			}
		}
	}
	return "", false
}

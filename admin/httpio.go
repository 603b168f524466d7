package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/store"
)

// decode reads a JSON body strictly (unknown fields, trailing data and a
// wrong media type are 400s) into v, at most limit bytes.
func decode(c echo.Context, limit int64, v any) error {
	r := c.Request()
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return problem(http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported Media Type",
				fmt.Sprintf("the body must be application/json, not %q", ct))
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return badRequest("could not read the body: %v", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return badRequest("a JSON body is required")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonProblem(err)
	}
	if dec.More() {
		return badRequest("the body holds more than one JSON value")
	}
	return nil
}

// decodeOptional is decode for bodies that may be empty.
func decodeOptional(c echo.Context, limit int64, v any) error {
	if c.Request().ContentLength == 0 {
		return nil
	}
	return decode(c, limit, v)
}

func jsonProblem(err error) error {
	var (
		syn  *json.SyntaxError
		typ  *json.UnmarshalTypeError
		rule *store.RuleError
	)
	switch {
	case errors.As(err, &rule):
		return rule
	case errors.As(err, &syn):
		return badRequest("malformed JSON at byte %d: %v", syn.Offset, syn)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		p := badRequest("%s: must be %s, not %s", field, typ.Type.String(), typ.Value)
		p.Errors = []FieldError{{Field: field, Message: fmt.Sprintf("must be %s, not %s", typ.Type.String(), typ.Value)}}
		return p
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("malformed JSON: the body ends too early")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		p := badRequest("unknown field %q", f)
		p.Errors = []FieldError{{Field: f, Message: "is not a known field"}}
		return p
	}
	return badRequest("malformed JSON: %v", err)
}

// page reads ?after= and ?limit= (1..1000, default 100).
func page(c echo.Context) (store.Page, error) {
	p := store.Page{After: c.QueryParam("after"), Limit: 100}
	if l := c.QueryParam("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			pr := badRequest("limit must be an integer from 1 to 1000, not %q", l)
			pr.Errors = []FieldError{{Field: "limit", Message: "must be an integer from 1 to 1000"}}
			return p, pr
		}
		p.Limit = n
	}
	return p, nil
}

// list is a page of results; Next is the cursor for ?after= (absent at the end).
type list[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next,omitempty"`
}

func newList[T any](items []T, next string) list[T] {
	if items == nil {
		items = []T{}
	}
	return list[T]{Items: items, Next: next}
}

// listOf answers 200 with a page of items in their JSON shape.
func listOf[T, J any](c echo.Context, items []T, next string, toJSON func(T) J) error {
	out := make([]J, 0, len(items))
	for _, it := range items {
		out = append(out, toJSON(it))
	}
	return c.JSON(http.StatusOK, newList(out, next))
}

// listIn answers a page of the caller's business group's records, to a
// caller allowed op; what names them in errors.
func listIn[T, J any](c echo.Context, op store.Operation, what string,
	list func(ctx context.Context, bg string, p store.Page) ([]T, string, error), toJSON func(T) J) error {
	cl := mustCaller(c)
	if err := allow(cl, op); err != nil {
		return err
	}
	p, err := page(c)
	if err != nil {
		return err
	}
	items, next, err := list(c.Request().Context(), cl.User.BusinessGroupID, p)
	if err != nil {
		return fmt.Errorf("admin: list %s: %w", what, err)
	}
	return listOf(c, items, next, toJSON)
}

// pathTarget checks cl may op, then gets the record of cl's business group
// named in the path.
func pathTarget[T any](c echo.Context, cl caller, op store.Operation, get func(ctx context.Context, bg, id string) (T, error)) (T, error) {
	return target(c.Request().Context(), cl, op, c.Param("id"), get)
}

// target checks cl may op, then gets record id of cl's business group.
func target[T any](ctx context.Context, cl caller, op store.Operation, id string, get func(ctx context.Context, bg, id string) (T, error)) (T, error) {
	if err := allow(cl, op); err != nil {
		var zero T
		return zero, err
	}
	return get(ctx, cl.User.BusinessGroupID, id)
}

// showIn answers the caller's business group's record named in the path,
// to a caller allowed op.
func showIn[T, J any](c echo.Context, op store.Operation, get func(ctx context.Context, bg, id string) (T, error), toJSON func(T) J) error {
	v, err := pathTarget(c, mustCaller(c), op, get)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toJSON(v))
}

func queryBool(c echo.Context, name string) (*bool, error) {
	v := c.QueryParam(name)
	if v == "" {
		return nil, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return nil, badRequest("%s must be true or false, not %q", name, v)
	}
	return &b, nil
}

func queryTime(c echo.Context, name string) (time.Time, error) {
	v := c.QueryParam(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, badRequest("%s must be an RFC 3339 time, not %q", name, v)
	}
	return t, nil
}

// all pages through a list function (for lookups inside one business group).
func all[T any](ctx context.Context, fn func(ctx context.Context, p store.Page) ([]T, string, error)) ([]T, error) {
	var out []T
	p := store.Page{Limit: 1000}
	for {
		items, next, err := fn(ctx, p)
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
		if next == "" || len(items) == 0 {
			return out, nil
		}
		p.After = next
	}
}

// filtered is a page of up to p.Limit items of fn's pages that keep
// accepts, with next present only when another kept item follows: a
// filter applied after the store's page must neither shorten pages nor
// announce a next page that holds nothing (issue 10 §6). idOf gives an
// item's cursor (fn's keyset is by it).
func filtered[T any](ctx context.Context, p store.Page, fn func(ctx context.Context, p store.Page) ([]T, string, error),
	keep func(T) (bool, error), idOf func(T) string) ([]T, string, error) {
	want := p.Limit
	out := make([]T, 0, want)
	q := store.Page{After: p.After, Limit: want}
	for {
		items, next, err := fn(ctx, q)
		if err != nil {
			return nil, "", err
		}
		for _, it := range items {
			ok, err := keep(it)
			if err != nil {
				return nil, "", err
			}
			if !ok {
				continue
			}
			if len(out) == want {
				return out, idOf(out[len(out)-1]), nil
			}
			out = append(out, it)
		}
		if next == "" || len(items) == 0 {
			return out, "", nil
		}
		q.After = next
	}
}

// pageOf is p's page of a whole list the store does not page: keyset by
// idOf (items after p.After in ID order, up to p.Limit), next present only
// when more follow, the same ?after=&limit= contract as the store's pages.
func pageOf[T any](items []T, p store.Page, idOf func(T) string) ([]T, string) {
	items = slices.Clone(items)
	slices.SortStableFunc(items, func(a, b T) int { return strings.Compare(idOf(a), idOf(b)) })
	if p.After != "" {
		i, _ := slices.BinarySearchFunc(items, p.After, func(t T, id string) int { return strings.Compare(idOf(t), id) })
		for i < len(items) && idOf(items[i]) <= p.After {
			i++
		}
		items = items[i:]
	}
	if len(items) > p.Limit {
		items = items[:p.Limit]
		return items, idOf(items[len(items)-1])
	}
	return items, ""
}

// pagedListOf answers the page p of a whole list in its JSON shape.
func pagedListOf[T, J any](c echo.Context, items []T, idOf func(T) string, toJSON func(T) J) error {
	p, err := page(c)
	if err != nil {
		return err
	}
	items, next := pageOf(items, p, idOf)
	return listOf(c, items, next, toJSON)
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

package apihttp

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/store"
)

// ReadPage reads ?after= and ?limit= (1..1000, default 100).
func ReadPage(c echo.Context) (store.Page, error) {
	p := store.Page{After: c.QueryParam("after"), Limit: 100}
	if l := c.QueryParam("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			pr := BadRequest("limit must be an integer from 1 to 1000, not %q", l)
			pr.Errors = []FieldError{{Field: "limit", Message: "must be an integer from 1 to 1000"}}
			return p, pr
		}
		p.Limit = n
	}
	return p, nil
}

// List is a page of results; Next is the cursor for ?after= (absent at the end).
type List[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next,omitempty"`
}

// NewList is a page of items, never null in JSON.
func NewList[T any](items []T, next string) List[T] {
	if items == nil {
		items = []T{}
	}
	return List[T]{Items: items, Next: next}
}

// ListOf answers 200 with a page of items in their JSON shape.
func ListOf[T, J any](c echo.Context, items []T, next string, toJSON func(T) J) error {
	out := make([]J, 0, len(items))
	for _, it := range items {
		out = append(out, toJSON(it))
	}
	return c.JSON(http.StatusOK, NewList(out, next))
}

// Paginate is p's page of a whole list the store does not page: keyset by
// idOf (items after p.After in ID order, up to p.Limit), next present only
// when more follow, the same ?after=&limit= contract as the store's pages.
func Paginate[T any](items []T, p store.Page, idOf func(T) string) ([]T, string) {
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

// PagedListOf answers the requested page of a whole list in its JSON shape.
func PagedListOf[T, J any](c echo.Context, items []T, idOf func(T) string, toJSON func(T) J) error {
	p, err := ReadPage(c)
	if err != nil {
		return err
	}
	items, next := Paginate(items, p, idOf)
	return ListOf(c, items, next, toJSON)
}

// QueryBool reads an optional true/false query parameter.
func QueryBool(c echo.Context, name string) (*bool, error) {
	v := c.QueryParam(name)
	if v == "" {
		return nil, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return nil, BadRequest("%s must be true or false, not %q", name, v)
	}
	return &b, nil
}

// QueryTime reads an optional RFC 3339 query parameter.
func QueryTime(c echo.Context, name string) (time.Time, error) {
	v := c.QueryParam(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, BadRequest("%s must be an RFC 3339 time, not %q", name, v)
	}
	return t, nil
}

// TimeOrNil is t in UTC, or nil (absent in JSON) when zero.
func TimeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

package admin

import (
	"context"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/internal/apihttp"
	"github.com/bankfeed/bankfeed/store"
)

// listIn answers a page of the caller's business group's records, to a
// caller allowed op; what names them in errors.
func listIn[T, J any](c echo.Context, op store.Operation, what string,
	list func(ctx context.Context, bg string, p store.Page) ([]T, string, error), toJSON func(T) J) error {
	cl := mustCaller(c)
	if err := allow(cl, op); err != nil {
		return err
	}
	p, err := apihttp.ReadPage(c)
	if err != nil {
		return err
	}
	items, next, err := list(c.Request().Context(), cl.User.BusinessGroupID, p)
	if err != nil {
		return fmt.Errorf("admin: list %s: %w", what, err)
	}
	return apihttp.ListOf(c, items, next, toJSON)
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

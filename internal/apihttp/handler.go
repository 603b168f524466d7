package apihttp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// Errors turns handlers' errors into problem responses for one API; Name
// ("admin", "ops") prefixes its log lines.
type Errors struct {
	Log  *slog.Logger
	Name string
	// Map, when set, turns an API's own error types into problems first
	// (the operator API's batch row errors).
	Map func(error) error
}

// H marks fn's answer not cacheable and turns its error into a problem.
func (x Errors) H(fn echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-store")
		err := fn(c)
		if err == nil {
			return nil
		}
		return x.Fail(c, err)
	}
}

// Problem is err as a problem, after Map; ok is false for an internal
// failure.
func (x Errors) Problem(err error) (*Problem, bool) {
	if x.Map != nil {
		err = x.Map(err)
	}
	return ToProblem(err)
}

// Fail answers err: its problem, or a logged 500 for an internal failure.
func (x Errors) Fail(c echo.Context, err error) error {
	p, ok := x.Problem(err)
	if ctx := c.Request().Context(); (!ok || p.Status >= 500) && errors.Is(ctx.Err(), context.Canceled) {
		// A client gone (net/http cancelled its request) is nobody's
		// failure: INFO, as the other packages log it; the access log
		// records it as 499 (issue 15).
		x.Log.InfoContext(ctx, x.Name+": request abandoned: client gone", "method", c.Request().Method,
			"path", c.Request().URL.Path, "err", err)
		if !ok {
			p = Internal()
		}
		return WriteProblem(c, p)
	}
	if !ok {
		x.Log.ErrorContext(c.Request().Context(), x.Name+": internal error", "method", c.Request().Method,
			"path", c.Request().URL.Path, "err", err)
		p = Internal()
	}
	if p.Status >= 500 && ok {
		x.Log.ErrorContext(c.Request().Context(), x.Name+": server error", "path", c.Request().URL.Path, "err", err)
	}
	return WriteProblem(c, p)
}

// CatchAll routes what no other route of g takes to h. The catch-alls
// answer our problem, not echo's JSON 404; "/*" does not match the bare
// prefix. RouteNotFound also takes the methods Any has no name for
// (WebDAV's LOCK, a made-up one).
func CatchAll(g *echo.Group, h echo.HandlerFunc) {
	for _, p := range []string{"", "/*"} {
		g.Any(p, h)
		g.RouteNotFound(p, h)
	}
}

// routeMethods are the methods the routes use, in the order Allow names them.
var routeMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// allowed is the methods whose route (not prefix's catch-all) matches path.
func allowed(e *echo.Echo, prefix, path string) []string {
	var out []string
	for _, m := range routeMethods {
		c := e.NewContext(nil, nil)
		e.Router().Find(m, path, c)
		switch c.Path() {
		case "", prefix, prefix + "/*":
		default:
			out = append(out, m)
		}
	}
	return out
}

// NoRoute answers what no route under prefix takes (its catch-all's
// handler): a 405 with Allow when another method's route on e matches the
// path (issue 10 §6), otherwise a 404.
func NoRoute(e *echo.Echo, prefix string) echo.HandlerFunc {
	return func(c echo.Context) error {
		if ms := allowed(e, prefix, c.Request().URL.Path); len(ms) > 0 {
			c.Response().Header().Set("Allow", strings.Join(ms, ", "))
			return NewProblem(http.StatusMethodNotAllowed, "method-not-allowed", "Method Not Allowed",
				fmt.Sprintf("%s is not allowed on %s; allowed: %s", c.Request().Method, c.Request().URL.Path, strings.Join(ms, ", ")))
		}
		return NewProblem(http.StatusNotFound, "not-found", "Not Found", fmt.Sprintf("no route %s %s", c.Request().Method, c.Request().URL.Path))
	}
}

package dataapi

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bankfeed/bankfeed/store"
)

const (
	defaultLimit = 100
	maxLimit     = 1000
	// earliestDate bounds startDate: older is a 703 (no history before it).
	earliestDate = store.Date("1970-01-01")
)

// query reads one request's query parameters, collecting every problem so
// that a single 400 names them all.
type query struct {
	values url.Values
	errs   paramErrors
}

// readQuery starts reading c's query; every parameter outside allowed is
// reported as unknown.
func readQuery(c echo.Context, allowed ...string) *query {
	v, _ := c.Get(queryKey).(url.Values)
	if v == nil {
		var err error
		if v, err = url.ParseQuery(c.Request().URL.RawQuery); err != nil {
			q := &query{values: url.Values{}}
			q.errs.add(codeInvalidInput, "query", "query", "the query string is malformed")
			return q
		}
	}
	q := &query{values: v}
	var unknown []string
	for name := range v {
		if !slices.Contains(allowed, name) {
			unknown = append(unknown, name)
		}
	}
	sort.Strings(unknown)
	for _, name := range unknown {
		q.errs.add(codeInvalidInput, clip(name), "query", "unknown parameter (allowed: %s)", strings.Join(allowed, ", "))
	}
	return q
}

// clip keeps echoed client input short.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// str returns the single value of name ("" if absent).
func (q *query) str(name string) string {
	vs := q.values[name]
	if len(vs) > 1 {
		q.errs.add(codeInvalidInput, name, "query", "must be given at most once")
		return ""
	}
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

func (q *query) has(name string) bool { return q.values.Has(name) }

// limit reads limit: an integer in [1, maxLimit], default defaultLimit.
func (q *query) limit() int {
	s := q.str("limit")
	if s == "" {
		if q.has("limit") {
			q.errs.add(codeInvalidInput, "limit", "query", "must be an integer between 1 and %d", maxLimit)
		}
		return defaultLimit
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxLimit {
		q.errs.add(codeInvalidInput, "limit", "query", "must be an integer between 1 and %d, not %q", maxLimit, clip(s))
		return defaultLimit
	}
	return n
}

// date reads a YYYY-MM-DD business date from name (or its legacy alias, the
// FDX startTime/endTime date strings); 702 when malformed.
func (q *query) date(name, alias string) store.Date {
	s, from := q.str(name), name
	if alias != "" && q.has(alias) {
		if q.has(name) {
			q.errs.add(codeInvalidInput, alias, "query", "give %s or %s, not both", name, alias)
			return ""
		}
		s, from = q.str(alias), alias
	}
	if s == "" {
		if q.has(from) {
			q.errs.add(codeInvalidDate, from, "query", "must be a date YYYY-MM-DD")
		}
		return ""
	}
	d, err := store.ParseDate(s)
	if err != nil || len(s) != len(time.DateOnly) {
		q.errs.add(codeInvalidDate, from, "query", "must be a date YYYY-MM-DD, not %q", clip(s))
		return ""
	}
	return d
}

// dateRange reads startDate/endDate and checks their order and bounds
// (703). An absent start is unbounded; an absent end is unbounded too.
func (q *query) dateRange(today store.Date) (from, to store.Date) {
	from = q.date("startDate", "startTime")
	to = q.date("endDate", "endTime")
	switch {
	case from != "" && to != "" && to.Before(from):
		q.errs.add(codeInvalidDateRange, "endDate", "query", "must not be before startDate")
	case from != "" && from.Before(earliestDate):
		q.errs.add(codeInvalidDateRange, "startDate", "query", "is older than the history this API keeps (from %s)", earliestDate)
	case from != "" && today.AddDays(366).Before(from):
		q.errs.add(codeInvalidDateRange, "startDate", "query", "is more than a year in the future")
	}
	return from, to
}

func (q *query) err() error { return q.errs.err() }

// RefuseText answers a request that carries a NUL byte or invalid UTF-8 in
// parameter name (in "query", "path" or "body"): the 400 invalid-parameters
// problem every bad parameter gets. The server's edge check calls it before
// routing reaches the API, so no such text reaches the store.
func RefuseText(c echo.Context, name, in string) error {
	if id := c.Request().Header.Get(headerInteractionID); id != "" {
		c.Response().Header().Set(headerInteractionID, id)
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	var p *Problem
	if !errors.As(invalidParam(codeInvalidInput, name, in, "must be UTF-8 text without NUL bytes"), &p) {
		return fmt.Errorf("dataapi: refuse text: no problem")
	}
	return writeProblem(c, p)
}

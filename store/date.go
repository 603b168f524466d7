package store

import (
	"fmt"
	"sync"
	"time"
	_ "time/tzdata" // business dates need America/Toronto even in a distroless image
)

// BankZone is the time zone that defines the bank's business dates.
const BankZone = "America/Toronto"

// Date is a calendar date (a business date or a value date) written
// YYYY-MM-DD. The zero value is the empty string; lexical order is date order.
type Date string

// ParseDate validates s as YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return "", Invalid("date", "%q is not a date (want YYYY-MM-DD)", s)
	}
	return Date(t.Format(time.DateOnly)), nil
}

// MustDate is ParseDate for constants in tests and demo data.
func MustDate(s string) Date {
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// DateOf is the calendar date of t in loc.
func DateOf(t time.Time, loc *time.Location) Date {
	return Date(t.In(loc).Format(time.DateOnly))
}

// BusinessDate is the bank's business date of t (America/Toronto).
func BusinessDate(t time.Time) Date { return DateOf(t, Toronto()) }

// Toronto returns the bank's location. It is loaded once: LoadLocation
// parses the zone file on every call, which showed up on hot paths.
var Toronto = sync.OnceValue(func() *time.Location {
	loc, err := time.LoadLocation(BankZone)
	if err != nil {
		panic(fmt.Sprintf("store: load %s: %v", BankZone, err)) // embedded tzdata: cannot happen
	}
	return loc
})

// Time is midnight at the start of d in the bank's zone.
func (d Date) Time() time.Time {
	t, err := time.ParseInLocation(time.DateOnly, string(d), Toronto())
	if err != nil {
		return time.Time{}
	}
	return t
}

// AddDays returns d shifted by n calendar days.
func (d Date) AddDays(n int) Date {
	t, err := time.Parse(time.DateOnly, string(d))
	if err != nil {
		return d
	}
	return Date(t.AddDate(0, 0, n).Format(time.DateOnly))
}

// Valid reports whether d is a well-formed date.
func (d Date) Valid() bool { _, err := ParseDate(string(d)); return err == nil }

func (d Date) String() string { return string(d) }

// Before reports whether d is strictly before o.
func (d Date) Before(o Date) bool { return d < o }

// MonthStart is the first day of d's month.
func (d Date) MonthStart() Date {
	if len(d) < 7 {
		return d
	}
	return Date(string(d[:7]) + "-01")
}

// MonthEnd is the last day of d's month.
func (d Date) MonthEnd() Date {
	t, err := time.Parse(time.DateOnly, string(d.MonthStart()))
	if err != nil {
		return d
	}
	return Date(t.AddDate(0, 1, -1).Format(time.DateOnly))
}

package demo

import (
	"time"

	"github.com/bankfeed/bankfeed/store"
)

// historyMonths is how many complete months precede the current one.
const historyMonths = 13

// calendar is the demo's window: business dates (Monday to Friday in
// America/Toronto) from the first day of the month 13 months before Now's
// month through Now's business date.
type calendar struct {
	loc   *time.Location // America/Toronto, loaded once (LoadLocation reads tzdata each call)
	now   time.Time
	today store.Date   // business date of now (may be a weekend day)
	start store.Date   // first calendar day of the window
	days  []store.Date // business dates in [start, today]
}

func newCalendar(now time.Time) calendar {
	today := store.BusinessDate(now)
	t, _ := time.Parse(time.DateOnly, string(today.MonthStart()))
	start := store.Date(t.AddDate(0, -historyMonths, 0).Format(time.DateOnly))
	c := calendar{loc: store.Toronto(), now: now, today: today, start: start}
	for d := start; d <= today; d = d.AddDays(1) {
		if isWeekday(d) {
			c.days = append(c.days, d)
		}
	}
	return c
}

func weekday(d store.Date) time.Weekday {
	t, _ := time.Parse(time.DateOnly, string(d))
	return t.Weekday()
}

func isWeekday(d store.Date) bool {
	w := weekday(d)
	return w != time.Saturday && w != time.Sunday
}

// at is the instant minutes after midnight of d in the bank's zone.
func (c calendar) at(d store.Date, minutes int) time.Time {
	t, _ := time.ParseInLocation(time.DateOnly, string(d), c.loc)
	return t.Add(time.Duration(minutes) * time.Minute).UTC()
}

// lastBusinessDayOfMonth reports whether d is the last weekday of its month.
func lastBusinessDayOfMonth(d store.Date) bool {
	for n := d.AddDays(1); n.MonthStart() == d.MonthStart(); n = n.AddDays(1) {
		if isWeekday(n) {
			return false
		}
	}
	return true
}

// firstBusinessDayOnOrAfter reports whether d is the first weekday on or
// after the given day of its month (monthly due dates that fall on a
// weekend move to the Monday).
func firstBusinessDayOnOrAfter(d store.Date, day int) bool {
	t, _ := time.Parse(time.DateOnly, string(d))
	if t.Day() < day {
		return false
	}
	due := time.Date(t.Year(), t.Month(), day, 0, 0, 0, 0, time.UTC)
	for !isWeekday(store.Date(due.Format(time.DateOnly))) {
		due = due.AddDate(0, 0, 1)
	}
	return due.Equal(t)
}

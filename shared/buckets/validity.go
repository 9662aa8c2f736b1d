package buckets

import (
	"time"

	"github.com/radpass/radpass/shared/database"
)

// Today is the calendar date of instant now in zone (nil: the process's
// local zone), as midnight UTC: the form a validity date is stored and
// compared in. A validity date is a date of the department's calendar, the
// one the patient reads on the letter, so "today" changes at midnight there,
// not at midnight UTC. Every rule that asks "which day is it" asks this.
func Today(now time.Time, zone *time.Location) time.Time {
	if zone == nil {
		zone = time.Local
	}
	y, m, d := now.In(zone).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// CeilingYears bounds every validity, also where a department sets no
// maximum: an access that never ends is a mistake, not a choice.
const CeilingYears = 5

// AddPeriod adds n units (day, week, month, year) to d.
func AddPeriod(d time.Time, n int, unit string) time.Time {
	switch unit {
	case "day":
		return d.AddDate(0, 0, n)
	case "week":
		return d.AddDate(0, 0, 7*n)
	case "year":
		return addMonths(d, 12*n)
	}
	return addMonths(d, n)
}

// addMonths clamps to the end of a shorter month (31 January + 1 month is
// 28 February, not 3 March as time.AddDate would normalise it).
func addMonths(d time.Time, n int) time.Time {
	first := time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, d.Location()).AddDate(0, n, 0)
	last := first.AddDate(0, 1, -1).Day()
	day := d.Day()
	if day > last {
		day = last
	}
	return time.Date(first.Year(), first.Month(), day, d.Hour(), d.Minute(), d.Second(), d.Nanosecond(), d.Location())
}

// DefaultValidity is today plus the department's default period (1 month
// unless configured), never past the maximum.
func DefaultValidity(today time.Time, dept *database.Department) time.Time {
	n, unit := 1, "month"
	if dept != nil && dept.DefaultValidityN > 0 {
		n, unit = dept.DefaultValidityN, dept.DefaultValidityUnit
	}
	d := AddPeriod(today, n, unit)
	if max := MaxValidity(today, dept); d.After(max) {
		d = max
	}
	return d
}

// MaxValidity is the latest allowed validity date: the department maximum
// when one is set, else the product ceiling.
func MaxValidity(today time.Time, dept *database.Department) time.Time {
	if dept == nil || dept.MaxValidityN == nil || dept.MaxValidityUnit == nil {
		return AddPeriod(today, CeilingYears, "year")
	}
	return AddPeriod(today, *dept.MaxValidityN, *dept.MaxValidityUnit)
}

// ValidDate reports whether d may be a validity date chosen today: after
// today and not past the maximum.
func ValidDate(today, d time.Time, dept *database.Department) bool {
	return d.After(today) && !d.After(MaxValidity(today, dept))
}

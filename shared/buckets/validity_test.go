package buckets

import (
	"testing"
	"time"
)

func TestAddPeriod(t *testing.T) {
	day := func(s string) time.Time {
		d, err := time.Parse("2006-01-02", s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	cases := []struct {
		from string
		n    int
		unit string
		want string
	}{
		{"2026-06-15", 1, "month", "2026-07-15"},
		{"2026-01-31", 1, "month", "2026-02-28"},
		{"2028-01-31", 1, "month", "2028-02-29"},
		{"2026-03-31", 1, "month", "2026-04-30"},
		{"2026-12-15", 1, "month", "2027-01-15"},
		{"2028-02-29", 1, "year", "2029-02-28"},
		{"2026-06-15", 2, "week", "2026-06-29"},
		{"2026-06-15", 10, "day", "2026-06-25"},
		{"2026-06-15", 18, "month", "2027-12-15"},
	}
	for _, c := range cases {
		if got := AddPeriod(day(c.from), c.n, c.unit).Format("2006-01-02"); got != c.want {
			t.Errorf("%s + %d %s = %s, want %s", c.from, c.n, c.unit, got, c.want)
		}
	}
}

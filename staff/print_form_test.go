package staff

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
		if got := addPeriod(day(c.from), c.n, c.unit).Format("2006-01-02"); got != c.want {
			t.Errorf("%s + %d %s = %s, want %s", c.from, c.n, c.unit, got, c.want)
		}
	}
}

func TestMobileE164(t *testing.T) {
	cases := []struct {
		in, region, want string
		ok               bool
	}{
		{"0470 12 34 89", "BE", "+32470123489", true},
		{"+32 470 12 34 89", "BE", "+32470123489", true},
		{"06 12345678", "NL", "+31612345678", true},
		{"0151 23456789", "DE", "+4915123456789", true},
		{"06 12 34 56 78", "FR", "+33612345678", true},
		{"02 555 12 34", "BE", "", false},   // Brussels landline
		{"+31 6 12345678", "BE", "", false}, // a Dutch mobile under the Belgian prefix
		{"0470", "BE", "", false},           // too short
		{"not a number", "BE", "", false},
	}
	for _, c := range cases {
		got, ok := mobileE164(c.in, c.region)
		if ok != c.ok || got != c.want {
			t.Errorf("mobileE164(%q, %s) = %q, %v; want %q, %v", c.in, c.region, got, ok, c.want, c.ok)
		}
	}
}

func TestValidEmail(t *testing.T) {
	for in, want := range map[string]bool{
		"zoe@example.org": true, "zoë.łukasik@exämple.de": true, "a.b+c@sub.example.co.uk": true,
		"": false, "zoe": false, "zoe@localhost": false, "Zoë <zoe@example.org>": false, "zoe@@example.org": false,
		"zoe @example.org": false, "zoe@example.org.": false, "@example.org": false,
	} {
		if got := validEmail(in); got != want {
			t.Errorf("validEmail(%q) = %v, want %v", in, got, want)
		}
	}
}

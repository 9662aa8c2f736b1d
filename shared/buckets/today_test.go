package buckets_test

import (
	"errors"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/database"
)

// Around midnight in a zone far from UTC, the print form, extend, expiry and
// the patient's sign-in all take "today" to be the date on the department's
// calendar: a validity date of today is refused by the form and by extend,
// and a bucket valid until today still opens, one valid until yesterday does
// not.
func TestTodayAroundMidnight(t *testing.T) {
	t.Parallel()
	cases := []struct {
		zone  string
		local string // wall-clock time in zone
		today string // the date every rule must agree on
	}{
		{"Europe/Brussels", "2026-06-15 23:30", "2026-06-15"}, // 21:30 UTC, same date
		{"Europe/Brussels", "2026-06-16 00:30", "2026-06-16"}, // 22:30 UTC the day before
		{"Pacific/Auckland", "2026-06-15 23:30", "2026-06-15"},
		{"Pacific/Auckland", "2026-06-16 00:30", "2026-06-16"}, // 12:30 UTC the day before
		{"Europe/Brussels", "2026-12-31 23:30", "2026-12-31"},
		{"Pacific/Auckland", "2027-01-01 00:30", "2027-01-01"},
	}
	for _, c := range cases {
		t.Run(c.zone+" "+c.local, func(t *testing.T) {
			t.Parallel()
			zone, err := time.LoadLocation(c.zone)
			if err != nil {
				t.Fatal(err)
			}
			now, err := time.ParseInLocation("2006-01-02 15:04", c.local, zone)
			if err != nil {
				t.Fatal(err)
			}
			today, _ := time.Parse(time.DateOnly, c.today)
			yesterday, tomorrow := today.AddDate(0, 0, -1), today.AddDate(0, 0, 1)

			if got := buckets.Today(now, zone); !got.Equal(today) {
				t.Fatalf("Today = %s, want %s", got.Format(time.DateOnly), c.today)
			}
			f := newFixture(t)
			f.s.Zone = zone
			f.clk.Set(now)
			if got := f.s.Today(); !got.Equal(today) {
				t.Fatalf("Service.Today = %s, want %s", got.Format(time.DateOnly), c.today)
			}

			// The print form: today is too early, tomorrow is the first day.
			form := buckets.PrintForm{Verification: database.VerifyDOB, Scope: database.ScopeImages, Reason: "second opinion",
				Language: "en", Agreed: true}
			for date, ok := range map[time.Time]bool{today: false, tomorrow: true} {
				form.ValidUntil = date.Format(time.DateOnly)
				if _, errs := form.Check(f.s.Today(), f.north, buckets.PrintChoices{}); (errs == nil) != ok {
					t.Errorf("print form with validity %s: errors %v, want accepted %v", form.ValidUntil, errs, ok)
				}
			}

			// Expiry and sign-in: valid until today opens, until yesterday is expired.
			r := f.request(database.VerifyDOB)
			r.ValidUntil = today
			open := f.printReq(r, nil, nil)
			r = f.request(database.VerifyDOB)
			r.ValidUntil = yesterday
			expired := f.printReq(r, nil, nil)
			if f.bucket(open.b.ID).Expired(f.s.Today()) || !f.bucket(expired.b.ID).Expired(f.s.Today()) {
				t.Errorf("expiry disagrees with today %s", c.today)
			}
			if a := f.signIn(open.n, birth); a.Outcome != buckets.Open {
				t.Errorf("sign-in to a bucket valid until today: %v, want open", a.Outcome)
			}
			if a := f.signIn(expired.n, birth); a.Outcome != buckets.Expired {
				t.Errorf("sign-in to a bucket valid until yesterday: %v, want expired", a.Outcome)
			}

			// Extend: not to today, to tomorrow yes.
			if _, err := f.s.Extend(f.ctx, f.admin, expired.b.ID, "192.0.2.1", "longer treatment", today); !errors.Is(err, buckets.ErrValidity) {
				t.Errorf("extend to today: %v, want ErrValidity", err)
			}
			if _, err := f.s.Extend(f.ctx, f.admin, expired.b.ID, "192.0.2.1", "longer treatment", tomorrow); err != nil {
				t.Errorf("extend to tomorrow: %v", err)
			}
		})
	}
}

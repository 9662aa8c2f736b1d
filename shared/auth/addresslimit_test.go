package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/auth"
	"github.com/radpass/radpass/shared/testkit/testdb"
)

// IPv4 addresses count whole, IPv6 by /64, an IPv4-mapped IPv6 address as
// the IPv4 address it is.
func TestAddressKey(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.7":             "203.0.113.7",
		"::ffff:203.0.113.7":      "203.0.113.7",
		"2001:db8:1:2::a":         "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff:1:2:3": "2001:db8:1:2::/64",
		"2001:DB8:1:2::a":         "2001:db8:1:2::/64",
		"fe80::1%eth0":            "fe80::/64",
		"2001:db8:1:3:0:0:0:1":    "2001:db8:1:3::/64",
		"not an address":          "not an address",
	} {
		if got := auth.AddressKey(in); got != want {
			t.Errorf("AddressKey(%q) = %q, want %q", in, got, want)
		}
	}
}

// Past the server-wide ceiling of refused tries in its window, every try of
// every address is admitted with the delay; once the window is over, none.
// The state is in PostgreSQL: a second limiter (another instance) sees it.
func TestAddressLimitGlobalCeiling(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.New(t)
	mk := func() *auth.AddressLimit {
		l := auth.DefaultPatientLimit(db)
		l.GlobalCeiling = 3
		return l
	}
	one, other := mk(), mk()
	for i := 0; i < 3; i++ {
		if err := one.Refused(ctx, db); err != nil {
			t.Fatal(err)
		}
	}
	a, err := other.Reserve(ctx, "198.51.100.1")
	if err != nil || !a.Admitted || a.Delay != 0 {
		t.Fatalf("at the ceiling: %+v %v, want admitted at once", a, err)
	}
	if err := one.Refused(ctx, db); err != nil {
		t.Fatal(err)
	}
	for _, ip := range []string{"198.51.100.2", "2001:db8::1"} {
		a, err := other.Reserve(ctx, ip)
		if err != nil || !a.Admitted || a.Delay != other.GlobalDelay {
			t.Fatalf("%s past the ceiling: %+v %v, want admitted after %v", ip, a, err, other.GlobalDelay)
		}
	}
	// The minute is over: counting starts again.
	if _, err := db.NewRaw(`UPDATE throttle SET window_start = now() - interval '61 seconds' WHERE key = ?`, one.GlobalKey).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if a, err := other.Reserve(ctx, "198.51.100.3"); err != nil || a.Delay != 0 {
		t.Fatalf("after the window: %+v %v", a, err)
	}
	if err := one.Refused(ctx, db); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.NewRaw(`SELECT failures FROM throttle WHERE key = ?`, one.GlobalKey).Scan(ctx, &n); err != nil || n != 1 {
		t.Fatalf("global count after the window %d (%v), want 1", n, err)
	}
}

// Past the free tries one try per step goes through; a try that was not
// refused gives its count back, and a slow-down it started goes with it.
func TestAddressLimitSlowdownAndRefund(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.New(t)
	l := &auth.AddressLimit{DB: db, Prefix: "p:", Free: 2, Window: time.Hour, Step: time.Hour}
	for i := 0; i < 2; i++ {
		if a, err := l.Reserve(ctx, "192.0.2.1"); err != nil || !a.Admitted {
			t.Fatalf("free try %d: %+v %v", i+1, a, err)
		}
	}
	a, err := l.Reserve(ctx, "192.0.2.1")
	if err != nil || a.Admitted || a.Wait < time.Hour-time.Minute || a.Wait > time.Hour {
		t.Fatalf("past the free tries: %+v %v, want a wait of one step", a, err)
	}
	// The second try turned out right: its count goes, and so does the slow-down it started.
	if err := l.Refund(ctx, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	if a, err := l.Reserve(ctx, "192.0.2.1"); err != nil || !a.Admitted {
		t.Fatalf("after a refund: %+v %v", a, err)
	}
	// The next slot is due: one more try goes through, and the one after waits again.
	if _, err := db.NewRaw(`UPDATE throttle SET locked_until = now() WHERE key = 'p:192.0.2.1'`).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if a, err := l.Reserve(ctx, "192.0.2.1"); err != nil || !a.Admitted {
		t.Fatalf("slot due: %+v %v", a, err)
	}
	if a, err := l.Reserve(ctx, "192.0.2.1"); err != nil || a.Admitted {
		t.Fatalf("right after the slot: %+v %v", a, err)
	}
}

package auth

import (
	"context"
	"math"
	"net/netip"
	"time"

	"github.com/uptrace/bun"
)

// AddressLimit slows the refused tries of one client address down without
// ever closing the address: hundreds of patients share a hospital's guest
// Wi-Fi or a carrier's NAT, so one person typing badly must not lock the
// others out (design: security requirement 16). The bucket's own counter
// bounds the guesses on one bucket; this limit only has to stop a sweep.
//
// Every try is reserved and counted up front in one statement: up to Free
// tries in Window go through at once, past that one try per Step (the others
// are told how long to wait). A try that was not refused gives its count back
// (Refund). Across the whole server, more than GlobalCeiling refused tries in
// GlobalWindow make every try wait GlobalDelay first. All state is in the
// throttle table, so every server instance sees it.
type AddressLimit struct {
	DB     bun.IDB
	Prefix string // key prefix of an address, e.g. "patient-ip:"
	Free   int
	Window time.Duration
	Step   time.Duration

	GlobalKey     string // key of the server-wide counter of refused tries
	GlobalCeiling int    // 0: no server-wide ceiling
	GlobalWindow  time.Duration
	GlobalDelay   time.Duration
}

// DefaultPatientLimit: 30 tries per address in 15 minutes go through at once,
// then one every 5 seconds; more than 600 refused tries a minute on the whole
// server (ten a second, far above any hospital's patients mistyping) make
// every sign-in wait 2 seconds.
func DefaultPatientLimit(db bun.IDB) *AddressLimit {
	return &AddressLimit{DB: db, Prefix: "patient-ip:", Free: 30, Window: 15 * time.Minute, Step: 5 * time.Second,
		GlobalKey: "patient-all", GlobalCeiling: 600, GlobalWindow: time.Minute, GlobalDelay: 2 * time.Second}
}

// Admission is the answer to one reservation.
type Admission struct {
	Admitted bool
	// Wait: refused, the address's next try goes through after this long
	// (whole seconds, at least one: the Retry-After).
	Wait time.Duration
	// Delay: admitted, but the server-wide ceiling is passed: wait this long
	// before checking.
	Delay time.Duration
}

// AddressKey is the part of an address that is counted: an IPv4 address
// whole, an IPv6 address by its /64 (one subscriber line or one network gets
// a /64; counting single IPv6 addresses would give a sweeper 2^64 fresh keys).
func AddressKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	return netip.PrefixFrom(a, 64).Masked().String()
}

func (l *AddressLimit) key(ip string) string { return l.Prefix + AddressKey(ip) }

// Reserve counts one try of ip and says whether it may be checked now. The
// admission and the count are one statement (an upsert that only updates when
// the address's next slot is due), so N parallel tries never get more than
// the free ones through.
func (l *AddressLimit) Reserve(ctx context.Context, ip string) (Admission, error) {
	var row struct {
		Admitted bool     `bun:"admitted"`
		WaitS    *float64 `bun:"wait_s"`
		Global   int      `bun:"global"`
	}
	// The CTE's outer SELECT sees the row as it was before the upsert: for a
	// refused try that is the slot it waits for.
	err := l.DB.NewRaw(`
		WITH up AS (
			INSERT INTO throttle AS t (key, failures, window_start, locked_until)
			VALUES (?0, 1, now(), CASE WHEN 1 >= ?2 THEN now() + ?3::interval END)
			ON CONFLICT (key) DO UPDATE SET
				failures = CASE WHEN t.window_start < now() - ?1::interval THEN 1 ELSE t.failures + 1 END,
				window_start = CASE WHEN t.window_start < now() - ?1::interval THEN now() ELSE t.window_start END,
				locked_until = CASE
					WHEN t.window_start < now() - ?1::interval THEN CASE WHEN 1 >= ?2 THEN now() + ?3::interval END
					WHEN t.failures + 1 >= ?2 THEN now() + ?3::interval
					ELSE NULL END
			WHERE t.window_start < now() - ?1::interval OR t.locked_until IS NULL OR t.locked_until <= now()
			RETURNING 1
		)
		SELECT EXISTS (SELECT 1 FROM up) AS admitted,
			(SELECT extract(epoch FROM locked_until - now())::float8 FROM throttle WHERE key = ?0) AS wait_s,
			coalesce((SELECT failures FROM throttle WHERE key = ?4 AND window_start >= now() - ?5::interval), 0) AS global`,
		l.key(ip), l.Window.String(), l.Free, l.Step.String(), l.GlobalKey, l.GlobalWindow.String()).Scan(ctx, &row)
	if err != nil {
		return Admission{}, err
	}
	if !row.Admitted {
		// The snapshot may predate the slot another try just took: wait at
		// least one second, at most one step.
		w := l.Step
		if row.WaitS != nil && *row.WaitS > 0 {
			w = min(time.Duration(math.Ceil(*row.WaitS))*time.Second, w)
		}
		return Admission{Wait: max(w.Round(time.Second), time.Second)}, nil
	}
	a := Admission{Admitted: true}
	if l.GlobalCeiling > 0 && row.Global > l.GlobalCeiling {
		a.Delay = l.GlobalDelay
	}
	return a, nil
}

// Refund gives back the count of an admitted try that was not refused (the
// number and birth date matched). A slow-down this very try started (the
// count is below Free without it) goes too.
func (l *AddressLimit) Refund(ctx context.Context, ip string) error {
	_, err := l.RefundQuery(l.DB, ip).Exec(ctx)
	return err
}

// RefundQuery is Refund's statement, to send with other writes.
func (l *AddressLimit) RefundQuery(db bun.IDB, ip string) *bun.RawQuery {
	return db.NewRaw(`UPDATE throttle SET failures = greatest(failures - 1, 0),
		locked_until = CASE WHEN failures - 1 < ?0 THEN NULL ELSE locked_until END
		WHERE key = ?1`, l.Free, l.key(ip))
}

// Refused counts one refused try towards the server-wide ceiling (one
// upsert; the window starts again once it is over).
func (l *AddressLimit) Refused(ctx context.Context, db bun.IDB) error {
	q := l.RefusedQuery(db)
	if q == nil {
		return nil
	}
	_, err := q.Exec(ctx)
	return err
}

// RefusedQuery is Refused's statement, to send with other writes; nil
// without a ceiling.
func (l *AddressLimit) RefusedQuery(db bun.IDB) *bun.RawQuery {
	if l.GlobalCeiling <= 0 {
		return nil
	}
	return db.NewRaw(`
		INSERT INTO throttle AS t (key, failures, window_start) VALUES (?0, 1, now())
		ON CONFLICT (key) DO UPDATE SET
			failures = CASE WHEN t.window_start < now() - ?1::interval THEN 1 ELSE t.failures + 1 END,
			window_start = CASE WHEN t.window_start < now() - ?1::interval THEN now() ELSE t.window_start END`,
		l.GlobalKey, l.GlobalWindow.String())
}

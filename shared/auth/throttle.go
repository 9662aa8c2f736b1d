package auth

import (
	"context"
	"time"

	"github.com/uptrace/bun"
)

// Throttle counts failures per key (e.g. "staff:alice|10.0.0.7") in
// PostgreSQL, so every server instance sees the same counts. After Max
// failures within Window the key is locked for Lock.
//
// Slowdown is the other rule, for keys that must never lock (an account name
// alone: anyone could lock a radiographer out): past Ceiling failures in
// Window every try waits Step per failure over the ceiling, at most MaxDelay.
type Throttle struct {
	DB     bun.IDB
	Max    int
	Window time.Duration
	Lock   time.Duration

	Ceiling  int
	Step     time.Duration
	MaxDelay time.Duration
}

// DefaultStaffThrottle: 5 failures in 15 minutes for one account from one
// address lock that pair for 15 minutes; across all addresses, more than 20
// failures in 15 minutes slow every further try of the account down (1 s per
// failure over 20, at most 10 s) instead of locking it.
func DefaultStaffThrottle(db bun.IDB) *Throttle {
	return &Throttle{DB: db, Max: 5, Window: 15 * time.Minute, Lock: 15 * time.Minute,
		Ceiling: 20, Step: time.Second, MaxDelay: 10 * time.Second}
}

// StaffPairKey is the throttle key of one account name tried from one address.
func StaffPairKey(username, ip string) string { return "staff:" + username + "|" + ip }

// StaffAccountKey is the key of the account-wide ceiling (Slowdown).
func StaffAccountKey(username string) string { return "staff-acct:" + username }

// StaffIPKey is the key of the per-address limit.
func StaffIPKey(ip string) string { return "staff-ip:" + ip }

// DefaultStaffIPThrottle: 50 failed sign-ins from one address in 15 minutes
// lock that address for 15 minutes. Only failures count, and the bar is
// high, because a hospital's staff often share one address behind NAT; it
// stops one machine from guessing across many account names.
func DefaultStaffIPThrottle(db bun.IDB) *Throttle {
	return &Throttle{DB: db, Max: 50, Window: 15 * time.Minute, Lock: 15 * time.Minute}
}

// Locked reports whether key is locked now.
func (t *Throttle) Locked(ctx context.Context, key string) (bool, error) {
	var locked bool
	err := t.DB.NewRaw(`SELECT EXISTS (SELECT 1 FROM throttle WHERE key = ? AND locked_until > now())`, key).Scan(ctx, &locked)
	return locked, err
}

// Fail counts one failure atomically (a single upsert, safe under concurrency)
// and reports whether key is now locked.
func (t *Throttle) Fail(ctx context.Context, key string) (bool, error) {
	var locked bool
	err := t.DB.NewRaw(`
		INSERT INTO throttle AS t (key, failures, window_start) VALUES (?0, 1, now())
		ON CONFLICT (key) DO UPDATE SET
			failures = CASE WHEN t.window_start < now() - ?1::interval THEN 1 ELSE t.failures + 1 END,
			window_start = CASE WHEN t.window_start < now() - ?1::interval THEN now() ELSE t.window_start END,
			locked_until = CASE
				WHEN t.window_start >= now() - ?1::interval AND t.failures + 1 >= ?2 THEN now() + ?3::interval
				ELSE t.locked_until END
		RETURNING coalesce(locked_until > now(), false)`,
		key, t.Window.String(), t.Max, t.Lock.String()).Scan(ctx, &locked)
	return locked, err
}

// Attempt reserves one try for key before the password is checked. The try
// counts as a failure up front (a success calls Reset), in one atomic upsert,
// so N parallel requests get at most Max password comparisons per window
// instead of all passing a Locked check together. allowed says whether this
// try may compare; locked whether the key is locked after it (the Max-th try
// is still allowed, and locks the key unless it succeeds). Tries while locked
// are counted too but never extend the lock.
func (t *Throttle) Attempt(ctx context.Context, key string) (allowed, locked bool, err error) {
	var row struct {
		Failures int  `bun:"failures"`
		Locked   bool `bun:"locked"`
	}
	// held: a lock is in force; fresh: the previous lock ran out or the
	// window is over, so counting starts again.
	err = t.DB.NewRaw(`
		INSERT INTO throttle AS t (key, failures, window_start, locked_until)
		VALUES (?0, 1, now(), CASE WHEN 1 >= ?2 THEN now() + ?3::interval END)
		ON CONFLICT (key) DO UPDATE SET
			failures = CASE
				WHEN coalesce(t.locked_until > now(), false) THEN t.failures + 1
				WHEN t.locked_until IS NOT NULL OR t.window_start < now() - ?1::interval THEN 1
				ELSE t.failures + 1 END,
			window_start = CASE
				WHEN coalesce(t.locked_until > now(), false) THEN t.window_start
				WHEN t.locked_until IS NOT NULL OR t.window_start < now() - ?1::interval THEN now()
				ELSE t.window_start END,
			locked_until = CASE
				WHEN coalesce(t.locked_until > now(), false) THEN t.locked_until
				WHEN t.locked_until IS NOT NULL OR t.window_start < now() - ?1::interval THEN
					CASE WHEN 1 >= ?2 THEN now() + ?3::interval END
				WHEN t.failures + 1 >= ?2 THEN now() + ?3::interval
				ELSE NULL END
		RETURNING failures, coalesce(locked_until > now(), false) AS locked`,
		key, t.Window.String(), t.Max, t.Lock.String()).Scan(ctx, &row)
	if err != nil {
		return false, false, err
	}
	return row.Failures <= t.Max, row.Locked, nil
}

// Slowdown counts one try of key up front, in one atomic upsert, and returns
// how long the try must wait before the password is checked: 0 up to Ceiling
// tries in Window, then Step per try over the ceiling, at most MaxDelay. It
// never locks. A success gives its try back with Refund.
func (t *Throttle) Slowdown(ctx context.Context, key string) (time.Duration, error) {
	if t.Ceiling <= 0 {
		return 0, nil
	}
	var failures int
	err := t.DB.NewRaw(`
		INSERT INTO throttle AS t (key, failures, window_start) VALUES (?0, 1, now())
		ON CONFLICT (key) DO UPDATE SET
			failures = CASE WHEN t.window_start < now() - ?1::interval THEN 1 ELSE t.failures + 1 END,
			window_start = CASE WHEN t.window_start < now() - ?1::interval THEN now() ELSE t.window_start END
		RETURNING failures`, key, t.Window.String()).Scan(ctx, &failures)
	if err != nil {
		return 0, err
	}
	return t.DelayFor(failures), nil
}

// DelayFor is Slowdown's wait for the n-th try in a window.
func (t *Throttle) DelayFor(n int) time.Duration {
	if t.Ceiling <= 0 || n <= t.Ceiling {
		return 0
	}
	d := time.Duration(n-t.Ceiling) * t.Step
	if t.MaxDelay > 0 && d > t.MaxDelay {
		d = t.MaxDelay
	}
	return d
}

// Refund gives back one try reserved by Attempt or Slowdown that turned out
// not to be a failure (a success, or a try the server was too busy to check).
// A lock that this very try set (the count is below Max without it) goes
// too: 50 colleagues signing in at once behind one address must not lock it.
func (t *Throttle) Refund(ctx context.Context, key string) error {
	_, err := t.DB.NewRaw(`UPDATE throttle SET failures = greatest(failures - 1, 0),
		locked_until = CASE WHEN ?0 > 0 AND failures - 1 < ?0 THEN NULL ELSE locked_until END
		WHERE key = ?1`, t.Max, key).Exec(ctx)
	return err
}

// Purge deletes counters whose window and lock are over (housekeeping: every
// name ever tried leaves a row, so random names would grow the table forever).
func (t *Throttle) Purge(ctx context.Context) (int64, error) {
	res, err := t.DB.NewRaw(`DELETE FROM throttle WHERE window_start < now() - ?::interval
		AND (locked_until IS NULL OR locked_until < now())`, t.Window.String()).Exec(ctx)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// Reset clears the count after a success.
func (t *Throttle) Reset(ctx context.Context, key string) error {
	_, err := t.DB.NewRaw(`DELETE FROM throttle WHERE key = ?`, key).Exec(ctx)
	return err
}

package auth

import (
	"context"
	"time"

	"github.com/uptrace/bun"
)

// Throttle counts failures per key (e.g. "staff:alice") in PostgreSQL, so every
// server instance sees the same counts. After Max failures within Window the
// key is locked for Lock.
type Throttle struct {
	DB     bun.IDB
	Max    int
	Window time.Duration
	Lock   time.Duration
}

// DefaultStaffThrottle: 5 failures in 15 minutes lock the account name for 15 minutes.
func DefaultStaffThrottle(db bun.IDB) *Throttle {
	return &Throttle{DB: db, Max: 5, Window: 15 * time.Minute, Lock: 15 * time.Minute}
}

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

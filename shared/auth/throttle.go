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

// Reset clears the count after a success.
func (t *Throttle) Reset(ctx context.Context, key string) error {
	_, err := t.DB.NewRaw(`DELETE FROM throttle WHERE key = ?`, key).Exec(ctx)
	return err
}

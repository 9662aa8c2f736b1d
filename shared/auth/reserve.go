package auth

import (
	"context"
	"database/sql"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/uptrace/bun"
)

// ErrLocked: the key's failures reached Max within Window; it is locked.
var ErrLocked = errors.New("auth: too many failed attempts")

// pendingTTL bounds how long a reservation that was never released (a
// process that died during a password check) can hold a slot: longer than
// any sign-in waits (HashWait plus the slowdown), and refreshed by every new
// reservation of the key.
const pendingTTL = 2 * time.Minute

// PendingKey is the row that counts the checks of key in flight.
func PendingKey(key string) string { return "pending:" + key }

// Reserve takes one of key's Max slots before a password is checked. A slot
// is either a failure counted in the window or a check in flight, so N
// parallel guesses never run more than Max password checks per window (the
// check and the reservation are one step under a per-key advisory lock),
// while checks that turn out right give their slot back (Release) and never
// count. When every slot is held by checks in flight, Reserve waits (at most
// wait, 0: as long as ctx lives) for one to be released: a burst of correct
// sign-ins behind one address queues instead of being refused. It returns
// ErrLocked when the failures alone reached Max (a lock in force), ErrBusy
// when no slot came free in time.
func (t *Throttle) Reserve(ctx context.Context, key string, wait time.Duration) error {
	var deadline <-chan time.Time
	if wait > 0 {
		tm := time.NewTimer(wait)
		defer tm.Stop()
		deadline = tm.C
	}
	pause := 20 * time.Millisecond
	for {
		ok, err := t.tryReserve(ctx, key)
		if err != nil || ok {
			return err
		}
		// Other server instances release too, so this polls (with jitter,
		// so waiters do not all come back at once).
		tm := time.NewTimer(pause/2 + rand.N(pause))
		select {
		case <-tm.C:
		case <-deadline:
			tm.Stop()
			return ErrBusy
		case <-ctx.Done():
			tm.Stop()
			return ctx.Err()
		}
		pause = min(pause*2, 250*time.Millisecond)
	}
}

func (t *Throttle) tryReserve(ctx context.Context, key string) (ok bool, err error) {
	err = t.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewRaw(`SELECT pg_advisory_xact_lock(hashtextextended(?, 7))`, key).Exec(ctx); err != nil {
			return err
		}
		var st struct {
			Locked   bool `bun:"locked"`
			Failures int  `bun:"failures"`
			Pending  int  `bun:"pending"`
		}
		// Failures count within the window, and not once a lock ran out
		// (counting starts again); checks in flight within pendingTTL.
		if err := tx.NewRaw(`SELECT
			coalesce((SELECT locked_until > now() FROM throttle WHERE key = ?0), false) AS locked,
			coalesce((SELECT failures FROM throttle WHERE key = ?0 AND window_start >= now() - ?2::interval
				AND (locked_until IS NULL OR locked_until > now())), 0) AS failures,
			coalesce((SELECT failures FROM throttle WHERE key = ?1 AND window_start >= now() - ?3::interval), 0) AS pending`,
			key, PendingKey(key), t.Window.String(), pendingTTL.String()).Scan(ctx, &st); err != nil {
			return err
		}
		if st.Locked {
			return ErrLocked
		}
		if st.Failures+st.Pending >= t.Max {
			return nil
		}
		ok = true
		_, err := tx.NewRaw(`INSERT INTO throttle AS t (key, failures, window_start) VALUES (?0, 1, now())
			ON CONFLICT (key) DO UPDATE SET window_start = now(),
				failures = CASE WHEN t.window_start < now() - ?1::interval THEN 1 ELSE t.failures + 1 END`,
			PendingKey(key), pendingTTL.String()).Exec(ctx)
		return err
	})
	return ok, err
}

// Release gives back a slot taken by Reserve once the password was checked
// (or never was). Only a failed check counts, as a failure in the window;
// locked reports whether key is locked now (the Max-th failure locks it).
// It does not depend on the request living on: a cancelled request still
// releases its slot.
func (t *Throttle) Release(ctx context.Context, key string, failed bool) (locked bool, err error) {
	ctx = context.WithoutCancel(ctx)
	err = t.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewRaw(`SELECT pg_advisory_xact_lock(hashtextextended(?, 7))`, key).Exec(ctx); err != nil {
			return err
		}
		if _, err := tx.NewRaw(`UPDATE throttle SET failures = greatest(failures - 1, 0) WHERE key = ?`, PendingKey(key)).Exec(ctx); err != nil {
			return err
		}
		if !failed {
			return nil
		}
		// fresh: the window is over or the previous lock ran out, so
		// counting starts again; a lock in force is never extended.
		err := tx.NewRaw(`
			INSERT INTO throttle AS t (key, failures, window_start, locked_until)
			VALUES (?0, 1, now(), CASE WHEN 1 >= ?2 THEN now() + ?3::interval END)
			ON CONFLICT (key) DO UPDATE SET
				failures = CASE WHEN coalesce(t.locked_until > now(), false) THEN t.failures + 1
					WHEN t.locked_until IS NOT NULL OR t.window_start < now() - ?1::interval THEN 1
					ELSE t.failures + 1 END,
				window_start = CASE WHEN coalesce(t.locked_until > now(), false) THEN t.window_start
					WHEN t.locked_until IS NOT NULL OR t.window_start < now() - ?1::interval THEN now()
					ELSE t.window_start END,
				locked_until = CASE WHEN coalesce(t.locked_until > now(), false) THEN t.locked_until
					WHEN t.locked_until IS NOT NULL OR t.window_start < now() - ?1::interval THEN
						CASE WHEN 1 >= ?2 THEN now() + ?3::interval END
					WHEN t.failures + 1 >= ?2 THEN now() + ?3::interval
					ELSE NULL END
			RETURNING coalesce(locked_until > now(), false)`,
			key, t.Window.String(), t.Max, t.Lock.String()).Scan(ctx, &locked)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		return err
	})
	return locked, err
}

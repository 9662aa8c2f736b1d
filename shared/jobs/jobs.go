// Package jobs is a job queue in PostgreSQL that several RadPass instances
// work on at once: a worker claims one due job with FOR UPDATE SKIP LOCKED
// inside a transaction, runs its handler in that transaction and marks it
// done there, so a job runs to completion in exactly one worker and what its
// handler writes commits with the mark. A job's key makes enqueueing
// idempotent: one event is one job whoever reports it.
package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/database"
)

// Job is one claimed job.
type Job struct {
	ID       int64           `bun:"id"`
	Kind     string          `bun:"kind"`
	Key      string          `bun:"key"`
	Payload  json.RawMessage `bun:"payload,type:jsonb"`
	Attempts int             `bun:"attempts"`
}

// Decode reads the job's payload into v.
func (j *Job) Decode(v any) error { return json.Unmarshal(j.Payload, v) }

// Handler runs job j at time now inside tx (the transaction that holds the
// job's lock). An error undoes its writes and the job is tried again later.
type Handler func(ctx context.Context, tx bun.Tx, j *Job, now time.Time) error

// Enqueue adds a job of kind, unless one with key exists (then nothing
// changes), due at runAt; db may be the caller's transaction.
func Enqueue(ctx context.Context, db bun.IDB, kind, key string, payload any, runAt time.Time) error {
	_, err := EnqueueQuery(db, kind, key, payload, runAt).Exec(ctx)
	return err
}

// EnqueueQuery is Enqueue's statement, for a caller that batches it.
func EnqueueQuery(db bun.IDB, kind, key string, payload any, runAt time.Time) *bun.RawQuery {
	p, err := json.Marshal(payload)
	if err != nil {
		p = []byte("{}")
	}
	return db.NewRaw(`INSERT INTO jobs (kind, key, payload, run_at) VALUES (?, ?, ?::jsonb, ?) ON CONFLICT (key) DO NOTHING`,
		kind, key, string(p), runAt.UTC())
}

// MaxAttempts is how often a failing job is tried before it is given up
// (kept, with its last error, for the operator).
const MaxAttempts = 8

// Backoff is the wait before try n+1 (n >= 1): 1, 2, 4 ... minutes, at most an hour.
func Backoff(n int) time.Duration {
	d := time.Minute << min(n-1, 6)
	return min(d, time.Hour)
}

// Queue runs due jobs with its handlers.
type Queue struct {
	DB       *bun.DB
	Handlers map[string]Handler
	Now      func() time.Time // nil: time.Now
	Log      *slog.Logger     // nil: slog.Default()
}

func (q *Queue) now() time.Time {
	if q.Now != nil {
		return q.Now().UTC()
	}
	return time.Now().UTC()
}

func (q *Queue) log() *slog.Logger {
	if q.Log != nil {
		return q.Log
	}
	return slog.Default()
}

// RunOnce claims one due job and runs it; it reports whether there was one.
// Jobs locked by another worker are skipped, never waited for.
func (q *Queue) RunOnce(ctx context.Context) (bool, error) {
	now := q.now()
	found := false
	err := database.InTx(ctx, q.DB, func(ctx context.Context, tx bun.Tx) error {
		j := new(Job)
		err := tx.NewRaw(`SELECT id, kind, key, payload, attempts FROM jobs
			WHERE done_at IS NULL AND run_at <= ? ORDER BY run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED`, now).Scan(ctx, j)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		found = true
		if _, err := tx.ExecContext(ctx, "SAVEPOINT job"); err != nil {
			return err
		}
		herr := fmt.Errorf("jobs: no handler for kind %q", j.Kind)
		if h := q.Handlers[j.Kind]; h != nil {
			herr = h(ctx, tx, j, now)
		}
		if herr == nil {
			_, err = tx.NewRaw(`UPDATE jobs SET done_at = ?, attempts = attempts + 1 WHERE id = ?`, now, j.ID).Exec(ctx)
			return err
		}
		if _, err := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT job"); err != nil {
			return err
		}
		n := j.Attempts + 1
		var done *time.Time
		if n >= MaxAttempts {
			done = &now
		}
		q.log().WarnContext(ctx, "job failed", "job_id", j.ID, "kind", j.Kind, "attempt", n, "given_up", done != nil, "error", herr.Error())
		_, err = tx.NewRaw(`UPDATE jobs SET attempts = ?, run_at = ?, done_at = ?, last_error = ? WHERE id = ?`,
			n, now.Add(Backoff(n)), done, truncate(herr.Error(), 500), j.ID).Exec(ctx)
		return err
	})
	return found, err
}

// Drain runs due jobs until none is left (or ctx ends); it returns how many ran.
func (q *Queue) Drain(ctx context.Context) (int, error) {
	n := 0
	for ctx.Err() == nil {
		ok, err := q.RunOnce(ctx)
		if err != nil || !ok {
			return n, err
		}
		n++
	}
	return n, ctx.Err()
}

// KeepDone is how long finished jobs stay (their keys keep an event from
// being queued twice meanwhile; the notices themselves are deduplicated
// for good by their own table).
const KeepDone = 30 * 24 * time.Hour

// Purge deletes jobs finished more than KeepDone ago.
func (q *Queue) Purge(ctx context.Context) (int64, error) {
	res, err := q.DB.NewRaw(`DELETE FROM jobs WHERE done_at < ?`, q.now().Add(-KeepDone)).Exec(ctx)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// Run drains the queue every `every` until ctx ends, and purges old jobs
// once an hour. Errors are logged; the next round tries again.
func (q *Queue) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	lastPurge := time.Time{}
	for {
		if _, err := q.Drain(ctx); err != nil && ctx.Err() == nil {
			q.log().WarnContext(ctx, "job queue round failed", "error", err.Error())
		}
		if time.Since(lastPurge) > time.Hour {
			if _, err := q.Purge(ctx); err != nil && ctx.Err() == nil {
				q.log().WarnContext(ctx, "job purge failed", "error", err.Error())
			}
			lastPurge = time.Now()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

package jobs_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/jobs"
	"github.com/radpass/radpass/shared/testkit/testdb"
)

// A failing handler's writes are undone with it, the job comes back after
// its backoff and is given up after MaxAttempts; a job is not due before
// its time; an enqueue under a taken key changes nothing.
func TestRetryUndoAndGiveUp(t *testing.T) {
	db := testdb.New(t)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `CREATE TABLE marks (n int)`); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	var runs atomic.Int32
	q := &jobs.Queue{DB: db, Now: func() time.Time { return now }, Handlers: map[string]jobs.Handler{
		"fail": func(ctx context.Context, tx bun.Tx, j *jobs.Job, _ time.Time) error {
			runs.Add(1)
			if _, err := tx.ExecContext(ctx, `INSERT INTO marks VALUES (1)`); err != nil {
				return err
			}
			return errors.New("provider down")
		},
	}}
	if err := jobs.Enqueue(ctx, db, "fail", "k", map[string]int{"a": 1}, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := jobs.Enqueue(ctx, db, "fail", "k", nil, now); err != nil { // same key: nothing changes
		t.Fatal(err)
	}
	if ran, err := q.RunOnce(ctx); ran || err != nil {
		t.Fatalf("a job ran before its time (%v)", err)
	}
	for i := 1; i <= jobs.MaxAttempts; i++ {
		now = now.Add(time.Hour + time.Minute)
		if ran, err := q.RunOnce(ctx); !ran || err != nil {
			t.Fatalf("try %d did not run (%v)", i, err)
		}
		var attempts int
		var runAt time.Time
		if err := db.NewRaw(`SELECT attempts, run_at FROM jobs WHERE key = 'k'`).Scan(ctx, &attempts, &runAt); err != nil {
			t.Fatal(err)
		}
		if attempts != i || (i < jobs.MaxAttempts && !runAt.Equal(now.Add(jobs.Backoff(i)))) {
			t.Fatalf("after try %d: attempts %d, run_at %v", i, attempts, runAt)
		}
	}
	now = now.Add(24 * time.Hour)
	if ran, _ := q.RunOnce(ctx); ran {
		t.Fatal("a job given up ran again")
	}
	if n := testdb.Count(t, db, "marks"); n != 0 {
		t.Fatalf("failed runs left %d writes", n)
	}
	if runs.Load() != jobs.MaxAttempts {
		t.Fatalf("%d runs", runs.Load())
	}
}

// Workers racing over many due jobs run each exactly once.
func TestWorkersRunEachJobOnce(t *testing.T) {
	db := testdb.New(t)
	ctx := context.Background()
	var mu sync.Mutex
	seen := map[string]int{}
	h := func(ctx context.Context, tx bun.Tx, j *jobs.Job, _ time.Time) error {
		time.Sleep(time.Millisecond) // hold the lock a moment: the others must skip it
		mu.Lock()
		seen[j.Key]++
		mu.Unlock()
		return nil
	}
	for i := range 40 {
		if err := jobs.Enqueue(ctx, db, "x", "job-"+string(rune('A'+i)), nil, time.Now().Add(-time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q := &jobs.Queue{DB: db, Handlers: map[string]jobs.Handler{"x": h}}
			if _, err := q.Drain(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if len(seen) != 40 {
		t.Fatalf("%d jobs ran, want 40", len(seen))
	}
	for k, n := range seen {
		if n != 1 {
			t.Fatalf("%s ran %d times", k, n)
		}
	}
}

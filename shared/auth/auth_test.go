package auth_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/auth"
	"github.com/radpass/radpass/shared/testkit/testdb"
)

func TestPasswordHashNoRace(t *testing.T) {
	t.Parallel()
	h, err := auth.HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$") || strings.Contains(h, "correct horse") {
		t.Fatalf("hash %q", h)
	}
	h2, _ := auth.HashPassword("correct horse battery")
	if h == h2 {
		t.Fatal("two hashes of one password are equal: no salt")
	}
	tests := []struct {
		pw, hash string
		want     bool
	}{
		{"correct horse battery", h, true},
		{"correct horse battery", h2, true},
		{"Correct horse battery", h, false},
		{"correct horse battery ", h, false},
		{"", h, false},
		{"correct horse battery", "not a hash", false},
		{"correct horse battery", "", false},
	}
	for _, tt := range tests {
		if got := auth.CheckPassword(tt.pw, tt.hash); got != tt.want {
			t.Errorf("CheckPassword(%q, %.20q) = %v", tt.pw, tt.hash, got)
		}
	}
	auth.CheckNoUser("anything") // must not panic; it only burns time
}

func failures(t *testing.T, th *auth.Throttle, key string) (n int, locked bool) {
	t.Helper()
	err := th.DB.NewRaw(`SELECT failures, coalesce(locked_until > now(), false) FROM throttle WHERE key = ?`, key).
		Scan(context.Background(), &n, &locked)
	if err != nil {
		t.Fatal(err)
	}
	return n, locked
}

func TestThrottleAttempt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	th := auth.DefaultStaffThrottle(testdb.New(t))
	for i := 1; i <= 5; i++ {
		allowed, locked, err := th.Attempt(ctx, "k")
		if err != nil {
			t.Fatal(err)
		}
		if !allowed || locked != (i == 5) {
			t.Fatalf("try %d: allowed %v locked %v", i, allowed, locked)
		}
	}
	if allowed, locked, _ := th.Attempt(ctx, "k"); allowed || !locked {
		t.Fatalf("sixth try: allowed %v locked %v", allowed, locked)
	}
	if l, _ := th.Locked(ctx, "k"); !l {
		t.Fatal("Locked says no")
	}
	// Other keys are untouched.
	if allowed, _, _ := th.Attempt(ctx, "other"); !allowed {
		t.Fatal("another key is throttled")
	}
	// The lock runs out: counting starts again from one.
	if _, err := th.DB.NewRaw(`UPDATE throttle SET locked_until = now() - interval '1 second' WHERE key = 'k'`).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if allowed, locked, _ := th.Attempt(ctx, "k"); !allowed || locked {
		t.Fatalf("after the lock: allowed %v locked %v", allowed, locked)
	}
	if n, _ := failures(t, th, "k"); n != 1 {
		t.Fatalf("count after the lock ran out: %d", n)
	}
	// A window older than 15 minutes starts again too.
	th.Attempt(ctx, "k")
	th.Attempt(ctx, "k")
	if _, err := th.DB.NewRaw(`UPDATE throttle SET window_start = now() - interval '16 minutes' WHERE key = 'k'`).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	th.Attempt(ctx, "k")
	if n, locked := failures(t, th, "k"); n != 1 || locked {
		t.Fatalf("after the window: %d failures, locked %v", n, locked)
	}
	// A success resets.
	if err := th.Reset(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if l, _ := th.Locked(ctx, "k"); l {
		t.Fatal("locked after reset")
	}
}

// 50 parallel tries on a fresh key: exactly Max may compare, all are counted.
func TestThrottleAttemptIsAtomic(t *testing.T) {
	t.Parallel()
	th := auth.DefaultStaffThrottle(testdb.New(t))
	const n = 50
	var allowed int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, _, err := th.Attempt(context.Background(), "staff:x")
			if err != nil {
				t.Error(err)
				return
			}
			if ok {
				mu.Lock()
				allowed++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if allowed != th.Max {
		t.Fatalf("%d tries allowed, want exactly %d", allowed, th.Max)
	}
	if got, locked := failures(t, th, "staff:x"); got != n || !locked {
		t.Fatalf("counted %d (locked %v), want %d", got, locked, n)
	}
}

// Fail (the count-after-the-fact API) is atomic as well.
func TestThrottleFailIsAtomic(t *testing.T) {
	t.Parallel()
	th := &auth.Throttle{DB: testdb.New(t), Max: 5, Window: time.Minute, Lock: time.Minute}
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := th.Fail(context.Background(), "f"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got, locked := failures(t, th, "f"); got != 20 || !locked {
		t.Fatalf("Fail counted %d (locked %v), want 20 and locked", got, locked)
	}
}

func TestThrottlePurge(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	th := auth.DefaultStaffThrottle(testdb.New(t))
	_, err := th.DB.ExecContext(ctx, `INSERT INTO throttle (key, failures, window_start, locked_until) VALUES
		('old', 2, now() - interval '1 hour', NULL),
		('old-lock-over', 5, now() - interval '1 hour', now() - interval '1 minute'),
		('old-but-locked', 5, now() - interval '20 minutes', now() + interval '1 minute'),
		('recent', 1, now(), NULL)`)
	if err != nil {
		t.Fatal(err)
	}
	n, err := th.Purge(ctx)
	if err != nil || n != 2 {
		t.Fatalf("purged %d (%v), want 2", n, err)
	}
	var left []string
	if err := th.DB.NewRaw(`SELECT key FROM throttle ORDER BY key`).Scan(ctx, &left); err != nil {
		t.Fatal(err)
	}
	if strings.Join(left, ",") != "old-but-locked,recent" {
		t.Fatalf("left %v", left)
	}
}

// Slowdown never locks: it counts every try and, past the ceiling, asks for
// a growing wait that stops at MaxDelay; Refund gives a try back.
func TestThrottleSlowdown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	th := auth.DefaultStaffThrottle(testdb.New(t))
	th.Ceiling, th.Step, th.MaxDelay = 3, time.Second, 2*time.Second
	want := []time.Duration{0, 0, 0, time.Second, 2 * time.Second, 2 * time.Second}
	for i, w := range want {
		d, err := th.Slowdown(ctx, "acct")
		if err != nil {
			t.Fatal(err)
		}
		if d != w {
			t.Fatalf("try %d: delay %v, want %v", i+1, d, w)
		}
	}
	if n, locked := failures(t, th, "acct"); n != len(want) || locked {
		t.Fatalf("%d tries counted (locked %v), want %d and never locked", n, locked, len(want))
	}
	if err := th.Refund(ctx, "acct"); err != nil {
		t.Fatal(err)
	}
	if n, _ := failures(t, th, "acct"); n != len(want)-1 {
		t.Fatalf("after a refund %d tries, want %d", n, len(want)-1)
	}
	// A window later the count starts again.
	if _, err := th.DB.NewRaw(`UPDATE throttle SET window_start = now() - interval '16 minutes' WHERE key = 'acct'`).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if d, err := th.Slowdown(ctx, "acct"); err != nil || d != 0 {
		t.Fatalf("new window: delay %v err %v", d, err)
	}
	if d := (&auth.Throttle{}).DelayFor(1000); d != 0 {
		t.Fatalf("no ceiling configured: delay %v", d)
	}
}

// A refunded try that had set the lock lifts it: the tries that remain are
// below the limit. A lock earned by Max real failures stays.
func TestThrottleRefundLiftsItsOwnLock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	th := auth.DefaultStaffThrottle(testdb.New(t))
	th.Max = 3
	for i := 0; i < 3; i++ {
		if _, _, err := th.Attempt(ctx, "ip"); err != nil {
			t.Fatal(err)
		}
	}
	if _, locked := failures(t, th, "ip"); !locked {
		t.Fatal("not locked after Max tries")
	}
	if err := th.Refund(ctx, "ip"); err != nil { // the third try succeeded
		t.Fatal(err)
	}
	if n, locked := failures(t, th, "ip"); n != 2 || locked {
		t.Fatalf("after a refund: %d tries, locked %v; want 2, unlocked", n, locked)
	}
	for i := 0; i < 2; i++ { // two more real failures: 4 tries, locked
		if _, _, err := th.Attempt(ctx, "ip"); err != nil {
			t.Fatal(err)
		}
	}
	if err := th.Refund(ctx, "ip"); err != nil { // one success among them
		t.Fatal(err)
	}
	if n, locked := failures(t, th, "ip"); n != 3 || !locked {
		t.Fatalf("3 real failures: %d tries, locked %v; want 3, locked", n, locked)
	}
}

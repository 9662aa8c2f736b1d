package auth_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/auth"
	"github.com/radpass/radpass/shared/testkit/testdb"
)

// Slots are failures or checks in flight: a full set of checks in flight
// makes the next one wait (busy when the wait runs out), a right password
// gives its slot back, and only Max failures lock.
func TestReserveRelease(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	th := &auth.Throttle{DB: testdb.New(t), Max: 3, Window: time.Minute, Lock: time.Minute}
	const key = "k"
	for i := 0; i < 3; i++ {
		if err := th.Reserve(ctx, key, time.Millisecond); err != nil {
			t.Fatalf("reserve %d: %v", i+1, err)
		}
	}
	if err := th.Reserve(ctx, key, 50*time.Millisecond); !errors.Is(err, auth.ErrBusy) {
		t.Fatalf("a fourth check while three are in flight: %v, want ErrBusy", err)
	}
	// A right password gives its slot back; the waiting check gets it.
	got := make(chan error, 1)
	go func() { got <- th.Reserve(ctx, key, time.Minute) }()
	if locked, err := th.Release(ctx, key, false); err != nil || locked {
		t.Fatalf("release a success: %v %v", locked, err)
	}
	if err := <-got; err != nil {
		t.Fatalf("the waiting check: %v", err)
	}
	// Three failures lock the key; the third says so.
	for i := 0; i < 3; i++ {
		locked, err := th.Release(ctx, key, true)
		if err != nil || locked != (i == 2) {
			t.Fatalf("failure %d: locked %v, %v", i+1, locked, err)
		}
	}
	if err := th.Reserve(ctx, key, time.Second); !errors.Is(err, auth.ErrLocked) {
		t.Fatalf("after three failures: %v, want ErrLocked", err)
	}
}

// Many parallel checks of one key: never more than Max in flight at once,
// and all of them get through when they all succeed.
func TestReserveBoundsChecksInFlight(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	th := &auth.Throttle{DB: testdb.New(t), Max: 4, Window: time.Minute, Lock: time.Minute}
	var inFlight, peak atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := th.Reserve(ctx, "k", time.Minute); err != nil {
				errs <- err
				return
			}
			n := inFlight.Add(1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			time.Sleep(time.Millisecond) // a password check
			inFlight.Add(-1)
			if _, err := th.Release(ctx, "k", false); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if p := peak.Load(); p > 4 {
		t.Fatalf("%d checks in flight at once, want at most 4", p)
	}
}

// Package auth holds the sign-in machinery both sides share: staff
// password hashes (argon2id, a bounded number at once), the failure
// throttles per account and address, and the patients' per-address limit.
package auth

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alexedwards/argon2id"
)

// Params are argon2id settings sized for a 2-core server: ~50 ms a hash.
var Params = &argon2id.Params{Memory: 64 * 1024, Iterations: 2, Parallelism: 2, SaltLength: 16, KeyLength: 32}

// MinPasswordLength for staff passwords.
const MinPasswordLength = 10

// HashMemoryBudget is what argon2id may hold at once, all hashes together.
// Every hash takes Params.Memory (64 MiB) until it is done, so without a
// bound N parallel sign-ins cost N × 64 MiB.
const HashMemoryBudget = 256 << 20

// HashWait is how long a sign-in waits, all together, for its slots under
// the sign-in limits and for a free hash slot before it gives up with ErrBusy
// (the page answers 503 and the user retries): long enough for a shift
// change behind one address (100 sign-ins take about 3 s of hashing). A variable for
// tests under -race, where a hash takes ten times as long: set it before any
// request runs, never while serving.
var HashWait = 15 * time.Second

// ErrBusy: every hash slot stayed taken for HashWait.
var ErrBusy = errors.New("auth: too many password checks at once")

var (
	slotsOnce sync.Once
	slots     chan struct{}
	inFlight  atomic.Int64
	peak      atomic.Int64
	hashes    atomic.Int64
)

// MaxHashes is how many argon2id hashes run at once: the memory budget
// divided by the memory of one hash, and no more than the CPUs (more would
// only make each one slower while holding its memory longer).
func MaxHashes() int {
	perHash := int(Params.Memory) << 10
	n := min(HashMemoryBudget/perHash, runtime.GOMAXPROCS(0))
	return max(n, 1)
}

func sem() chan struct{} {
	slotsOnce.Do(func() { slots = make(chan struct{}, MaxHashes()) })
	return slots
}

// withSlot runs fn holding a hash slot; it waits at most wait (0: as long as
// ctx lives) for one.
func withSlot(ctx context.Context, wait time.Duration, fn func()) error {
	s := sem()
	select {
	case s <- struct{}{}:
	default:
		var timeout <-chan time.Time
		if wait > 0 {
			t := time.NewTimer(wait)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case s <- struct{}{}:
		case <-timeout:
			return ErrBusy
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	defer func() { <-s }()
	n := inFlight.Add(1)
	for {
		p := peak.Load()
		if n <= p || peak.CompareAndSwap(p, n) {
			break
		}
	}
	hashes.Add(1)
	defer inFlight.Add(-1)
	fn()
	return nil
}

// HashStats reports how many hashes ran since start and the most that ran
// at the same time (for tests and the stress benchmark).
func HashStats() (total, peakConcurrent int64) { return hashes.Load(), peak.Load() }

// HashPassword returns an encoded argon2id hash (waiting for a hash slot as
// long as it takes).
func HashPassword(pw string) (string, error) {
	var h string
	var err error
	_ = withSlot(context.Background(), 0, func() { h, err = argon2id.CreateHash(pw, Params) })
	return h, err
}

// CheckPassword compares pw to an encoded hash in constant time, waiting for
// a hash slot as long as it takes (CLI and tests; requests use Verify).
func CheckPassword(pw, hash string) bool {
	ok, _ := Verify(context.Background(), pw, hash, 0)
	return ok
}

// Verify compares pw to an encoded hash, waiting at most wait for a hash slot
// (0: no limit); ErrBusy when none came free.
func Verify(ctx context.Context, pw, hash string, wait time.Duration) (bool, error) {
	var ok bool
	err := withSlot(ctx, wait, func() {
		var cerr error
		ok, cerr = argon2id.ComparePasswordAndHash(pw, hash)
		ok = ok && cerr == nil
	})
	return ok, err
}

// dummyHash is compared against when the account does not exist, so an unknown
// username costs the same time as a wrong password. It is made on first use,
// not at start-up: one argon2id hash takes 64 MB, which an idle server (and
// every CLI command) should not carry.
var (
	dummyOnce sync.Once
	dummyHash string
)

// CheckNoUser burns the time of a password check for a missing account.
func CheckNoUser(pw string) { _ = VerifyNoUser(context.Background(), pw, 0) }

// VerifyNoUser is CheckNoUser with a bounded wait for a hash slot.
func VerifyNoUser(ctx context.Context, pw string, wait time.Duration) error {
	dummyOnce.Do(func() { dummyHash, _ = HashPassword("radpass-timing-equaliser") })
	_, err := Verify(ctx, pw, dummyHash, wait)
	return err
}

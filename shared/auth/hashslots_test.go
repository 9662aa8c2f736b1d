package auth

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/alexedwards/argon2id"
)

// However many password checks arrive together, no more than MaxHashes run
// at once (each holds 64 MiB), and the rest wait for a slot. The slots are
// filled with 100 ms holds rather than argon2id hashes: twelve production
// hashes under -race cost a minute of CPU, and a hold makes the overlap
// certain, so a missing bound shows as a peak of up to twelve. (TestPassword
// checks real hashes with the production parameters, through these slots.)
func TestHashesAreBounded(t *testing.T) {
	before, _ := HashStats()
	const n = 12
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := withSlot(context.Background(), 0, func() { time.Sleep(100 * time.Millisecond) }); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	total, peakN := HashStats()
	if total-before != n {
		t.Fatalf("%d slot holds counted, want %d", total-before, n)
	}
	if peakN > int64(MaxHashes()) || peakN < 1 {
		t.Fatalf("%d hashes ran at once, want 1 to %d", peakN, MaxHashes())
	}
	if MaxHashes()*int(Params.Memory)<<10 > HashMemoryBudget {
		t.Fatalf("%d slots of %d KiB exceed the budget", MaxHashes(), Params.Memory)
	}
}

// A check that finds every slot taken for its whole wait gives up with
// ErrBusy instead of queueing without end; it runs once a slot is free.
func TestVerifyBusy(t *testing.T) {
	// A light hash: what is tested is the wait for a slot, not the hash.
	h, err := argon2id.CreateHash("correct horse battery", &argon2id.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32})
	if err != nil {
		t.Fatal(err)
	}
	CheckNoUser("warm-up") // the dummy hash is made on first use
	s := sem()
	for i := 0; i < cap(s); i++ {
		s <- struct{}{}
	}
	_, err = Verify(context.Background(), "correct horse battery", h, 20*time.Millisecond)
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("all slots taken: err %v, want ErrBusy", err)
	}
	if err := VerifyNoUser(context.Background(), "x", 20*time.Millisecond); !errors.Is(err, ErrBusy) {
		t.Fatalf("unknown user with all slots taken: err %v, want ErrBusy", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Verify(ctx, "correct horse battery", h, 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled wait: err %v", err)
	}
	for i := 0; i < cap(s); i++ {
		<-s
	}
	ok, err := Verify(context.Background(), "correct horse battery", h, time.Second)
	if err != nil || !ok {
		t.Fatalf("free slot: ok %v err %v", ok, err)
	}
}

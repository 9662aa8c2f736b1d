package buckets_test

import (
	"sync"
	"testing"

	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/printing"
)

// Two server instances (two Services, each with its own in-process guard and
// its own letter printer) on one database get the same form token at once:
// one bucket and one letter. The second instance waits for the first's
// bucket (the advisory lock in PostgreSQL) and renders nothing; with the
// guard in the process only, both rendered a letter.
func TestCreateSameFormTokenOnTwoInstances(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := f.request(database.VerifyEmail)
	r.FormToken = "tok-two-instances-0123"
	sel, err := f.s.Select(f.ctx, f.staff, buckets.StudyIDs(f.studies))
	if err != nil {
		t.Fatal(err)
	}
	const perInstance = 5
	var inst [2]*buckets.Service
	for i := range inst {
		inst[i] = &buckets.Service{DB: f.db, Key: f.s.Key, Now: f.s.Now,
			Letters: &printing.Printer{DB: f.db, SignInURL: "https://radpass.example.org/"}}
	}
	var wg sync.WaitGroup
	gate := make(chan struct{})
	res := make([]*buckets.Created, 2*perInstance)
	errs := make([]error, len(res))
	for i := range res {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-gate
			res[i], errs[i] = inst[i%2].Create(f.ctx, f.staff, "192.0.2.1", sel, r, buckets.Hooks{})
		}(i)
	}
	close(gate)
	wg.Wait()
	fresh := 0
	for i := range res {
		if errs[i] != nil {
			t.Fatalf("submit %d: %v", i, errs[i])
		}
		if !res[i].Duplicate {
			fresh++
		}
		if res[i].Bucket.ID != res[0].Bucket.ID {
			t.Fatalf("submits answered buckets %d and %d", res[0].Bucket.ID, res[i].Bucket.ID)
		}
	}
	if got := inst[0].Letters.Renders() + inst[1].Letters.Renders(); got != 1 || fresh != 1 {
		t.Fatalf("%d letters rendered and %d buckets created by %d submits of one form on two instances, want 1 and 1",
			got, fresh, len(res))
	}
	if got := f.stored(); got != [4]int{1, len(f.studies), 1, 1} {
		t.Fatalf("stored %v, want one print", got)
	}
	// No advisory lock is left behind (in this test's database: other
	// tests and their migrations take theirs in their own).
	if n := f.count(`SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`); n != 0 {
		t.Fatalf("%d advisory locks held after the prints", n)
	}
}

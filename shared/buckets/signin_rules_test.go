package buckets_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/refnum"
)

// The sign-in's rules, one case per branch: the bucket as it was, the birth
// date typed, and what the attempt answers, stores and records.
func TestSignInRules(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	type bucketState struct {
		state    string
		failures int
		probes   int
		expired  bool
	}
	cases := []struct {
		name         string
		verification string
		before       bucketState
		right        bool // the right birth date
		want         buckets.Outcome
		justBlocked  bool
		after        bucketState
		action       string
		outcome      string
		onlyStudy    bool // the attempt names the bucket's only study
	}{
		{"dob bucket, right date: open, counter reset", database.VerifyDOB, bucketState{database.BucketActive, 3, 0, false}, true,
			buckets.Open, false, bucketState{database.BucketActive, 0, 0, false}, audit.PatientSignIn, "ok", true},
		{"sms bucket, right date: a code is due, counter kept", database.VerifySMS, bucketState{database.BucketActive, 3, 0, false}, true,
			buckets.NeedOTP, false, bucketState{database.BucketActive, 3, 0, false}, audit.PatientSignIn, "need_otp", false},
		{"wrong date counts", database.VerifyDOB, bucketState{database.BucketActive, 1, 0, false}, false,
			buckets.Refused, false, bucketState{database.BucketActive, 2, 0, false}, audit.PatientSignInFail, "wrong_birth_date", false},
		{"fifth wrong date blocks", database.VerifyDOB, bucketState{database.BucketActive, 4, 0, false}, false,
			buckets.Refused, true, bucketState{database.BucketBlocked, 5, 0, false}, audit.PatientSignInFail, "wrong_birth_date", false},
		{"expired, right date: told it expired", database.VerifyDOB, bucketState{database.BucketActive, 2, 0, true}, true,
			buckets.Expired, false, bucketState{database.BucketActive, 2, 0, true}, audit.PatientSignInFail, "expired", false},
		{"expired, wrong date counts", database.VerifyDOB, bucketState{database.BucketActive, 2, 0, true}, false,
			buckets.Refused, false, bucketState{database.BucketActive, 3, 0, true}, audit.PatientSignInFail, "expired", false},
		{"blocked, right date: told it is blocked, one probe", database.VerifyDOB, bucketState{database.BucketBlocked, 5, 1, false}, true,
			buckets.Blocked, false, bucketState{database.BucketBlocked, 5, 2, false}, audit.PatientSignInFail, database.BucketBlocked, false},
		{"blocked, right date past the probes: refused", database.VerifyDOB, bucketState{database.BucketBlocked, 5, buckets.MaxBlockedProbes, false}, true,
			buckets.Refused, false, bucketState{database.BucketBlocked, 5, buckets.MaxBlockedProbes + 1, false}, audit.PatientSignInFail, database.BucketBlocked, false},
		{"blocked, wrong date: refused, one probe", database.VerifyDOB, bucketState{database.BucketBlocked, 5, 0, false}, false,
			buckets.Refused, false, bucketState{database.BucketBlocked, 5, 1, false}, audit.PatientSignInFail, database.BucketBlocked, false},
		{"revoked, right date: told it was withdrawn", database.VerifySMS, bucketState{database.BucketRevoked, 0, 0, false}, true,
			buckets.Revoked, false, bucketState{database.BucketRevoked, 0, 1, false}, audit.PatientSignInFail, database.BucketRevoked, false},
	}
	one := f.studies[:1]
	f.exec(`UPDATE studies SET num_instances = 1 WHERE id = ?`, one[0].ID)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := f.print(tc.verification, one, nil)
			validUntil := start.AddDate(0, 1, 0)
			if tc.before.expired {
				validUntil = start.AddDate(0, 0, -1)
			}
			f.exec(`UPDATE buckets SET state = ?, failures = ?, blocked_probes = ?, valid_until = ? WHERE id = ?`,
				tc.before.state, tc.before.failures, tc.before.probes, validUntil, p.b.ID)
			typed := wrongBirth
			if tc.right {
				typed = birth
			}
			a, err := f.s.SignIn(f.ctx, p.n, typed, "198.51.100.7")
			if err != nil {
				t.Fatal(err)
			}
			if a.Outcome != tc.want || a.JustBlocked != tc.justBlocked {
				t.Errorf("outcome %v (just blocked %v), want %v (%v)", a.Outcome, a.JustBlocked, tc.want, tc.justBlocked)
			}
			if (a.Bucket != nil) != (tc.want != buckets.Refused) {
				t.Errorf("attempt's bucket %v for %v", a.Bucket != nil, a.Outcome)
			}
			if got := a.OnlyStudy != 0; got != tc.onlyStudy || (got && a.OnlyStudy != one[0].ID) {
				t.Errorf("only study %d, want it named: %v", a.OnlyStudy, tc.onlyStudy)
			}
			b := f.bucket(p.b.ID)
			if b.State != tc.after.state || b.Failures != tc.after.failures || b.BlockedProbes != tc.after.probes {
				t.Errorf("bucket after: state %s, failures %d, probes %d; want %s, %d, %d",
					b.State, b.Failures, b.BlockedProbes, tc.after.state, tc.after.failures, tc.after.probes)
			}
			if tc.want == buckets.Open && b.LastAccessAt == nil {
				t.Error("an open sign-in did not record the access time")
			}
			if n := f.events(p.b.ID, tc.action, tc.outcome); n != 1 {
				t.Errorf("%d audit rows %s/%s, want 1", n, tc.action, tc.outcome)
			}
			if n := f.events(p.b.ID, audit.BucketBlock, ""); (n == 1) != tc.justBlocked || n > 1 {
				t.Errorf("%d block events", n)
			}
		})
	}
	t.Run("unknown number", func(t *testing.T) {
		before := f.count(`SELECT count(*) FROM audit_events WHERE action = ? AND outcome = 'unknown'`, audit.PatientSignInFail)
		unknown, err := refnum.New()
		if err != nil {
			t.Fatal(err)
		}
		a, err := f.s.SignIn(f.ctx, unknown, birth, "198.51.100.7")
		if err != nil {
			t.Fatal(err)
		}
		if a.Outcome != buckets.Refused || a.Bucket != nil {
			t.Errorf("unknown number: %v", a.Outcome)
		}
		if n := f.count(`SELECT count(*) FROM audit_events WHERE action = ? AND outcome = 'unknown'`, audit.PatientSignInFail); n != before+1 {
			t.Errorf("%d new audit rows for the unknown number, want 1", n-before)
		}
	})
}

// A bucket that changes between the sign-in's unlocked read and its write
// (another try on the same bucket commits in between) is not overwritten:
// the write meets bucket_unchanged, and the sign-in runs again under the
// row lock on the row as it is now.
func TestSignInRereadsABucketChangedMeanwhile(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	t.Run("two wrong dates count two", func(t *testing.T) {
		p := f.print(database.VerifyDOB, nil, nil)
		calls := 0
		a, err := f.s.SignInThen(f.ctx, p.n, wrongBirth, "198.51.100.7", func(ctx context.Context, a *buckets.Attempt, w *buckets.Batch) error {
			calls++
			if calls == 1 { // between the read and the write: another wrong date
				f.signIn(p.n, wrongBirth)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if calls != 2 || a.Outcome != buckets.Refused {
			t.Fatalf("then called %d times, outcome %v; want 2 (the second under the lock), refused", calls, a.Outcome)
		}
		if got := f.bucket(p.b.ID).Failures; got != 2 {
			t.Errorf("failures %d after two wrong dates, want 2", got)
		}
		if n := f.count(`SELECT count(DISTINCT details->>'failures') FROM audit_events WHERE bucket_id = ? AND outcome = 'wrong_birth_date'`, p.b.ID); n != 2 {
			t.Errorf("%d distinct counter values recorded, want 2", n)
		}
	})
	t.Run("revoked meanwhile does not open", func(t *testing.T) {
		p := f.print(database.VerifyDOB, nil, nil)
		calls := 0
		a, err := f.s.SignInThen(f.ctx, p.n, birth, "198.51.100.7", func(ctx context.Context, a *buckets.Attempt, w *buckets.Batch) error {
			calls++
			if calls == 1 {
				f.exec(`UPDATE buckets SET state = 'revoked' WHERE id = ?`, p.b.ID)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if a.Outcome != buckets.Revoked {
			t.Fatalf("outcome %v for a bucket revoked before the sign-in's write, want revoked", a.Outcome)
		}
		if n := f.events(p.b.ID, audit.PatientSignIn, "ok"); n != 0 {
			t.Errorf("%d sign-in ok rows for a revoked bucket", n)
		}
		if got := f.bucket(p.b.ID); got.State != database.BucketRevoked || got.LastAccessAt != nil {
			t.Errorf("bucket after: state %s, last access %v", got.State, got.LastAccessAt)
		}
	})
}

// However many sign-ins arrive at once, no more than SignInSlots talk to
// PostgreSQL, so none waits for a pool connection (database/sql hands a
// freed connection to a random waiter: the slowest sign-ins under a burst
// were those that lost that draw many times over).
func TestParallelSignInsNeverWaitForThePool(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var ps []printed
	for i := 0; i < 4; i++ {
		ps = append(ps, f.print(database.VerifyDOB, nil, nil))
	}
	before := f.db.Stats().WaitCount
	var i atomic.Int64
	got := parallel(t, 6*buckets.SignInSlots, func() (*buckets.Attempt, error) {
		return f.s.SignIn(f.ctx, ps[int(i.Add(1))%len(ps)].n, birth, "198.51.100.7")
	})
	for _, a := range got {
		if a.Outcome != buckets.Open {
			t.Fatalf("right birth date: %v", a.Outcome)
		}
	}
	if n := f.db.Stats().WaitCount - before; n != 0 {
		t.Errorf("%d sign-ins waited for a pool connection, want none", n)
	}
	for _, p := range ps {
		if n := f.events(p.b.ID, audit.PatientSignIn, "ok"); n != 6*buckets.SignInSlots/len(ps) {
			t.Errorf("bucket %d: %d sign-in rows, want %d", p.b.ID, n, 6*buckets.SignInSlots/len(ps))
		}
	}
}

// Warm leaves SignInSlots connections open in the pool and nothing stored.
func TestWarmOpensTheSignInConnectionsAndWritesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.print(database.VerifyDOB, nil, nil)
	rows := func() int {
		return f.count(`SELECT (SELECT count(*) FROM audit_events) + (SELECT count(*) FROM sessions) + (SELECT count(*) FROM buckets WHERE failures > 0 OR last_access_at IS NOT NULL)`)
	}
	before := rows()
	if err := f.s.Warm(f.ctx); err != nil {
		t.Fatal(err)
	}
	if st := f.db.Stats(); st.Idle < buckets.SignInSlots {
		t.Errorf("%d idle connections after Warm, want at least %d", st.Idle, buckets.SignInSlots)
	}
	if n := rows(); n != before {
		t.Errorf("Warm changed %d rows", n-before)
	}
	if a := f.signIn(p.n, birth); a.Outcome != buckets.Open {
		t.Fatalf("sign-in after Warm: %v", a.Outcome)
	}
}

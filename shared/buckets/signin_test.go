package buckets_test

import (
	"sync"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/refnum"
)

// parallel runs fn n times at once and returns the outcomes.
func parallel(t *testing.T, n int, fn func() (*buckets.Attempt, error)) []*buckets.Attempt {
	t.Helper()
	out := make([]*buckets.Attempt, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-gate
			out[i], errs[i] = fn()
		}(i)
	}
	close(gate)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// 50 parallel wrong answers on a fresh bucket: exactly MaxFailures are
// compared and counted, the rest meet a blocked bucket, and one blocks it.
func TestParallelWrongAnswersBlockAfterExactlyFive(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name         string
		verification string
		try          func(f *fixture, p printed) (*buckets.Attempt, error)
		failAction   string
		failOutcome  string
	}{
		{"birth date", database.VerifyDOB, func(f *fixture, p printed) (*buckets.Attempt, error) {
			return f.s.SignIn(f.ctx, p.n, wrongBirth, "198.51.100.7")
		}, audit.PatientSignInFail, "wrong_birth_date"},
		{"one-time password", database.VerifySMS, func(f *fixture, p printed) (*buckets.Attempt, error) {
			return f.s.CheckOTP(f.ctx, p.b.ID, otherCode(p.code), "198.51.100.7")
		}, audit.PatientOTPFail, "wrong_code"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			p := f.print(tc.verification, nil, nil)
			if tc.verification == database.VerifySMS {
				p.code = f.issue(p.b.ID, "198.51.100.7").Plain
			}
			got := parallel(t, 50, func() (*buckets.Attempt, error) { return tc.try(f, p) })
			justBlocked := 0
			for _, a := range got {
				if a.JustBlocked {
					justBlocked++
				}
				if a.Outcome == buckets.Open || a.Outcome == buckets.NeedOTP {
					t.Fatalf("a wrong answer got %v", a.Outcome)
				}
			}
			if justBlocked != 1 {
				t.Errorf("%d attempts report blocking the bucket, want 1", justBlocked)
			}
			b := f.bucket(p.b.ID)
			if b.State != database.BucketBlocked || b.Failures != buckets.MaxFailures || b.BlockedAt == nil {
				t.Errorf("bucket after 50 wrong answers: state %s, failures %d, blocked at %v", b.State, b.Failures, b.BlockedAt)
			}
			if n := f.events(p.b.ID, tc.failAction, tc.failOutcome); n != buckets.MaxFailures {
				t.Errorf("%d counted failures (%s/%s), want exactly %d", n, tc.failAction, tc.failOutcome, buckets.MaxFailures)
			}
			if n := f.events(p.b.ID, tc.failAction, "blocked"); n != 50-buckets.MaxFailures {
				t.Errorf("%d attempts met the blocked bucket, want %d", n, 50-buckets.MaxFailures)
			}
			if n := f.events(p.b.ID, audit.BucketBlock, ""); n != 1 {
				t.Errorf("%d block events, want 1", n)
			}
			// The failures recorded one by one carry the counter 1..5, each once.
			if n := f.count(`SELECT count(DISTINCT details->>'failures') FROM audit_events WHERE bucket_id = ? AND outcome = ?`,
				p.b.ID, tc.failOutcome); n != buckets.MaxFailures {
				t.Errorf("%d distinct counter values in the failure events, want %d", n, buckets.MaxFailures)
			}
		})
	}
}

// A blocked bucket compares nothing that could open it: the right code and
// the right birth date are refused; the birth date is answered truthfully
// ("blocked, call the desk") only for MaxBlockedProbes probes.
func TestBlockedBucketRefusesEvenTheRightAnswers(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.print(database.VerifySMS, nil, nil)
	if a := f.signIn(p.n, birth); a.Outcome != buckets.NeedOTP {
		t.Fatalf("right birth date on an SMS bucket: %v", a.Outcome)
	}
	code := f.issue(p.b.ID, "198.51.100.7").Plain
	for i := 0; i < buckets.MaxFailures; i++ {
		f.checkOTP(p.b.ID, otherCode(code))
	}
	if got := f.checkOTP(p.b.ID, code); got != buckets.Blocked {
		t.Fatalf("right code on a blocked bucket: %v, want blocked", got)
	}
	if _, err := f.s.IssueOTP(f.ctx, p.b.ID, "198.51.100.8"); err != buckets.ErrNotActive {
		t.Fatalf("a new code for a blocked bucket: %v, want ErrNotActive", err)
	}
	for i := 1; i <= buckets.MaxBlockedProbes+3; i++ {
		a := f.signIn(p.n, birth)
		want := buckets.Blocked
		if i > buckets.MaxBlockedProbes {
			want = buckets.Refused
		}
		if a.Outcome != want {
			t.Fatalf("probe %d with the right birth date: %v, want %v", i, a.Outcome, want)
		}
		if want == buckets.Refused && a.Bucket != nil {
			t.Fatalf("probe %d: a refusal carries the bucket", i)
		}
	}
	if b := f.bucket(p.b.ID); b.State != database.BucketBlocked || b.Failures != buckets.MaxFailures {
		t.Fatalf("bucket after probes: %s with %d failures", b.State, b.Failures)
	}
}

// Nothing distinguishes an unknown number, a wrong birth date and a blocked,
// revoked or expired bucket whose birth date does not match.
func TestRefusalsLookTheSame(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	active := f.print(database.VerifyDOB, nil, nil)
	blocked := f.print(database.VerifyDOB, nil, nil)
	f.block(blocked)
	revoked := f.print(database.VerifySMS, nil, nil)
	if _, err := f.s.Revoke(f.ctx, f.desk, revoked.b.ID, "203.0.113.1", "patient asked"); err != nil {
		t.Fatal(err)
	}
	expired := f.print(database.VerifyDOB, nil, nil)
	f.exec(`UPDATE buckets SET valid_until = ? WHERE id = ?`, start.AddDate(0, 0, -1), expired.b.ID)
	unknown, err := refnum.New()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		n    refnum.Number
		bd   time.Time
	}{
		{"unknown number", unknown, birth},
		{"wrong birth date", active.n, wrongBirth},
		{"blocked, wrong birth date", blocked.n, wrongBirth},
		{"revoked, wrong birth date", revoked.n, wrongBirth},
		{"expired, wrong birth date", expired.n, wrongBirth},
	}
	for _, tc := range cases {
		a := f.signIn(tc.n, tc.bd)
		if a.Outcome != buckets.Refused || a.Bucket != nil || a.JustBlocked {
			t.Errorf("%s: %+v, want a bare refusal", tc.name, a)
		}
	}
	// Each refusal left one audit row; none names the number.
	if n := f.count(`SELECT count(*) FROM audit_events WHERE action = ?`, audit.PatientSignInFail); n != len(cases)+buckets.MaxFailures {
		t.Errorf("%d sign-in failure events, want %d", n, len(cases)+buckets.MaxFailures)
	}
	// The right birth date then tells the state (only then).
	for _, tc := range []struct {
		p    printed
		want buckets.Outcome
	}{{active, buckets.Open}, {blocked, buckets.Blocked}, {revoked, buckets.Revoked}, {expired, buckets.Expired}} {
		if a := f.signIn(tc.p.n, birth); a.Outcome != tc.want || a.Bucket == nil || a.Bucket.ID != tc.p.b.ID {
			t.Errorf("right birth date on bucket %d: %v, want %v with the bucket", tc.p.b.ID, a.Outcome, tc.want)
		}
	}
}

// A birth date resets the counter only where it is the last factor.
func TestBirthDateSuccessResetsOnlyDOBBuckets(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	dob := f.print(database.VerifyDOB, nil, nil)
	sms := f.print(database.VerifySMS, nil, nil)
	email := f.print(database.VerifyEmail, nil, nil)
	for _, p := range []printed{dob, sms, email} {
		f.signIn(p.n, wrongBirth)
		f.signIn(p.n, wrongBirth)
	}
	cases := []struct {
		p        printed
		want     buckets.Outcome
		failures int
	}{
		{dob, buckets.Open, 0},
		{sms, buckets.NeedOTP, 2},
		{email, buckets.NeedOTP, 2},
	}
	for _, tc := range cases {
		if a := f.signIn(tc.p.n, birth); a.Outcome != tc.want {
			t.Errorf("%s bucket, right birth date: %v, want %v", tc.p.b.Verification, a.Outcome, tc.want)
		}
		if got := f.bucket(tc.p.b.ID).Failures; got != tc.failures {
			t.Errorf("%s bucket: %d failures after the right birth date, want %d", tc.p.b.Verification, got, tc.failures)
		}
	}
	// On an SMS bucket only the right code resets the counter.
	code := f.issue(sms.b.ID, "198.51.100.7").Plain
	if got := f.checkOTP(sms.b.ID, code); got != buckets.Open {
		t.Fatalf("right code: %v", got)
	}
	if got := f.bucket(sms.b.ID); got.Failures != 0 || got.LastAccessAt == nil {
		t.Fatalf("after the right code: %d failures, last access %v", got.Failures, got.LastAccessAt)
	}
}

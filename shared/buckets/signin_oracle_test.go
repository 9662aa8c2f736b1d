package buckets_test

import (
	"testing"

	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/database"
)

// However a bucket is closed, the birth date can be tried only a bounded
// number of times: after MaxFailures wrong dates and MaxBlockedProbes more,
// the right date gets the same refusal as a wrong one. Otherwise an expired
// or revoked bucket answering "expired"/"revoked" to the right date would be
// an unlimited birth-date oracle (and for an expired "dob" bucket, the key to
// it once the hospital extends it).
func TestBirthDateGuessesAreBoundedInEveryState(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		close string // SQL applied to the new bucket
	}{
		{"active", ``},
		{"blocked", `UPDATE buckets SET state = 'blocked', blocked_at = now() WHERE id = ?`},
		{"revoked", `UPDATE buckets SET state = 'revoked' WHERE id = ?`},
		{"expired", `UPDATE buckets SET valid_until = '2020-01-01' WHERE id = ?`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			p := f.print(database.VerifyDOB, nil, nil)
			if tt.close != "" {
				f.exec(tt.close, p.b.ID)
			}
			for i := 0; i < buckets.MaxFailures+buckets.MaxBlockedProbes; i++ {
				if a := f.signIn(p.n, birth.AddDate(0, 0, i+1)); a.Outcome != buckets.Refused {
					t.Fatalf("wrong date %d answered %s", i+1, a.Outcome)
				}
			}
			if a := f.signIn(p.n, birth); a.Outcome != buckets.Refused {
				t.Fatalf("the right date after %d wrong ones answered %s: the state tells right from wrong",
					buckets.MaxFailures+buckets.MaxBlockedProbes, a.Outcome)
			}
		})
	}
}

// A closed bucket still tells the patient why, once number and birth date
// match, as long as nobody has been probing it.
func TestClosedBucketExplainedToThePatient(t *testing.T) {
	t.Parallel()
	tests := []struct {
		close string
		want  buckets.Outcome
	}{
		{`UPDATE buckets SET state = 'blocked', blocked_at = now() WHERE id = ?`, buckets.Blocked},
		{`UPDATE buckets SET state = 'revoked' WHERE id = ?`, buckets.Revoked},
		{`UPDATE buckets SET valid_until = '2020-01-01' WHERE id = ?`, buckets.Expired},
	}
	for _, tt := range tests {
		t.Run(tt.want.String(), func(t *testing.T) {
			f := newFixture(t)
			p := f.print(database.VerifyDOB, nil, nil)
			f.exec(tt.close, p.b.ID)
			if a := f.signIn(p.n, birth); a.Outcome != tt.want {
				t.Fatalf("answered %v, want %s", a.Outcome, tt.want)
			}
		})
	}
}

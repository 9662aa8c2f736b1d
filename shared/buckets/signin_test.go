package buckets_test

import (
	"testing"
	"time"

	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/store"
	"github.com/radpass/radpass/shared/testserver"
)

var birth = time.Date(1961, 3, 9, 0, 0, 0, 0, time.UTC)

type fixture struct {
	srv     *testserver.Server
	staff   *store.User
	studies []*store.Study
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	u := testserver.MustUser(t, srv.DB, "ann", store.RoleStaff, d)
	bd := birth
	st := testserver.MustPatientStudy(t, srv.DB, d, "P001", "Łukasik", "Zoë", &bd)
	return &fixture{srv: srv, staff: u, studies: []*store.Study{st}}
}

// However a bucket is closed, the birth date can be tried only a bounded
// number of times: after MaxFailures wrong dates and MaxBlockedProbes more,
// the right date gets the same refusal as a wrong one. An expired or revoked
// bucket used to answer "expired"/"revoked" to the right date after any
// number of wrong ones: an unlimited birth-date oracle (and for an expired
// "dob" bucket, the key to it once the hospital extends it).
func TestBirthDateGuessesAreBoundedInEveryState(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	tests := []struct {
		name  string
		close string // SQL applied to the new bucket
	}{
		{"active", ``},
		{"blocked", `UPDATE buckets SET state = 'blocked', blocked_at = now() WHERE id = ?`},
		{"revoked", `UPDATE buckets SET state = 'revoked' WHERE id = ?`},
		{"expired", `UPDATE buckets SET valid_until = current_date - 1 WHERE id = ?`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, n := f.srv.MustBucket(t, f.staff, f.studies, testserver.BucketSpec{})
			if tt.close != "" {
				if _, err := f.srv.DB.ExecContext(ctx, tt.close, b.ID); err != nil {
					t.Fatal(err)
				}
			}
			svc := f.srv.App.Buckets
			for i := 0; i < buckets.MaxFailures+buckets.MaxBlockedProbes; i++ {
				a, err := svc.SignIn(ctx, n, birth.AddDate(0, 0, i+1), "192.0.2.1")
				if err != nil {
					t.Fatal(err)
				}
				if a.Outcome != buckets.Refused {
					t.Fatalf("wrong date %d answered %s", i+1, a.Outcome)
				}
			}
			a, err := svc.SignIn(ctx, n, birth, "192.0.2.1")
			if err != nil {
				t.Fatal(err)
			}
			if a.Outcome != buckets.Refused {
				t.Fatalf("the right date after %d wrong ones answered %s: the state tells right from wrong",
					buckets.MaxFailures+buckets.MaxBlockedProbes, a.Outcome)
			}
		})
	}
}

// A closed bucket still tells the patient why, once number and birth date
// match, as long as nobody has been probing it.
func TestClosedBucketExplainedToThePatient(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	tests := []struct {
		close string
		want  buckets.Outcome
	}{
		{`UPDATE buckets SET state = 'blocked', blocked_at = now() WHERE id = ?`, buckets.Blocked},
		{`UPDATE buckets SET state = 'revoked' WHERE id = ?`, buckets.Revoked},
		{`UPDATE buckets SET valid_until = current_date - 1 WHERE id = ?`, buckets.Expired},
	}
	for _, tt := range tests {
		t.Run(tt.want.String(), func(t *testing.T) {
			b, n := f.srv.MustBucket(t, f.staff, f.studies, testserver.BucketSpec{})
			if _, err := f.srv.DB.ExecContext(ctx, tt.close, b.ID); err != nil {
				t.Fatal(err)
			}
			a, err := f.srv.App.Buckets.SignIn(ctx, n, birth, "192.0.2.1")
			if err != nil || a.Outcome != tt.want {
				t.Fatalf("answered %v (%v), want %s", a, err, tt.want)
			}
		})
	}
}

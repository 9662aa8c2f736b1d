package buckets_test

import (
	"errors"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/database"
)

// wantErr compares err with what a case expects: nil, a domain error, or an
// apperr code (Forbidden, Invalid).
func wantErr(t *testing.T, what string, err error, want error, code string) {
	t.Helper()
	switch {
	case code != "":
		if apperr.CodeOf(err) != code {
			t.Fatalf("%s: %v, want an apperr %s", what, err, code)
		}
	case want == nil:
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	default:
		if !errors.Is(err, want) {
			t.Fatalf("%s: %v, want %v", what, err, want)
		}
	}
}

// auditReason is the reason recorded with the single action event of bucket id.
func (f *fixture) auditReason(id int64, action string) string {
	f.t.Helper()
	var reason string
	if err := f.db.QueryRowContext(f.ctx, `SELECT details->>'reason' FROM audit_events WHERE bucket_id = ? AND action = ?`, id, action).Scan(&reason); err != nil {
		f.t.Fatal(err)
	}
	return reason
}

func TestUnlock(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		who  func(f *fixture) *database.User
		err  error
		code string
	}{
		{"service desk", func(f *fixture) *database.User { return f.desk }, nil, ""},
		{"admin of the department", func(f *fixture) *database.User { return f.admin }, nil, ""},
		{"staff of the department", func(f *fixture) *database.User { return f.staff }, nil, apperr.Forbidden},
		{"admin of another department", func(f *fixture) *database.User { return f.southAdmin }, buckets.ErrNotFound, ""},
		{"staff of another department", func(f *fixture) *database.User { return f.southStaff }, buckets.ErrNotFound, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			p := f.print(database.VerifyDOB, nil, nil)
			f.block(p)
			_, err := f.s.Unlock(f.ctx, tc.who(f), p.b.ID, "203.0.113.1", "patient called, identity checked")
			wantErr(t, "unlock", err, tc.err, tc.code)
			b := f.bucket(p.b.ID)
			if tc.err != nil || tc.code != "" {
				if b.State != database.BucketBlocked || b.Failures != buckets.MaxFailures {
					t.Fatalf("a refused unlock changed the bucket: %s, %d failures", b.State, b.Failures)
				}
				if n := f.events(p.b.ID, audit.BucketUnlock, ""); n != 0 {
					t.Fatalf("%d unlock events after a refusal", n)
				}
				return
			}
			if b.State != database.BucketActive || b.Failures != 0 || b.BlockedAt != nil || b.BlockedProbes != 0 {
				t.Fatalf("after unlock: %s, %d failures, blocked at %v, %d probes", b.State, b.Failures, b.BlockedAt, b.BlockedProbes)
			}
			if n := f.events(p.b.ID, audit.BucketUnlock, ""); n != 1 {
				t.Fatalf("%d unlock events, want 1", n)
			}
			if r := f.auditReason(p.b.ID, audit.BucketUnlock); r != "patient called, identity checked" {
				t.Fatalf("reason %q", r)
			}
			if a := f.signIn(p.n, birth); a.Outcome != buckets.Open {
				t.Fatalf("sign-in after unlock: %v", a.Outcome)
			}
			// Unlocking an active bucket is refused.
			if _, err := f.s.Unlock(f.ctx, tc.who(f), p.b.ID, "203.0.113.1", "again"); !errors.Is(err, buckets.ErrState) {
				t.Fatalf("unlock of an active bucket: %v", err)
			}
			// And the counter starts afresh: 4 more wrong answers do not block.
			for i := 0; i < buckets.MaxFailures-1; i++ {
				f.signIn(p.n, wrongBirth)
			}
			if b := f.bucket(p.b.ID); b.State != database.BucketActive {
				t.Fatalf("blocked after %d failures following an unlock", buckets.MaxFailures-1)
			}
		})
	}
}

func TestRevoke(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.print(database.VerifySMS, nil, nil)
	code := f.issue(p.b.ID, "198.51.100.7").Plain
	if _, err := f.s.Revoke(f.ctx, f.staff, p.b.ID, "203.0.113.1", "not allowed"); apperr.CodeOf(err) != apperr.Forbidden {
		t.Fatalf("staff revoke: %v", err)
	}
	if _, err := f.s.Revoke(f.ctx, f.southAdmin, p.b.ID, "203.0.113.1", "not allowed"); !errors.Is(err, buckets.ErrNotFound) {
		t.Fatalf("other department's admin: %v", err)
	}
	if _, err := f.s.Revoke(f.ctx, f.admin, p.b.ID, "203.0.113.1", "no"); apperr.CodeOf(err) != apperr.Invalid {
		t.Fatalf("a two-letter reason: %v", err)
	}
	if _, err := f.s.Revoke(f.ctx, f.admin, p.b.ID, "203.0.113.1", "letter was lost"); err != nil {
		t.Fatal(err)
	}
	if b := f.bucket(p.b.ID); b.State != database.BucketRevoked || b.OTPHash != nil {
		t.Fatalf("after revoke: %s, code kept %v", b.State, b.OTPHash != nil)
	}
	if got := f.checkOTP(p.b.ID, code); got != buckets.Revoked {
		t.Fatalf("code of a revoked bucket: %v", got)
	}
	if _, err := f.s.Session(f.ctx, p.b.ID); !errors.Is(err, buckets.ErrNotActive) {
		t.Fatalf("session of a revoked bucket: %v", err)
	}
	if _, err := f.s.Revoke(f.ctx, f.desk, p.b.ID, "203.0.113.1", "twice"); !errors.Is(err, buckets.ErrState) {
		t.Fatalf("second revoke: %v", err)
	}
	if n := f.events(p.b.ID, audit.BucketRevoke, ""); n != 1 {
		t.Fatalf("%d revoke events, want 1", n)
	}
	if r := f.auditReason(p.b.ID, audit.BucketRevoke); r != "letter was lost" {
		t.Fatalf("reason %q", r)
	}
}

func TestExtendNeverPastTheDepartmentMaximum(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.exec(`UPDATE departments SET max_validity_n = 3, max_validity_unit = 'month' WHERE id = ?`, f.north.ID)
	p := f.print(database.VerifyDOB, nil, nil)
	max := start.AddDate(0, 3, 0).Truncate(24 * time.Hour)
	cases := []struct {
		name  string
		until time.Time
		err   error
	}{
		{"a day past the maximum", max.AddDate(0, 0, 1), buckets.ErrValidity},
		{"today", start.Truncate(24 * time.Hour), buckets.ErrValidity},
		{"the maximum", max, nil},
		{"two months", start.AddDate(0, 2, 0).Truncate(24 * time.Hour), nil},
	}
	ok := 0
	for _, tc := range cases {
		_, err := f.s.Extend(f.ctx, f.desk, p.b.ID, "203.0.113.1", "patient needs longer", tc.until)
		wantErr(t, tc.name, err, tc.err, "")
		if err == nil {
			ok++
			if got := f.bucket(p.b.ID).ValidUntil.Format("2006-01-02"); got != tc.until.Format("2006-01-02") {
				t.Fatalf("%s: valid until %s", tc.name, got)
			}
		}
	}
	if n := f.events(p.b.ID, audit.BucketExtend, ""); n != ok {
		t.Fatalf("%d extend events for %d extensions", n, ok)
	}
	if _, err := f.s.Extend(f.ctx, f.staff, p.b.ID, "203.0.113.1", "patient needs longer", max); apperr.CodeOf(err) != apperr.Forbidden {
		t.Fatalf("staff extend: %v", err)
	}
	if n := f.count(`SELECT count(*) FROM audit_events WHERE action = ? AND details->>'reason' = 'patient needs longer'`, audit.BucketExtend); n != ok {
		t.Fatalf("%d extend events carry the reason, want %d", n, ok)
	}
}

func TestRemoveStudyNeverTheLast(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.print(database.VerifyDOB, nil, nil)
	if _, err := f.s.RemoveStudy(f.ctx, f.desk, p.b.ID, f.southStudies[0].ID, "203.0.113.1", "wrong study"); !errors.Is(err, buckets.ErrNotFound) {
		t.Fatalf("removing a study not in the bucket: %v", err)
	}
	if _, err := f.s.RemoveStudy(f.ctx, f.admin, p.b.ID, f.studies[0].ID, "203.0.113.1", "wrong study"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.RemoveStudy(f.ctx, f.admin, p.b.ID, f.studies[1].ID, "203.0.113.1", "the last one"); !errors.Is(err, buckets.ErrState) {
		t.Fatalf("removing the last study: %v", err)
	}
	got, err := f.s.Studies(f.ctx, p.b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != f.studies[1].ID {
		t.Fatalf("studies left: %v", buckets.StudyIDs(got))
	}
	if n := f.events(p.b.ID, audit.BucketRemoveStudy, ""); n != 1 {
		t.Fatalf("%d remove events, want 1", n)
	}
	if r := f.auditReason(p.b.ID, audit.BucketRemoveStudy); r != "wrong study" {
		t.Fatalf("reason %q", r)
	}
	// The patient no longer sees the removed study.
	if _, err := f.s.Study(f.ctx, buckets.Patient(p.b), f.studies[0].ID); !errors.Is(err, buckets.ErrNotFound) {
		t.Fatalf("removed study for the patient: %v", err)
	}
}

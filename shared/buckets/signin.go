package buckets

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/refnum"
	"github.com/radpass/radpass/shared/store"
)

// Outcome is what a patient's check led to.
type Outcome int

// Outcomes. Refused is the one answer for an unknown number, a wrong birth
// date and a blocked bucket whose birth date did not match (security
// requirement 6): the others are told only after number and birth date match.
const (
	Refused Outcome = iota
	Open            // signed in: the bucket's studies may be shown
	NeedOTP         // birth date matched; a one-time password must follow
	Blocked         // birth date matched, but the bucket is blocked
	Expired         // birth date matched, but the validity date has passed
	Revoked         // birth date matched, but the access was withdrawn
)

func (o Outcome) String() string {
	return [...]string{"refused", "open", "need_otp", "blocked", "expired", "revoked"}[o]
}

// Attempt is the result of a check: the outcome and, unless Refused, the bucket.
type Attempt struct {
	Outcome Outcome
	Bucket  *store.Bucket
	// Blocked is set when this very attempt blocked the bucket.
	JustBlocked bool
}

// SignIn checks a reference number and a birth date. It runs in one
// transaction that locks the bucket row, so parallel attempts are counted one
// by one and never more than MaxFailures comparisons are made. A wrong birth
// date counts a failure; a right one resets the counter only where it is the
// last factor (a "dob" bucket): for SMS and e-mail buckets only the right
// one-time password does, so knowing the birth date gives no extra guesses.
func (s *Service) SignIn(ctx context.Context, n refnum.Number, birth time.Time, ip string) (*Attempt, error) {
	return s.SignInThen(ctx, n, birth, ip, nil)
}

// SignInThen is SignIn with then run in the same transaction once the
// outcome is known (then may be nil): what the sign-in leads to (the session
// row, the address's counter) commits with its audit row or not at all.
// then must use tx only, never the pool (design: a second connection inside
// a transaction can wedge the server).
func (s *Service) SignInThen(ctx context.Context, n refnum.Number, birth time.Time, ip string,
	then func(ctx context.Context, tx bun.Tx, a *Attempt) error) (*Attempt, error) {
	hash := refnum.Hash(s.Key, n)
	a := &Attempt{Outcome: Refused}
	err := store.InTx(ctx, s.DB, func(ctx context.Context, tx bun.Tx) error {
		if err := s.check(ctx, tx, hash, birth, ip, a); err != nil {
			return err
		}
		if then != nil {
			return then(ctx, tx, a)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// check runs the sign-in's rules on the locked bucket row and fills a.
func (s *Service) check(ctx context.Context, tx bun.Tx, hash []byte, birth time.Time, ip string, a *Attempt) error {
	b := new(store.Bucket)
	err := tx.NewSelect().Model(b).Relation("Patient").Relation("Department").
		Where("bucket.ref_hash = ?", hash).For("UPDATE OF bucket").Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		// The same audit write as a wrong birth date: the same work, the same timing class.
		return s.record(ctx, tx, nil, audit.PatientSignInFail, "unknown", ip, nil)
	}
	if err != nil {
		return err
	}
	match := b.Patient.BirthDate != nil && sameDate(*b.Patient.BirthDate, birth)
	switch {
	case b.State == store.BucketBlocked || b.State == store.BucketRevoked:
		// A closed bucket compares birth dates only MaxBlockedProbes
		// times: else "blocked"/"revoked" against the one refusal would be
		// an unlimited birth-date oracle.
		b.BlockedProbes++
		if _, err := tx.NewUpdate().Model(b).Column("blocked_probes").WherePK().Exec(ctx); err != nil {
			return err
		}
		if match && b.BlockedProbes <= MaxBlockedProbes {
			a.Outcome, a.Bucket = Blocked, b
			if b.State == store.BucketRevoked {
				a.Outcome = Revoked
			}
		}
		return s.record(ctx, tx, b, audit.PatientSignInFail, b.State, ip, nil)
	case b.Expired(s.Today()):
		if match {
			a.Outcome, a.Bucket = Expired, b
			return s.record(ctx, tx, b, audit.PatientSignInFail, "expired", ip, nil)
		}
		// A wrong birth date counts as on an open bucket ("expired"
		// against the refusal tells a right date from a wrong one), so
		// an expired bucket is no free birth-date oracle; a later
		// extension does not undo the failures.
		blocked, err := s.fail(ctx, tx, b)
		if err != nil {
			return err
		}
		a.JustBlocked = blocked
		return s.record(ctx, tx, b, audit.PatientSignInFail, "expired", ip, map[string]any{"failures": b.Failures})
	case !match:
		blocked, err := s.fail(ctx, tx, b)
		if err != nil {
			return err
		}
		a.JustBlocked = blocked
		return s.record(ctx, tx, b, audit.PatientSignInFail, "wrong_birth_date", ip, map[string]any{"failures": b.Failures})
	case b.Verification != store.VerifyDOB:
		a.Outcome, a.Bucket = NeedOTP, b
		return s.record(ctx, tx, b, audit.PatientSignIn, "need_otp", ip, nil)
	}
	if err := s.succeed(ctx, tx, b); err != nil {
		return err
	}
	a.Outcome, a.Bucket = Open, b
	return s.record(ctx, tx, b, audit.PatientSignIn, "ok", ip, nil)
}

// fail counts one failure on a locked, active bucket and blocks it at
// MaxFailures (recording the block). It reports whether it blocked.
func (s *Service) fail(ctx context.Context, tx bun.Tx, b *store.Bucket) (bool, error) {
	b.Failures++
	cols := []string{"failures"}
	blocked := b.Failures >= MaxFailures
	if blocked {
		now := s.now()
		b.State, b.BlockedAt, b.BlockedProbes = store.BucketBlocked, &now, 0
		b.OTPHash, b.OTPExpiresAt = nil, nil
		cols = append(cols, "state", "blocked_at", "blocked_probes", "otp_hash", "otp_expires_at")
	}
	if _, err := tx.NewUpdate().Model(b).Column(cols...).WherePK().Exec(ctx); err != nil {
		return false, err
	}
	if blocked {
		return true, audit.Record(ctx, tx, &audit.Event{Action: audit.BucketBlock, ActorKind: "system",
			DepartmentID: &b.DepartmentID, BucketID: &b.ID, Details: map[string]any{"failures": b.Failures}})
	}
	return false, nil
}

// succeed resets the counter of a fully signed-in bucket.
func (s *Service) succeed(ctx context.Context, tx bun.Tx, b *store.Bucket) error {
	now := s.now()
	b.Failures, b.LastAccessAt = 0, &now
	_, err := tx.NewUpdate().Model(b).Column("failures", "last_access_at").WherePK().Exec(ctx)
	return err
}

func (s *Service) record(ctx context.Context, db bun.IDB, b *store.Bucket, action, outcome, ip string, details map[string]any) error {
	e := &audit.Event{Action: action, Outcome: outcome, ActorKind: "patient", IP: ip, Details: details}
	if b != nil {
		e.BucketID, e.DepartmentID = &b.ID, &b.DepartmentID
		e.ActorName = "bucket:" + itoa(b.ID)
	}
	return audit.Record(ctx, db, e)
}

func sameDate(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd
}

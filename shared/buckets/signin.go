package buckets

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/refnum"
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
	Bucket  *database.Bucket
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
// a transaction can wedge the server); writes it adds to w go to PostgreSQL
// with the sign-in's own in one round trip.
//
// One sign-in is BEGIN, the bucket row read under lock (with its patient
// and department), then's reads, all writes in one round trip, COMMIT.
func (s *Service) SignInThen(ctx context.Context, n refnum.Number, birth time.Time, ip string,
	then func(ctx context.Context, tx bun.Tx, a *Attempt, w *Batch) error) (*Attempt, error) {
	hash := refnum.Hash(s.Key, n)
	var a *Attempt
	err := database.InTx(ctx, s.DB, func(ctx context.Context, tx bun.Tx) error {
		a = &Attempt{Outcome: Refused}
		w := &Batch{Tx: tx}
		if err := s.check(ctx, tx, w, hash, birth, ip, a); err != nil {
			return err
		}
		if then != nil {
			if err := then(ctx, tx, a, w); err != nil {
				return err
			}
		}
		return w.Flush(ctx)
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// Batch gathers the writes of one transaction and sends them in one round
// trip (one simple-protocol message; PostgreSQL runs them in order and stops
// at the first error, which fails the transaction).
type Batch struct {
	Tx bun.Tx
	qs []string
}

// Add queues q (a bun query: its SQL with the arguments in place).
func (w *Batch) Add(q interface{ String() string }) (err error) {
	defer func() { // bun's String panics where a query cannot be built
		if r := recover(); r != nil {
			err = fmt.Errorf("buckets: build query: %v", r)
		}
	}()
	w.qs = append(w.qs, q.String())
	return nil
}

// Flush sends the queued writes.
func (w *Batch) Flush(ctx context.Context) error {
	if len(w.qs) == 0 {
		return nil
	}
	_, err := w.Tx.ExecContext(ctx, strings.Join(w.qs, ";\n"))
	w.qs = nil
	return err
}

// check runs the sign-in's rules on the locked bucket row, fills a and
// queues the writes on w.
func (s *Service) check(ctx context.Context, tx bun.Tx, w *Batch, hash []byte, birth time.Time, ip string, a *Attempt) error {
	b := new(database.Bucket)
	err := tx.NewSelect().Model(b).Relation("Patient").Relation("Department").
		Where("bucket.ref_hash = ?", hash).For("UPDATE OF bucket").Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		// The same audit write as a wrong birth date: the same work, the same timing class.
		return s.queueRecord(w, nil, audit.PatientSignInFail, "unknown", ip, nil)
	}
	if err != nil {
		return err
	}
	match := b.Patient.BirthDate != nil && sameDate(*b.Patient.BirthDate, birth)
	switch {
	case b.State == database.BucketBlocked || b.State == database.BucketRevoked:
		// A closed bucket compares birth dates only MaxBlockedProbes
		// times: else "blocked"/"revoked" against the one refusal would be
		// an unlimited birth-date oracle.
		b.BlockedProbes++
		if err := w.Add(tx.NewUpdate().Model(b).Column("blocked_probes").WherePK()); err != nil {
			return err
		}
		if match && b.BlockedProbes <= MaxBlockedProbes {
			a.Outcome, a.Bucket = Blocked, b
			if b.State == database.BucketRevoked {
				a.Outcome = Revoked
			}
		}
		return s.queueRecord(w, b, audit.PatientSignInFail, b.State, ip, nil)
	case b.Expired(s.Today()):
		if match {
			a.Outcome, a.Bucket = Expired, b
			return s.queueRecord(w, b, audit.PatientSignInFail, "expired", ip, nil)
		}
		// A wrong birth date counts as on an open bucket ("expired"
		// against the refusal tells a right date from a wrong one), so
		// an expired bucket is no free birth-date oracle; a later
		// extension does not undo the failures.
		blocked, err := s.queueFail(w, b)
		if err != nil {
			return err
		}
		a.JustBlocked = blocked
		return s.queueRecord(w, b, audit.PatientSignInFail, "expired", ip, map[string]any{"failures": b.Failures})
	case !match:
		blocked, err := s.queueFail(w, b)
		if err != nil {
			return err
		}
		a.JustBlocked = blocked
		return s.queueRecord(w, b, audit.PatientSignInFail, "wrong_birth_date", ip, map[string]any{"failures": b.Failures})
	case b.Verification != database.VerifyDOB:
		a.Outcome, a.Bucket = NeedOTP, b
		return s.queueRecord(w, b, audit.PatientSignIn, "need_otp", ip, nil)
	}
	if err := s.queueSucceed(w, b); err != nil {
		return err
	}
	a.Outcome, a.Bucket = Open, b
	return s.queueRecord(w, b, audit.PatientSignIn, "ok", ip, nil)
}

// fail counts one failure on a locked, active bucket and blocks it at
// MaxFailures (recording the block). It reports whether it blocked.
func (s *Service) fail(ctx context.Context, tx bun.Tx, b *database.Bucket) (bool, error) {
	w := &Batch{Tx: tx}
	blocked, err := s.queueFail(w, b)
	if err != nil {
		return false, err
	}
	return blocked, w.Flush(ctx)
}

func (s *Service) queueFail(w *Batch, b *database.Bucket) (bool, error) {
	b.Failures++
	cols := []string{"failures"}
	blocked := b.Failures >= MaxFailures
	if blocked {
		now := s.now()
		b.State, b.BlockedAt, b.BlockedProbes = database.BucketBlocked, &now, 0
		b.OTPHash, b.OTPExpiresAt = nil, nil
		cols = append(cols, "state", "blocked_at", "blocked_probes", "otp_hash", "otp_expires_at")
	}
	if err := w.Add(w.Tx.NewUpdate().Model(b).Column(cols...).WherePK()); err != nil {
		return false, err
	}
	if blocked {
		e := audit.System().Event(audit.BucketBlock, &b.DepartmentID, map[string]any{"failures": b.Failures})
		e.BucketID = &b.ID
		return true, w.Add(audit.Insert(w.Tx, e))
	}
	return false, nil
}

// succeed resets the counter of a fully signed-in bucket.
func (s *Service) succeed(ctx context.Context, tx bun.Tx, b *database.Bucket) error {
	w := &Batch{Tx: tx}
	if err := s.queueSucceed(w, b); err != nil {
		return err
	}
	return w.Flush(ctx)
}

func (s *Service) queueSucceed(w *Batch, b *database.Bucket) error {
	now := s.now()
	b.Failures, b.LastAccessAt = 0, &now
	return w.Add(w.Tx.NewUpdate().Model(b).Column("failures", "last_access_at").WherePK())
}

func (s *Service) record(ctx context.Context, db bun.IDB, b *database.Bucket, action, outcome, ip string, details map[string]any) error {
	return audit.Record(ctx, db, patientEvent(b, action, outcome, ip, details))
}

func (s *Service) queueRecord(w *Batch, b *database.Bucket, action, outcome, ip string, details map[string]any) error {
	return w.Add(audit.Insert(w.Tx, patientEvent(b, action, outcome, ip, details)))
}

func patientEvent(b *database.Bucket, action, outcome, ip string, details map[string]any) *audit.Event {
	if b == nil {
		e := audit.Patient(nil, ip).Event(action, nil, details)
		e.Outcome = outcome
		return e
	}
	e := audit.Patient(&b.ID, ip).Event(action, &b.DepartmentID, details)
	e.Outcome = outcome
	return e
}

// OnlyStudy is the bucket's study when it holds exactly one with images (a
// signed-in patient goes straight to its viewer), else 0. It reads two ids
// and counts, not whole study rows: it runs inside every sign-in.
func (s *Service) OnlyStudy(ctx context.Context, db bun.IDB, bucketID int64) (int64, error) {
	var rows []struct {
		ID           int64 `bun:"id"`
		NumInstances int   `bun:"num_instances"`
	}
	if err := db.NewRaw(`SELECT s.id, s.num_instances FROM bucket_studies bs JOIN studies s ON s.id = bs.study_id
		WHERE bs.bucket_id = ? LIMIT 2`, bucketID).Scan(ctx, &rows); err != nil {
		return 0, err
	}
	if len(rows) != 1 || rows[0].NumInstances == 0 {
		return 0, nil
	}
	return rows[0].ID, nil
}

func sameDate(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd
}

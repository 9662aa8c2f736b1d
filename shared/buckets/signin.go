package buckets

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/driver/pgdriver"

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
	// OnlyStudy is, for an Open sign-in, the bucket's study when it holds
	// exactly one with images (the patient goes straight to its viewer), else 0.
	OnlyStudy int64
}

// SignIn checks a reference number and a birth date. The check is atomic
// per bucket: parallel attempts are counted one by one and never more than
// MaxFailures comparisons are made. A wrong birth date counts a failure; a
// right one resets the counter only where it is the last factor (a "dob"
// bucket): for SMS and e-mail buckets only the right one-time password
// does, so knowing the birth date gives no extra guesses.
func (s *Service) SignIn(ctx context.Context, n refnum.Number, birth time.Time, ip string) (*Attempt, error) {
	return s.SignInThen(ctx, n, birth, ip, nil)
}

// SignInThen is SignIn with then called once the outcome is known (then may
// be nil): the writes then adds to w (the session row, the address's
// counter) commit with the sign-in's own and its audit row, or none does.
// then only queues writes; it reads nothing (the bucket's only study comes
// with the attempt). It may run twice: when the bucket changed between the
// read and the write, nothing of the first run is stored and the sign-in
// runs again.
//
// One sign-in is two round trips and no transaction held open between
// them: the bucket row read without a lock (with its patient, department,
// only study and row version), the rules applied in Go (check), then one
// message with bucket_unchanged (locks the row, fails if it is no longer the
// version read) and every write, which PostgreSQL runs as one transaction.
// When the row changed in between (parallel tries on one bucket), the
// sign-in runs again inside a transaction that holds the row lock from the
// read to the commit, so the counters stay exact under any concurrency.
func (s *Service) SignInThen(ctx context.Context, n refnum.Number, birth time.Time, ip string,
	then func(ctx context.Context, a *Attempt, w *Batch) error) (*Attempt, error) {
	a, err := s.signInThen(ctx, n, birth, ip, then)
	if err != nil {
		s.Metrics.SignIn("error", false)
	} else {
		s.Metrics.SignIn(a.Outcome.String(), a.JustBlocked)
	}
	return a, err
}

func (s *Service) signInThen(ctx context.Context, n refnum.Number, birth time.Time, ip string,
	then func(ctx context.Context, a *Attempt, w *Batch) error) (*Attempt, error) {
	hash := refnum.Hash(s.Key, n)
	release, err := s.gate.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	a, err := s.signIn(ctx, s.DB, false, hash, birth, ip, then)
	if !isSerializationFailure(err) {
		return a, err
	}
	err = database.InTx(ctx, s.DB, func(ctx context.Context, tx bun.Tx) error {
		a, err = s.signIn(ctx, tx, true, hash, birth, ip, then)
		return err
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// SignInSlots is how many sign-ins talk to PostgreSQL at once; the others
// wait their turn in arrival order. database/sql hands a freed connection
// to a random waiter, so when more requests want a connection than the
// pool has (32), some wait many turns while later ones pass: under a burst
// that random order, not the work, made the slowest sign-ins. With fewer
// sign-ins in flight than connections, a sign-in never waits for the pool,
// and the queue in front of it is first come, first served. A quarter of
// the pool leaves the rest to the other requests; at full speed on two
// cores 8 did better than 16 (docs/performance.md).
const SignInSlots = 8

// signInGate admits sign-ins in arrival order (a channel's blocked senders
// are woken first in, first out).
type signInGate struct {
	once  sync.Once
	slots chan struct{}
}

func (g *signInGate) enter(ctx context.Context) (release func(), err error) {
	g.once.Do(func() { g.slots = make(chan struct{}, SignInSlots) })
	select {
	case g.slots <- struct{}{}:
		return func() { <-g.slots }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// signIn is one sign-in through db: unlocked with the version check (db is
// the pool), or under the row lock (db is a transaction).
func (s *Service) signIn(ctx context.Context, db bun.IDB, lock bool, hash []byte, birth time.Time, ip string,
	then func(ctx context.Context, a *Attempt, w *Batch) error) (*Attempt, error) {
	b, version, only, err := s.forSignIn(ctx, db, hash, lock)
	if err != nil {
		return nil, err
	}
	a := &Attempt{Outcome: Refused}
	w := &Batch{DB: db}
	if b != nil && !lock {
		if err := w.Add(db.NewRaw(`SELECT bucket_unchanged(?, ?::xid)`, b.ID, version)); err != nil {
			return nil, err
		}
	}
	if err := s.check(w, b, birth, ip, a); err != nil {
		return nil, err
	}
	if a.Outcome == Open {
		a.OnlyStudy = only
	}
	if then != nil {
		if err := then(ctx, a, w); err != nil {
			return nil, err
		}
	}
	if err := w.Flush(ctx); err != nil {
		return nil, err
	}
	return a, nil
}

// isSerializationFailure reports SQLSTATE 40001 (bucket_unchanged's answer).
func isSerializationFailure(err error) bool {
	var pgErr pgdriver.Error
	return errors.As(err, &pgErr) && pgErr.Field('C') == "40001"
}

// Batch gathers the writes of one sign-in and sends them in one round trip
// (one simple-protocol message: PostgreSQL runs its statements in order as
// one transaction, or inside the caller's, and stops at the first error).
// Queries are built on DB, or on Tx where only that is set.
type Batch struct {
	DB bun.IDB
	Tx bun.Tx
	qs []string
}

// On is what the batch's queries are built on and sent through.
func (w *Batch) On() bun.IDB {
	if w.DB != nil {
		return w.DB
	}
	return w.Tx
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
	_, err := w.On().ExecContext(ctx, strings.Join(w.qs, ";\n"))
	w.qs = nil
	return err
}

// check runs the sign-in's rules on bucket b (nil: no bucket has the
// number), fills a and queues the writes on w.
func (s *Service) check(w *Batch, b *database.Bucket, birth time.Time, ip string, a *Attempt) error {
	if b == nil {
		// The same audit write as a wrong birth date: the same work, the same timing class.
		return s.queueRecord(w, nil, audit.PatientSignInFail, "unknown", ip, nil)
	}
	match := b.Patient.BirthDate != nil && sameDate(*b.Patient.BirthDate, birth)
	switch {
	case b.State == database.BucketBlocked || b.State == database.BucketRevoked:
		// A closed bucket compares birth dates only MaxBlockedProbes
		// times: else "blocked"/"revoked" against the one refusal would be
		// an unlimited birth-date oracle.
		b.BlockedProbes++
		if err := w.Add(w.On().NewRaw(`UPDATE buckets SET blocked_probes = ? WHERE id = ?`, b.BlockedProbes, b.ID)); err != nil {
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
	if b.Failures < MaxFailures {
		return false, w.Add(w.On().NewRaw(`UPDATE buckets SET failures = ? WHERE id = ?`, b.Failures, b.ID))
	}
	now := s.now()
	b.State, b.BlockedAt, b.BlockedProbes = database.BucketBlocked, &now, 0
	b.OTPHash, b.OTPExpiresAt = nil, nil
	if err := w.Add(w.On().NewRaw(`UPDATE buckets SET failures = ?, state = ?, blocked_at = ?, blocked_probes = 0,
		otp_hash = NULL, otp_expires_at = NULL WHERE id = ?`, b.Failures, b.State, now, b.ID)); err != nil {
		return false, err
	}
	e := audit.System().Event(audit.BucketBlock, &b.DepartmentID, map[string]any{"failures": b.Failures})
	e.BucketID = &b.ID
	return true, w.Add(audit.Insert(w.On(), e))
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
	return w.Add(w.On().NewRaw(`UPDATE buckets SET failures = 0, last_access_at = ? WHERE id = ?`, now, b.ID))
}

func (s *Service) record(ctx context.Context, db bun.IDB, b *database.Bucket, action, outcome, ip string, details map[string]any) error {
	return audit.Record(ctx, db, patientEvent(b, action, outcome, ip, details))
}

func (s *Service) queueRecord(w *Batch, b *database.Bucket, action, outcome, ip string, details map[string]any) error {
	return w.Add(audit.Insert(w.On(), patientEvent(b, action, outcome, ip, details)))
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

// warmSQL plans a sign-in's writes on a new PostgreSQL backend, changing
// nothing (EXPLAIN opens the tables and their indexes).
const warmSQL = `EXPLAIN UPDATE buckets SET failures = 0, last_access_at = now() WHERE id = 0;
	EXPLAIN INSERT INTO audit_events (action, details) VALUES ('warm', '{}');
	EXPLAIN INSERT INTO sessions (id_hash, kind, data, expires_at) VALUES ('\x', 'patient', '\x', now())`

// Warm opens SignInSlots pool connections at once and runs a sign-in's
// statements on each, storing nothing (one transaction each, rolled back):
// warmSQL, the prepared bucket reads (database/sql prepares them on that
// connection; Get's too) and bucket_unchanged (compiled on its first call). A new
// backend's first sign-in costs tens of milliseconds more than the next
// (catalog caches, plans, the PL/pgSQL compile); when the pool grew under
// the first burst of sign-ins, every request waited for those on two cores,
// and that burst was most of the slowest percent of a load run.
// `radpass serve` warms before it listens.
func (s *Service) Warm(ctx context.Context) error {
	txs := make([]bun.Tx, 0, SignInSlots)
	defer func() {
		for _, tx := range txs {
			_ = tx.Rollback()
		}
	}()
	for range SignInSlots { // all open at once: each on a connection of its own
		tx, err := s.DB.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		txs = append(txs, tx)
	}
	errs := make(chan error, len(txs))
	for _, tx := range txs {
		go func() { errs <- s.warm(ctx, tx) }()
	}
	var first error
	for range txs {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (s *Service) warm(ctx context.Context, tx bun.Tx) error {
	if _, err := tx.ExecContext(ctx, warmSQL); err != nil {
		return err
	}
	for _, lock := range []bool{false, true} {
		if _, _, _, err := s.forSignIn(ctx, tx, []byte{}, lock); err != nil {
			return err
		}
	}
	byID, err := s.reads.get(ctx, s.DB, readByID)
	if err != nil {
		return err
	}
	rows, err := tx.Tx.StmtContext(ctx, byID).QueryContext(ctx, int64(0))
	if err != nil {
		return err
	}
	if err := rows.Close(); err != nil {
		return err
	}
	// No bucket has id 0: the answer is bucket_unchanged's 40001 (last:
	// it ends the transaction's usefulness).
	_, err = tx.ExecContext(ctx, `SELECT bucket_unchanged(0, '0'::xid)`)
	if isSerializationFailure(err) {
		err = nil
	}
	return err
}

package buckets

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/radpass/radpass/shared/database"
)

// bucketColumns are a bucket with its patient and department in the order
// scanBucket reads them: every patient request and every sign-in reads one
// bucket, and bun's reflection over the three models was a fifth of a
// sign-in's CPU. version is the row version (xmin) a sign-in decided on.
const bucketColumns = `b.id, b.ref_hash, b.department_id, b.patient_id, b.verification, b.destination, b.scope,
	b.valid_until, b.reason, b.language, b.anonymized, b.anon_number, b.message, coalesce(b.created_by, 0), b.created_by_token, b.state,
	b.failures, b.created_at, b.otp_hash, b.otp_expires_at, b.blocked_at, b.blocked_probes, b.last_access_at,
	b.form_token_hash, b.xmin::text,
	p.id, p.department_id, p.patient_id, p.family_name, p.given_name, p.middle_name, p.name_prefix,
	p.name_suffix, p.birth_date, p.sex, p.created_at,
	d.id, d.code, d.name, d.address, d.phone, d.email, d.contact, d.default_validity_n,
	d.default_validity_unit, d.max_validity_n, d.max_validity_unit, d.sms_prefixes, d.sms_sender,
	d.verifications, d.created_at`

const bucketFrom = ` FROM buckets b JOIN patients p ON p.id = b.patient_id JOIN departments d ON d.id = b.department_id`

// scanBucket reads one row of bucketColumns (and extra, appended) into a
// bucket with its Patient and Department; version is the row's xmin.
func scanBucket(row interface{ Scan(...any) error }, extra ...any) (b *database.Bucket, version string, err error) {
	b = &database.Bucket{Patient: new(database.Patient), Department: new(database.Department)}
	p, d := b.Patient, b.Department
	dest := []any{&b.ID, &b.RefHash, &b.DepartmentID, &b.PatientID, &b.Verification, &b.Destination, &b.Scope,
		date{&b.ValidUntil}, &b.Reason, &b.Language, &b.Anonymized, &b.AnonNumber, &b.Message, &b.CreatedBy, &b.CreatedByToken, &b.State,
		&b.Failures, &b.CreatedAt, &b.OTPHash, &b.OTPExpiresAt, &b.BlockedAt, &b.BlockedProbes, &b.LastAccessAt,
		&b.FormTokenHash, &version,
		&p.ID, &p.DepartmentID, &p.PatientID, &p.FamilyName, &p.GivenName, &p.MiddleName, &p.NamePrefix,
		&p.NameSuffix, nullDate{&p.BirthDate}, &p.Sex, &p.CreatedAt,
		&d.ID, &d.Code, &d.Name, &d.Address, &d.Phone, &d.Email, &d.Contact, &d.DefaultValidityN,
		&d.DefaultValidityUnit, &d.MaxValidityN, &d.MaxValidityUnit, pgdialect.Array(&d.SMSPrefixes), &d.SMSSender,
		pgdialect.Array(&d.Verifications), &d.CreatedAt}
	if err := row.Scan(append(dest, extra...)...); err != nil {
		return nil, "", err
	}
	return b, version, nil
}

// date scans a PostgreSQL date (the driver hands it over as text) as UTC
// midnight, as bun does for `type:date` fields.
type date struct{ t *time.Time }

func (d date) Scan(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("buckets: date %T", v)
	}
	t, err := time.ParseInLocation(time.DateOnly, s, time.UTC)
	*d.t = t
	return err
}

// nullDate is date for a nullable column.
type nullDate struct{ t **time.Time }

func (d nullDate) Scan(v any) error {
	if v == nil {
		*d.t = nil
		return nil
	}
	t := new(time.Time)
	*d.t = t
	return date{t}.Scan(v)
}

// Get loads bucket id with its patient and department (every signed-in
// patient request does: a prepared statement, like the sign-in's read).
func (s *Service) Get(ctx context.Context, id int64) (*database.Bucket, error) {
	stmt, err := s.reads.get(ctx, s.DB, readByID)
	if err != nil {
		return nil, err
	}
	b, _, err := scanBucket(stmt.QueryRowContext(ctx, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return b, err
}

// onlyStudyColumn is the bucket's study when it holds exactly one with
// images (a signed-in patient goes straight to its viewer), else NULL.
const onlyStudyColumn = `(SELECT CASE WHEN count(*) = 1 AND max(o.num_instances) > 0 THEN max(o.id) END
	FROM (SELECT s.id, s.num_instances FROM bucket_studies bs JOIN studies s ON s.id = bs.study_id
	WHERE bs.bucket_id = b.id LIMIT 2) o)`

// forSignIn reads the bucket of a reference number's hash for a sign-in,
// with its version and its only study (0: none), under the row lock when
// lock is set (db is then a transaction). No bucket is (nil, nil). The read
// is a prepared statement: planning the three-table join with its subquery
// took 0.3-0.6 ms of PostgreSQL's CPU per sign-in, more than running it.
func (s *Service) forSignIn(ctx context.Context, db bun.IDB, hash []byte, lock bool) (b *database.Bucket, version string, only int64, err error) {
	which := readByHash
	if lock {
		which = readByHashLocked
	}
	stmt, err := s.reads.get(ctx, s.DB, which)
	if err != nil {
		return nil, "", 0, err
	}
	if tx, ok := db.(bun.Tx); ok {
		stmt = tx.Tx.StmtContext(ctx, stmt)
		defer stmt.Close()
	}
	var study sql.NullInt64
	b, version, err = scanBucket(stmt.QueryRowContext(ctx, hash), &study)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", 0, nil
	}
	return b, version, study.Int64, err
}

// The prepared bucket reads.
const (
	readByHash = iota
	readByHashLocked
	readByID
)

// bucketReads are the prepared bucket reads, prepared once for the pool
// (database/sql prepares them again on each connection that runs them).
type bucketReads struct {
	mu    sync.Mutex
	stmts []*sql.Stmt
}

func (r *bucketReads) get(ctx context.Context, db *bun.DB, which int) (*sql.Stmt, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stmts == nil {
		byHash := "SELECT " + bucketColumns + ", " + onlyStudyColumn + bucketFrom + " WHERE b.ref_hash = $1"
		var stmts []*sql.Stmt
		for _, q := range []string{byHash, byHash + " FOR UPDATE OF b", "SELECT " + bucketColumns + bucketFrom + " WHERE b.id = $1"} {
			st, err := db.DB.PrepareContext(ctx, q)
			if err != nil {
				for _, st := range stmts {
					st.Close()
				}
				return nil, err
			}
			stmts = append(stmts, st)
		}
		r.stmts = stmts
	}
	return r.stmts[which], nil
}

// ForStaff loads bucket id if u may see its department (ErrNotFound otherwise:
// another department's bucket looks like no bucket at all).
func (s *Service) ForStaff(ctx context.Context, u *database.User, id int64) (*database.Bucket, error) {
	if u == nil || id <= 0 {
		return nil, ErrNotFound
	}
	b, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if !u.CanSeeDepartment(b.DepartmentID) {
		return nil, ErrNotFound
	}
	return b, nil
}

// Studies are the studies of a bucket, newest first.
func (s *Service) Studies(ctx context.Context, bucketID int64) ([]*database.Study, error) {
	var studies []*database.Study
	err := s.DB.NewSelect().Model(&studies).
		Where("?TableAlias.id IN (SELECT study_id FROM bucket_studies WHERE bucket_id = ?)", bucketID).
		OrderExpr("?TableAlias.study_date DESC NULLS LAST, ?TableAlias.id DESC").Scan(ctx)
	return studies, err
}

// StudyIDs lists the ids of studies.
func StudyIDs(studies []*database.Study) []int64 {
	ids := make([]int64, len(studies))
	for i, st := range studies {
		ids[i] = st.ID
	}
	return ids
}

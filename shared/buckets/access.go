package buckets

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/radpass/radpass/shared/database"
)

// Viewer is whoever asks to see patient data: a staff user, or a patient
// signed in to one bucket. Exactly one of the two is set. Share narrows a
// bucket's viewer to what a share shows (a doctor signed in through it):
// every check below applies it, so the doctor uses the patient's own code
// paths and sees only the shared studies.
type Viewer struct {
	User   *database.User
	Bucket *database.Bucket
	Share  *ShareScope
}

// ShareScope is what a share shows of its bucket: these studies (only while
// they are still in the bucket), and their reports only when Report is set.
type ShareScope struct {
	ID      int64
	Studies map[int64]bool
	Report  bool
	Until   time.Time // the share's last day (never after its access's)
}

// Staff and Patient make viewers; Shared is a doctor's, narrowed to scope.
func Staff(u *database.User) Viewer     { return Viewer{User: u} }
func Patient(b *database.Bucket) Viewer { return Viewer{Bucket: b} }
func Shared(b *database.Bucket, scope *ShareScope) Viewer {
	return Viewer{Bucket: b, Share: scope}
}

// Sees reports whether the viewer's share (if any) includes study id.
func (v Viewer) Sees(studyID int64) bool  { return v.Share == nil || v.Share.Studies[studyID] }
func (v Viewer) IsPatient() bool          { return v.Bucket != nil }
func (v Viewer) valid() bool              { return (v.User == nil) != (v.Bucket == nil) }
func (v Viewer) seesDept(dept int64) bool { return v.User != nil && v.User.CanSeeDepartment(dept) }

// InstanceRef is an instance with what the access check and the image and
// download handlers need.
type InstanceRef struct {
	ID             int64  `bun:"id"`
	SOPUID         string `bun:"sop_uid"`
	StorageKey     string `bun:"storage_key"`
	Frames         int    `bun:"frames"`
	SizeBytes      int64  `bun:"size_bytes"`
	SeriesID       int64  `bun:"series_id"`
	StudyID        int64  `bun:"study_id"`
	DepartmentID   int64  `bun:"department_id"`
	TransferSyntax string `bun:"transfer_syntax"`
	PixelFacts
}

// inBucket is the SQL condition "study ?study is one of bucket ?".
const inBucket = `EXISTS (SELECT 1 FROM bucket_studies bs WHERE bs.bucket_id = ? AND bs.study_id = `

// Study loads study id with its patient if v may see it; anything else is
// ErrNotFound, so ids of other departments or buckets reveal nothing.
func (s *Service) Study(ctx context.Context, v Viewer, id int64) (*database.Study, error) {
	if !v.valid() || id <= 0 || !v.Sees(id) {
		return nil, ErrNotFound
	}
	st := new(database.Study)
	q := s.DB.NewSelect().Model(st).Relation("Patient").Where("study.id = ?", id)
	if v.IsPatient() {
		q = q.Where(inBucket+"study.id)", v.Bucket.ID)
	}
	err := q.Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if !v.IsPatient() && !v.seesDept(st.DepartmentID) {
		return nil, ErrNotFound
	}
	return st, nil
}

// Series checks that series id belongs to study studyID (already checked for v).
func (s *Service) Series(ctx context.Context, studyID, id int64) (*database.Series, error) {
	se := new(database.Series)
	err := s.DB.NewSelect().Model(se).Where("id = ? AND study_id = ?", id, studyID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return se, err
}

// Instance loads instance id if v may see it: for an anonymized bucket, not
// an instance whose pixels may show the patient's name (LeftOut).
func (s *Service) Instance(ctx context.Context, v Viewer, id int64) (*InstanceRef, error) {
	if !v.valid() || id <= 0 {
		return nil, ErrNotFound
	}
	ref := new(InstanceRef)
	q := `SELECT i.id, i.sop_uid, i.storage_key, i.frames, i.size_bytes, i.series_id, i.transfer_syntax,
		i.sop_class_uid, i.burned_in, st.id AS study_id, st.department_id
		FROM instances i JOIN series se ON se.id = i.series_id JOIN studies st ON st.id = se.study_id
		WHERE i.id = ?`
	args := []any{id}
	if v.IsPatient() {
		q += ` AND ` + inBucket + `st.id)`
		args = append(args, v.Bucket.ID)
	}
	err := s.DB.NewRaw(q, args...).Scan(ctx, ref)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if !v.IsPatient() && !v.seesDept(ref.DepartmentID) || !v.Sees(ref.StudyID) || LeftOut(v, ref.PixelFacts) {
		return nil, ErrNotFound
	}
	return ref, nil
}

// ReportAllowed is the one rule for a patient's report: the scope includes
// it, the bucket is not anonymized, a final report exists (a preliminary one
// is not released to patients) and its "available for patient" time has
// passed. Staff of the department read reports at once.
func ReportAllowed(v Viewer, st *database.Study, now time.Time) bool {
	if st.ReportText == "" && st.ReportPDFKey == "" {
		return false
	}
	if !v.IsPatient() {
		return v.seesDept(st.DepartmentID)
	}
	if !v.Bucket.ReportAllowed() || st.ReportStatus != "final" || v.Share != nil && (!v.Share.Report || !v.Sees(st.ID)) {
		return false
	}
	return st.ReportAvailableAt == nil || !st.ReportAvailableAt.After(now)
}

// Report loads study id for its report, ErrNotFound unless v may read it.
func (s *Service) Report(ctx context.Context, v Viewer, id int64) (*database.Study, error) {
	st, err := s.Study(ctx, v, id)
	if err != nil {
		return nil, err
	}
	if !ReportAllowed(v, st, s.now()) {
		return nil, ErrNotFound
	}
	return st, nil
}

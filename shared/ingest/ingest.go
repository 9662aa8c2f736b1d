// Package ingest stores DICOM instances: file to content-addressed storage,
// header parsed from the stored copy, metadata to PostgreSQL in one
// transaction per instance. An instance is idempotent by SOP Instance UID;
// a file that fails is removed again, so nothing is ever half-written.
package ingest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/metrics"
	"github.com/radpass/radpass/shared/storage"
)

// Outcome of one instance.
type Outcome int

// Outcomes.
const (
	Added Outcome = iota
	AlreadyPresent
	Rejected
)

// Reason codes of a rejection (STOW-RS maps them to DICOM failure reasons).
const (
	ReasonInvalid  = "invalid"  // not DICOM, broken, missing UIDs
	ReasonMismatch = "mismatch" // wrong study for the request, or another department's study
	ReasonInternal = "internal" // storage or database failure
)

// Result describes what happened to one instance.
type Result struct {
	Name           string
	Outcome        Outcome
	Code           string // reason code when rejected
	Reason         string // English, for the operator (never shown to patients)
	SOPClassUID    string
	SOPInstanceUID string
	StudyUID       string
	StudyID        int64
	NewStudy       bool
	NewSeries      bool
	Bytes          int64
	Err            error // the reader's own error when the file could not be read
}

// sourceReader remembers an error of the reader Import was given, to tell a
// broken upload from a storage failure.
type sourceReader struct {
	r   io.Reader
	err error
}

func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		s.err = err
	}
	return n, err
}

// Importer stores instances for one department.
type Importer struct {
	DB           *bun.DB
	Store        storage.Store
	DepartmentID int64
	Log          *slog.Logger     // optional
	Workers      int              // parallel files in ImportPaths (1 when 0)
	Metrics      *metrics.Metrics // counts instances, bytes and rejects (nil: off)
}

var (
	errAlready    = errors.New("already present")
	errOtherStudy = errors.New("the series belongs to another study")
	// An instance naming a known study but another patient is misfiled: it
	// must not show up in the first patient's letters and viewer.
	errOtherPatient = errors.New("the study belongs to another patient")
	errStudyNotReq  = errors.New("the instance is not part of the study named in the request")
)

// Option narrows what Import accepts.
type Option func(*options)

type options struct{ studyUID string }

// WithStudy rejects instances of any other study (STOW-RS to /studies/{uid}).
func WithStudy(uid string) Option { return func(o *options) { o.studyUID = uid } }

// Import stores one instance read from r (streamed to storage, never held in memory).
func (im *Importer) Import(ctx context.Context, name string, r io.Reader, opts ...Option) Result {
	res := im.importOne(ctx, name, r, opts...)
	if im.Metrics != nil {
		var bytes int64
		if res.Outcome == Added {
			bytes = res.Bytes
		}
		im.Metrics.Import([...]string{"added", "already_present", "rejected"}[res.Outcome], res.Code, bytes)
	}
	return res
}

func (im *Importer) importOne(ctx context.Context, name string, r io.Reader, opts ...Option) Result {
	var o options
	for _, f := range opts {
		f(&o)
	}
	res := Result{Name: name}
	src := &sourceReader{r: r}
	key, size, created, err := im.Store.Put(ctx, src)
	if err != nil && src.err != nil && ctx.Err() == nil {
		// The sender's fault (a truncated upload, a body over its limit), not
		// ours: nothing was stored, and it is no server error.
		if im.Log != nil {
			im.Log.Warn("ingest: the file could not be read to its end", "file", name, "error", src.err.Error())
		}
		res.Err = src.err
		return im.reject(res, ReasonInvalid, "the file ended early or could not be read", nil)
	}
	if err != nil {
		return im.reject(res, ReasonInternal, "could not store the file", err)
	}
	res.Bytes = size
	cleanup := func() {
		if !created {
			return
		}
		if _, err := DeleteUnreferenced(ctx, im.DB, im.Store, key, 0); err != nil && im.Log != nil {
			im.Log.Error("ingest cleanup failed", "key", key, "error", err.Error())
		}
	}
	if size == 0 {
		cleanup()
		return im.reject(res, ReasonInvalid, "empty file", nil)
	}
	blob, err := im.Store.Open(ctx, key)
	if err != nil {
		cleanup()
		return im.reject(res, ReasonInternal, "could not read the stored file", err)
	}
	m, err := dicom.ReadMeta(blob, size)
	blob.Close()
	if err != nil {
		cleanup()
		reason := dicom.ErrNotDICOM.Error()
		if errors.Is(err, dicom.ErrMissingUID) {
			reason = dicom.ErrMissingUID.Error()
		}
		return im.reject(res, ReasonInvalid, reason, nil)
	}
	res.SOPClassUID, res.SOPInstanceUID, res.StudyUID = m.SOPClassUID, m.SOPInstanceUID, m.StudyUID
	if o.studyUID != "" && o.studyUID != m.StudyUID {
		cleanup()
		return im.reject(res, ReasonMismatch, errStudyNotReq.Error(), nil)
	}
	err = database.InTx(ctx, im.DB, func(ctx context.Context, tx bun.Tx) error {
		return im.save(ctx, tx, m, key, size, &res)
	})
	switch {
	case err == nil:
		res.Outcome = Added
		return res
	case errors.Is(err, errAlready):
		// The same SOP instance is stored already: keep that one.
		cleanup()
		res.Outcome = AlreadyPresent
		return res
	case errors.Is(err, errOtherStudy), errors.Is(err, errOtherPatient):
		cleanup()
		return im.reject(res, ReasonMismatch, err.Error(), nil)
	}
	cleanup()
	return im.reject(res, ReasonInternal, "could not save the metadata", err)
}

func (im *Importer) reject(res Result, code, reason string, err error) Result {
	res.Outcome, res.Code, res.Reason = Rejected, code, reason
	if err != nil && im.Log != nil {
		im.Log.Error("ingest failed", "file", res.Name, "reason", reason, "error", err.Error())
	}
	return res
}

// save writes patient, study, series and instance rows; counts follow.
//
// UIDs are a namespace per department: a study, series or instance UID that
// another department holds is no conflict here, and nothing of that
// department is looked at, so a department's token learns nothing about
// another's (the same study sent to two departments is stored for each; the
// identical files are stored once). Within the department the UIDs stay
// unique: an advisory lock per (department, UID) serialises concurrent
// imports of the same instance and of the same series.
func (im *Importer) save(ctx context.Context, tx bun.Tx, m *dicom.Meta, key string, size int64, res *Result) error {
	if err := lockUID(ctx, tx, "sop", im.DepartmentID, m.SOPInstanceUID); err != nil {
		return err
	}
	var have []int64
	if err := tx.NewRaw(`SELECT i.id FROM instances i JOIN series se ON se.id = i.series_id
		JOIN studies st ON st.id = se.study_id WHERE i.sop_uid = ? AND st.department_id = ?`, m.SOPInstanceUID, im.DepartmentID).Scan(ctx, &have); err != nil {
		return err
	}
	if len(have) > 0 {
		return errAlready
	}
	if err := lockBlob(ctx, tx, im.Store, key); err != nil {
		return err
	}
	pid := m.PatientID
	if pid == "" {
		pid = "UNKNOWN-" + m.StudyUID // no ID in the file: one patient per study
		if len(pid) > 64 {
			pid = pid[:64]
		}
	}
	p := &database.Patient{DepartmentID: im.DepartmentID, PatientID: pid, FamilyName: m.PatientName.Family, GivenName: m.PatientName.Given,
		MiddleName: m.PatientName.Middle, NamePrefix: m.PatientName.Prefix, NameSuffix: m.PatientName.Suffix, BirthDate: m.BirthDate, Sex: m.Sex}
	// Existing demographics win: the first instance of a patient defines them.
	if _, err := tx.NewInsert().Model(p).
		On("CONFLICT (department_id, patient_id) DO UPDATE").Set("patient_id = EXCLUDED.patient_id").
		Returning("id").Exec(ctx); err != nil {
		return err
	}

	study := &database.Study{DepartmentID: im.DepartmentID, PatientID: p.ID, StudyUID: m.StudyUID, StudyDate: m.StudyDate, StudyTime: m.StudyTime,
		Accession: m.Accession, Description: m.StudyDescription, Modalities: []string{}, ReferringPhysician: m.ReferringPhysician, ReportStatus: "none"}
	r, err := tx.NewInsert().Model(study).On("CONFLICT (department_id, study_uid) DO NOTHING").Returning("id").Exec(ctx)
	if err != nil {
		return err
	}
	if n, _ := r.RowsAffected(); n == 1 {
		res.NewStudy = true
	} else {
		var cur database.Study
		if err := tx.NewSelect().Model(&cur).Column("id", "patient_id").
			Where("department_id = ? AND study_uid = ?", im.DepartmentID, m.StudyUID).For("UPDATE").Scan(ctx); err != nil {
			return err
		}
		if cur.PatientID != p.ID {
			return errOtherPatient
		}
		study.ID = cur.ID
	}
	res.StudyID = study.ID

	if err := lockUID(ctx, tx, "series", im.DepartmentID, m.SeriesUID); err != nil {
		return err
	}
	series := &database.Series{StudyID: study.ID, SeriesUID: m.SeriesUID, Modality: m.Modality, Number: m.SeriesNumber,
		Description: m.SeriesDescription, BodyPart: m.BodyPart}
	var cur []database.Series
	if err := tx.NewRaw(`SELECT se.id, se.study_id FROM series se JOIN studies st ON st.id = se.study_id
		WHERE se.series_uid = ? AND st.department_id = ?`, m.SeriesUID, im.DepartmentID).Scan(ctx, &cur); err != nil {
		return err
	}
	switch {
	case len(cur) > 0 && cur[0].StudyID != study.ID:
		return errOtherStudy
	case len(cur) > 0:
		series.ID = cur[0].ID
	default:
		if _, err := tx.NewInsert().Model(series).Returning("id").Exec(ctx); err != nil {
			return err
		}
		res.NewSeries = true
	}

	inst := &database.Instance{SeriesID: series.ID, SOPUID: m.SOPInstanceUID, SOPClassUID: m.SOPClassUID, Number: m.InstanceNumber,
		Rows: m.Rows, Columns: m.Columns, Frames: m.Frames, TransferSyntax: m.TransferSyntax, BitsAllocated: m.BitsAllocated,
		BitsStored: m.BitsStored, Photometric: m.Photometric, WindowCenter: m.WindowCenter, WindowWidth: m.WindowWidth,
		StorageKey: key, SizeBytes: size, BurnedIn: &m.BurnedIn}
	r, err = tx.NewInsert().Model(inst).On("CONFLICT (series_id, sop_uid) DO NOTHING").Returning("id").Exec(ctx)
	if err != nil {
		return err
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return errAlready // cannot happen under the lock; kept as the last guard
	}
	if _, err := tx.NewUpdate().Table("series").Set("num_instances = num_instances + 1").Where("id = ?", series.ID).Exec(ctx); err != nil {
		return err
	}
	_, err = tx.NewRaw(`UPDATE studies SET num_instances = num_instances + 1,
		num_series = (SELECT count(*) FROM series WHERE study_id = ?0),
		modalities = COALESCE((SELECT array_agg(DISTINCT modality ORDER BY modality) FROM series WHERE study_id = ?0 AND modality <> ''), '{}')
		WHERE id = ?0`, study.ID).Exec(ctx)
	return err
}

// lockUID serialises, until the transaction ends, the imports of one UID of
// one kind in one department.
func lockUID(ctx context.Context, tx bun.Tx, kind string, deptID int64, uid string) error {
	_, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtextextended(?, 0))",
		fmt.Sprintf("%s:%d:%s", kind, deptID, uid))
	return err
}

// ErrNotFound: no such study in this department.
var ErrNotFound = errors.New("study not found")

// StudyByUID finds a study of the department (nil, ErrNotFound otherwise).
func StudyByUID(ctx context.Context, db bun.IDB, deptID int64, uid string) (*database.Study, error) {
	s := new(database.Study)
	err := db.NewSelect().Model(s).Where("study_uid = ? AND department_id = ?", uid, deptID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return s, err
}

// Department looks a department up by code.
func Department(ctx context.Context, db bun.IDB, code string) (*database.Department, error) {
	d := new(database.Department)
	err := db.NewSelect().Model(d).Where("code = ?", code).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("no department with code %q", code)
	}
	return d, err
}

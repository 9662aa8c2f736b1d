package buckets_test

import (
	"errors"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/database"
)

// Every way to ask for another bucket's or department's study answers
// ErrNotFound, exactly as a study that does not exist.
func TestAccessIsolation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	// A third north study of the same patient, in no bucket.
	outside := f.study(f.studies[0].Patient)
	a := f.print(database.VerifyDOB, f.studies[:1], nil)
	b := f.print(database.VerifyDOB, f.studies[1:], nil)
	s := f.print(database.VerifyDOB, f.southStudies, f.southStaff)
	for _, st := range []*database.Study{f.studies[0], f.studies[1], outside, f.southStudies[0]} {
		f.exec(`UPDATE studies SET report_text = 'No abnormality.', report_status = 'final' WHERE id = ?`, st.ID)
	}
	instA, instB, instOut, instS := f.instance(f.studies[0]), f.instance(f.studies[1]), f.instance(outside), f.instance(f.southStudies[0])

	cases := []struct {
		name     string
		v        buckets.Viewer
		study    int64
		instance int64
		visible  bool
	}{
		{"patient A, own study", buckets.Patient(a.b), f.studies[0].ID, instA, true},
		{"patient A, B's study", buckets.Patient(a.b), f.studies[1].ID, instB, false},
		{"patient B, A's study", buckets.Patient(b.b), f.studies[0].ID, instA, false},
		{"patient A, same patient's study in no bucket", buckets.Patient(a.b), outside.ID, instOut, false},
		{"patient A, another department's study", buckets.Patient(a.b), f.southStudies[0].ID, instS, false},
		{"south patient, north study", buckets.Patient(s.b), f.studies[0].ID, instA, false},
		{"north staff, north study", buckets.Staff(f.staff), f.studies[1].ID, instB, true},
		{"north staff, study in no bucket", buckets.Staff(f.staff), outside.ID, instOut, true},
		{"north staff, south study", buckets.Staff(f.staff), f.southStudies[0].ID, instS, false},
		{"north admin, south study", buckets.Staff(f.admin), f.southStudies[0].ID, instS, false},
		{"south staff, north study", buckets.Staff(f.southStaff), f.studies[0].ID, instA, false},
		{"service desk, south study", buckets.Staff(f.desk), f.southStudies[0].ID, instS, true},
		{"nobody", buckets.Viewer{}, f.studies[0].ID, instA, false},
		{"both at once", buckets.Viewer{User: f.desk, Bucket: a.b}, f.studies[0].ID, instA, false},
		{"no such study", buckets.Staff(f.desk), 1 << 40, 1 << 40, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, err := f.s.Study(f.ctx, tc.v, tc.study)
			if tc.visible != (err == nil) || (!tc.visible && !errors.Is(err, buckets.ErrNotFound)) {
				t.Errorf("Study: %v, visible %v", err, tc.visible)
			}
			if err == nil && st.ID != tc.study {
				t.Errorf("Study returned study %d", st.ID)
			}
			ref, err := f.s.Instance(f.ctx, tc.v, tc.instance)
			if tc.visible != (err == nil) || (!tc.visible && !errors.Is(err, buckets.ErrNotFound)) {
				t.Errorf("Instance: %v, visible %v", err, tc.visible)
			}
			if err == nil && ref.StudyID != tc.study {
				t.Errorf("Instance belongs to study %d", ref.StudyID)
			}
			_, err = f.s.Report(f.ctx, tc.v, tc.study)
			if tc.visible != (err == nil) || (!tc.visible && !errors.Is(err, buckets.ErrNotFound)) {
				t.Errorf("Report: %v, visible %v", err, tc.visible)
			}
		})
	}
}

// A patient reads a report only with the images_report scope, not
// anonymized, final, and once its available time has passed.
func TestReportForPatients(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	past, future := start.Add(-time.Minute), start.Add(time.Minute)
	cases := []struct {
		name       string
		scope      string
		anonymized bool
		status     string
		text       string
		available  *time.Time
		patient    bool
		staff      bool
	}{
		{"final, images and report", database.ScopeImagesReport, false, "final", "Normal.", &past, true, true},
		{"final, no available time", database.ScopeImagesReport, false, "final", "Normal.", nil, true, true},
		{"available at this very moment", database.ScopeImagesReport, false, "final", "Normal.", ptr(start), true, true},
		{"images only", database.ScopeImages, false, "final", "Normal.", &past, false, true},
		{"anonymized", database.ScopeImagesReport, true, "final", "Normal.", &past, false, true},
		{"preliminary", database.ScopeImagesReport, false, "preliminary", "Draft.", &past, false, true},
		{"not yet available", database.ScopeImagesReport, false, "final", "Normal.", &future, false, true},
		{"no report", database.ScopeImagesReport, false, "none", "", nil, false, false},
	}
	for _, tc := range cases {
		st := f.study(f.studies[0].Patient)
		f.exec(`UPDATE studies SET report_text = ?, report_status = ?, report_available_at = ? WHERE id = ?`, tc.text, tc.status, tc.available, st.ID)
		r := f.request(database.VerifyDOB)
		r.Scope, r.Anonymize = tc.scope, tc.anonymized
		p := f.printReq(r, []*database.Study{st}, nil)
		_, err := f.s.Report(f.ctx, buckets.Patient(f.bucket(p.b.ID)), st.ID)
		if tc.patient != (err == nil) || (err != nil && !errors.Is(err, buckets.ErrNotFound)) {
			t.Errorf("%s: patient's report: %v, want allowed %v", tc.name, err, tc.patient)
		}
		_, err = f.s.Report(f.ctx, buckets.Staff(f.staff), st.ID)
		if tc.staff != (err == nil) {
			t.Errorf("%s: staff's report: %v, want allowed %v", tc.name, err, tc.staff)
		}
		if _, err := f.s.Report(f.ctx, buckets.Staff(f.southStaff), st.ID); !errors.Is(err, buckets.ErrNotFound) {
			t.Errorf("%s: other department's staff read the report: %v", tc.name, err)
		}
	}
}

func ptr[T any](v T) *T { return &v }

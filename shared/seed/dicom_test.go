package seed_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/seed"
	"github.com/radpass/radpass/shared/storage"
	"github.com/radpass/radpass/shared/testdb"
)

func TestDICOMSamplesAttachToDemoPatients(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.New(t)
	if err := seed.Demo(ctx, db, 10); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	n, err := seed.DICOM(ctx, db, root)
	if err != nil || n != 6 {
		t.Fatalf("DICOM seed: %d %v", n, err)
	}
	// Every study with images belongs to a demo patient of its own department.
	var bad int
	if err := db.NewRaw(`SELECT count(*) FROM studies s JOIN patients p ON p.id = s.patient_id
		WHERE s.num_instances > 0 AND EXISTS (SELECT 1 FROM series se WHERE se.study_id = s.id)
		AND (p.patient_id NOT LIKE 'DEMO%' OR p.department_id <> s.department_id)`).Scan(ctx, &bad); err != nil {
		t.Fatal(err)
	}
	if bad != 0 {
		t.Fatalf("%d imported studies not attached to a demo patient", bad)
	}
	// No demo patient is born on or after the date of their sample study
	// (the samples go back to 1960, the demo patients to 1935–2014).
	var unborn int
	if err := db.NewRaw(`SELECT count(*) FROM studies s JOIN patients p ON p.id = s.patient_id
		WHERE EXISTS (SELECT 1 FROM series se WHERE se.study_id = s.id) AND p.birth_date >= s.study_date`).Scan(ctx, &unborn); err != nil {
		t.Fatal(err)
	}
	if unborn != 0 {
		t.Fatalf("%d sample studies dated before their patient's birth", unborn)
	}
	var dated int
	if err := db.NewRaw(`SELECT count(*) FROM studies s JOIN patients p ON p.id = s.patient_id
		WHERE EXISTS (SELECT 1 FROM series se WHERE se.study_id = s.id) AND p.birth_date IS NOT NULL AND s.study_date IS NOT NULL`).Scan(ctx, &dated); err != nil || dated == 0 {
		t.Fatalf("no sample study with both dates to compare (%v): the check above checked nothing", err)
	}
	var orphans int
	if err := db.NewRaw(`SELECT count(*) FROM patients p WHERE NOT EXISTS (SELECT 1 FROM studies s WHERE s.patient_id = p.id) AND p.patient_id NOT LIKE 'DEMO%'`).Scan(ctx, &orphans); err != nil {
		t.Fatal(err)
	}
	if orphans != 0 {
		t.Fatalf("%d imported patients left without studies", orphans)
	}
	var depts int
	if err := db.NewRaw(`SELECT count(DISTINCT s.department_id) FROM studies s JOIN series se ON se.study_id = s.id`).Scan(ctx, &depts); err != nil || depts != 2 {
		t.Fatalf("images in %d departments (%v), want 2", depts, err)
	}
	// The stored files are copies for the demo patients: their patient
	// attributes are the demo patient's, their UIDs none of the samples'.
	dir, err := dicom.SampleDir()
	if err != nil {
		t.Fatal(err)
	}
	sampleUIDs := map[string]bool{}
	for _, name := range dicom.SampleFiles {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		m, err := dicom.ReadMeta(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		sampleUIDs[m.SOPInstanceUID], sampleUIDs[m.StudyUID], sampleUIDs[m.SeriesUID] = true, true, true
	}
	var rows []struct {
		Key    string `bun:"storage_key"`
		PID    string `bun:"patient_id"`
		Family string `bun:"family_name"`
		Given  string `bun:"given_name"`
	}
	if err := db.NewRaw(`SELECT i.storage_key, p.patient_id, p.family_name, p.given_name FROM instances i
		JOIN series se ON se.id = i.series_id JOIN studies s ON s.id = se.study_id JOIN patients p ON p.id = s.patient_id`).Scan(ctx, &rows); err != nil {
		t.Fatal(err)
	}
	st, err := storage.NewFS(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		blob, err := st.Open(ctx, r.Key)
		if err != nil {
			t.Fatal(err)
		}
		m, err := dicom.ReadMeta(blob, blob.Size())
		blob.Close()
		if err != nil {
			t.Fatal(err)
		}
		if m.PatientID != r.PID || m.PatientName.Family != r.Family || m.PatientName.Given != r.Given {
			t.Errorf("file says %s %+v, the study belongs to %s %s^%s", m.PatientID, m.PatientName, r.PID, r.Family, r.Given)
		}
		if sampleUIDs[m.SOPInstanceUID] || sampleUIDs[m.StudyUID] || sampleUIDs[m.SeriesUID] {
			t.Errorf("demo copy %s reuses a sample UID", m.SOPInstanceUID)
		}
	}
	if len(rows) != 6 {
		t.Fatalf("%d stored instances, want 6", len(rows))
	}
	// Running it again adds nothing.
	if n, err := seed.DICOM(ctx, db, root); err != nil || n != 0 {
		t.Fatalf("second run: %d %v", n, err)
	}
}

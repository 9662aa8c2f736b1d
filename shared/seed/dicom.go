package seed

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/ingest"
	"github.com/radpass/radpass/shared/storage"
)

// sampleDepartment spreads the six real sample files over the demo departments.
var sampleDepartment = map[string]string{
	"1.dcm": "RAD-NORTH", "3.dcm": "RAD-NORTH", "5.dcm": "RAD-NORTH",
	"2.dcm": "RAD-SOUTH", "4.dcm": "RAD-SOUTH", "6.dcm": "RAD-SOUTH",
}

// DICOM imports the real DICOM files of the suyashkumar/dicom module's
// testdata folder (read from the Go module cache, never copied into the
// repository) into storageRoot and attaches each new study to a demo patient
// of its department, so a new user sees real images. It returns the number
// of instances added; running it again adds nothing.
func DICOM(ctx context.Context, db *bun.DB, storageRoot string) (int, error) {
	dir, err := dicom.SampleDir()
	if err != nil {
		return 0, err
	}
	st, err := storage.NewFS(storageRoot)
	if err != nil {
		return 0, err
	}
	added := 0
	for _, name := range dicom.SampleFiles {
		d, err := ingest.Department(ctx, db, sampleDepartment[name])
		if err != nil {
			return added, err
		}
		im := &ingest.Importer{DB: db, Store: st, DepartmentID: d.ID}
		sum, err := im.ImportPaths(ctx, []string{filepath.Join(dir, name)}, nil)
		if err != nil {
			return added, err
		}
		if len(sum.Rejected) > 0 {
			return added, fmt.Errorf("sample %s: %s", name, sum.Rejected[0].Reason)
		}
		added += sum.Instances
		if sum.Studies == 0 {
			continue
		}
		// The study arrived with its own (TCIA) patient: hand it to the next
		// demo patient of the department and drop the imported patient row.
		var studyID, importedPatient int64
		if err := db.NewRaw(`SELECT st.id, st.patient_id FROM studies st JOIN series se ON se.study_id = st.id
			JOIN instances i ON i.series_id = se.id
			WHERE st.department_id = ? ORDER BY i.id DESC LIMIT 1`, d.ID).Scan(ctx, &studyID, &importedPatient); err != nil {
			return added, err
		}
		demo, err := demoPatientFor(ctx, db, d.ID, studyID)
		if err != nil {
			return added, err
		}
		if demo == 0 {
			continue // no demo patients: keep the imported one
		}
		if _, err := db.NewRaw(`UPDATE studies SET patient_id = ? WHERE id = ?`, demo, studyID).Exec(ctx); err != nil {
			return added, err
		}
		if _, err := db.NewRaw(`DELETE FROM patients p WHERE p.id = ? AND NOT EXISTS (SELECT 1 FROM studies s WHERE s.patient_id = p.id)`,
			importedPatient).Exec(ctx); err != nil {
			return added, err
		}
	}
	return added, nil
}

// demoPatientFor picks the demo patient of dept that gets study: the first
// one without imaged studies yet who was born before the study date. The
// samples are old (one PET study is from 1960), so when no demo patient is
// that old, the first free one is made older: a demo patient "born" after
// their own study is nonsense on screen. It returns 0 when the department
// has no free demo patient.
func demoPatientFor(ctx context.Context, db *bun.DB, dept, study int64) (int64, error) {
	const free = `FROM patients p WHERE p.department_id = ? AND p.patient_id LIKE 'DEMO%'
		AND NOT EXISTS (SELECT 1 FROM studies s JOIN series se ON se.study_id = s.id WHERE s.patient_id = p.id)`
	var ids []int64
	if err := db.NewRaw(`SELECT p.id `+free+`
		AND (p.birth_date IS NULL OR p.birth_date < (SELECT coalesce(study_date, 'infinity'::date) FROM studies WHERE id = ?))
		ORDER BY p.patient_id LIMIT 1`, dept, study).Scan(ctx, &ids); err != nil {
		return 0, err
	}
	if len(ids) == 1 {
		return ids[0], nil
	}
	if err := db.NewRaw(`SELECT p.id `+free+` ORDER BY p.patient_id LIMIT 1`, dept).Scan(ctx, &ids); err != nil {
		return 0, err
	}
	if len(ids) == 0 {
		return 0, nil
	}
	// Born 45 years before the study, on the same day of the year.
	if _, err := db.NewRaw(`UPDATE patients SET birth_date = (SELECT study_date - interval '45 years' FROM studies WHERE id = ?)::date
		WHERE id = ?`, study, ids[0]).Exec(ctx); err != nil {
		return 0, err
	}
	return ids[0], nil
}

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
	nextDemo := map[int64]int{}
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
		var demo []int64
		if err := db.NewRaw(`SELECT id FROM patients WHERE department_id = ? AND patient_id LIKE 'DEMO%' ORDER BY patient_id OFFSET ? LIMIT 1`,
			d.ID, nextDemo[d.ID]).Scan(ctx, &demo); err != nil {
			return added, err
		}
		if len(demo) == 0 {
			continue // no demo patients: keep the imported one
		}
		nextDemo[d.ID]++
		if _, err := db.NewRaw(`UPDATE studies SET patient_id = ? WHERE id = ?`, demo[0], studyID).Exec(ctx); err != nil {
			return added, err
		}
		if _, err := db.NewRaw(`DELETE FROM patients p WHERE p.id = ? AND NOT EXISTS (SELECT 1 FROM studies s WHERE s.patient_id = p.id)`,
			importedPatient).Exec(ctx); err != nil {
			return added, err
		}
	}
	return added, nil
}

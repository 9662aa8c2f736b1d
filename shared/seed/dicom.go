package seed

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/ingest"
	"github.com/radpass/radpass/shared/storage"
	"github.com/radpass/radpass/shared/store"
)

// sampleDepartment spreads the six real sample files over the demo departments.
var sampleDepartment = map[string]string{
	"1.dcm": "RAD-NORTH", "3.dcm": "RAD-NORTH", "5.dcm": "RAD-NORTH",
	"2.dcm": "RAD-SOUTH", "4.dcm": "RAD-SOUTH", "6.dcm": "RAD-SOUTH",
}

// demoSalt makes the UIDs of the demo copies: new UIDs, the same on every
// run, so seeding again adds nothing.
const demoSalt = "radpass-demo"

// DICOM imports demo copies of the real DICOM files of the
// suyashkumar/dicom module's testdata folder (read from the Go module
// cache, never copied into the repository) into storageRoot. Each copy is
// made for a demo patient of its department: the file's patient name, ID,
// birth date and sex are the demo patient's and its study, series and
// instance UIDs are new (dicom.DerivedUID), so a downloaded file tells the
// truth and a PACS pushing the original samples does not collide with the
// demo. It returns the number of instances added; running it again adds
// nothing.
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
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return added, err
		}
		orig, err := dicom.ReadMeta(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return added, fmt.Errorf("sample %s: %w", name, err)
		}
		n, err := db.NewSelect().Table("instances").Where("sop_uid = ?", dicom.DerivedUID(demoSalt, orig.SOPInstanceUID)).Count(ctx)
		if err != nil {
			return added, err
		}
		if n > 0 {
			continue // seeded before
		}
		id := dicom.Identity{PatientID: orig.PatientID, Name: orig.PatientName, BirthDate: orig.BirthDate, Sex: orig.Sex}
		demo, err := demoPatientFor(ctx, db, d.ID, orig.StudyDate)
		if err != nil {
			return added, err
		}
		if demo != 0 {
			var p store.Patient
			if err := db.NewSelect().Model(&p).Where("id = ?", demo).Scan(ctx); err != nil {
				return added, err
			}
			id = dicom.Identity{PatientID: p.PatientID, BirthDate: p.BirthDate, Sex: p.Sex,
				Name: dicom.PersonName{Family: p.FamilyName, Given: p.GivenName, Middle: p.MiddleName, Prefix: p.NamePrefix, Suffix: p.NameSuffix}}
		}
		c, err := dicom.Copy(bytes.NewReader(b), int64(len(b)), id, demoSalt)
		if err != nil {
			return added, fmt.Errorf("sample %s: %w", name, err)
		}
		im := &ingest.Importer{DB: db, Store: st, DepartmentID: d.ID}
		res := im.Import(ctx, name, bytes.NewReader(c))
		switch res.Outcome {
		case ingest.Added:
			added++
		case ingest.Rejected:
			return added, fmt.Errorf("sample %s: %s", name, res.Reason)
		}
	}
	return added, nil
}

// demoPatientFor picks the demo patient of dept for a study of studyDate: the first
// one without imaged studies yet who was born before the study date. The
// samples are old (one PET study is from 1960), so when no demo patient is
// that old, the first free one is made older: a demo patient "born" after
// their own study is nonsense on screen. It returns 0 when the department
// has no free demo patient.
func demoPatientFor(ctx context.Context, db *bun.DB, dept int64, studyDate *time.Time) (int64, error) {
	const free = `FROM patients p WHERE p.department_id = ? AND p.patient_id LIKE 'DEMO%'
		AND NOT EXISTS (SELECT 1 FROM studies s JOIN series se ON se.study_id = s.id WHERE s.patient_id = p.id)`
	var ids []int64
	if err := db.NewRaw(`SELECT p.id `+free+`
		AND (p.birth_date IS NULL OR p.birth_date < coalesce(?::date, 'infinity'::date))
		ORDER BY p.patient_id LIMIT 1`, dept, studyDate).Scan(ctx, &ids); err != nil {
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
	if _, err := db.NewRaw(`UPDATE patients SET birth_date = (?::date - interval '45 years')::date
		WHERE id = ?`, studyDate, ids[0]).Exec(ctx); err != nil {
		return 0, err
	}
	return ids[0], nil
}

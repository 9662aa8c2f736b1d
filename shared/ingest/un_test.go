package ingest_test

import (
	"context"
	"os"
	"testing"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/ingest"
)

// pydicomTestFiles holds the public test files of Debian's python3-pydicom.
const pydicomTestFiles = "/usr/lib/python3/dist-packages/pydicom/data/test_files/"

// A valid file whose data set is all UN (converted from implicit VR by a
// tool that did not know the tags: pydicom's rtdose_rle.dcm) is imported
// with its SOP class, modality, patient and numbers read with the
// dictionary's VRs (PS3.5 6.2.2).
func TestImportUNValues(t *testing.T) {
	db, st, im, _ := setup(t)
	f, err := os.Open(pydicomTestFiles + "rtdose_rle.dcm")
	if err != nil {
		t.Fatalf("pydicom's test files (Debian python3-pydicom, scripts/deps.sh test): %v", err)
	}
	defer f.Close()
	res := im.Import(context.Background(), "rtdose_rle.dcm", f)
	if res.Outcome != ingest.Added {
		t.Fatalf("not imported: %+v", res)
	}
	var in database.Instance
	if err := db.NewSelect().Model(&in).Where("sop_uid = ?", "1.9.999.999.99.9.9999.9999.20030818153516").Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	if in.SOPClassUID != "1.2.840.10008.5.1.4.1.1.481.2" {
		t.Errorf("SOP class %q", in.SOPClassUID)
	}
	var se database.Series
	if err := db.NewSelect().Model(&se).Where("id = ?", in.SeriesID).Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	if se.Modality != "RTDOSE" || se.Number == nil || *se.Number != 1 {
		t.Errorf("series modality %q number %v", se.Modality, se.Number)
	}
	var p database.Patient
	if err := db.NewSelect().Model(&p).Join("JOIN studies AS s ON s.patient_id = patient.id").Where("s.id = ?", se.StudyID).Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	if p.PatientID != "id11111" || p.FamilyName != "Lastname" {
		t.Errorf("patient %q %q", p.PatientID, p.FamilyName)
	}
	_ = st
}

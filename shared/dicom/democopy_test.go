package dicom_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	rd "github.com/radpass/radpass/shared/dicom"
)

// TestCopy: a demo copy of every sample carries the new patient and new
// UIDs, keeps its pixels, and dcmtk reads it.
func TestCopy(t *testing.T) {
	dir, err := rd.SampleDir()
	if err != nil {
		t.Fatal(err)
	}
	born := time.Date(1950, 3, 4, 0, 0, 0, 0, time.UTC)
	id := rd.Identity{PatientID: "DEMO-7", Name: rd.PersonName{Family: "Fabre", Given: "Mats"}, BirthDate: &born, Sex: "M"}
	for _, name := range rd.SampleFiles {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			orig, err := rd.ReadMeta(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			c, err := rd.Copy(bytes.NewReader(b), int64(len(b)), id, "demo")
			if err != nil {
				t.Fatal(err)
			}
			dcmdump(t, c)
			m, err := rd.ReadMeta(bytes.NewReader(c), int64(len(c)))
			if err != nil {
				t.Fatal(err)
			}
			if m.PatientID != "DEMO-7" || m.PatientName.Family != "Fabre" || m.PatientName.Given != "Mats" || m.Sex != "M" ||
				m.BirthDate == nil || !m.BirthDate.Equal(born) {
				t.Fatalf("patient %+v %v %s", m.PatientName, m.BirthDate, m.PatientID)
			}
			if m.StudyUID != rd.DerivedUID("demo", orig.StudyUID) || m.SeriesUID == orig.SeriesUID || m.SOPInstanceUID == orig.SOPInstanceUID {
				t.Fatalf("UIDs not replaced: %s %s %s", m.StudyUID, m.SeriesUID, m.SOPInstanceUID)
			}
			_, want := decodeAll(t, b)
			_, got := decodeAll(t, c)
			if len(got) != len(want) {
				t.Fatalf("%d frames, want %d", len(got), len(want))
			}
			for f := range got {
				if d := maxDiff(t, got[f], want[f]); d != 0 {
					t.Fatalf("frame %d differs by %d", f, d)
				}
			}
		})
	}
}
